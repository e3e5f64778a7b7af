// The JSON shape of a certificate record, shared by `cartorio cert ... --json` and the REST
// API (docs/api.md): times in RFC 3339 UTC, revocation fields only when revoked.
#pragma once

#include "store/store.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace cartorio::pki {

// "2026-11-25T14:30:00Z"; "" for 0.
std::string iso8601(std::int64_t unix_seconds);

nlohmann::ordered_json to_json(const store::CertificateRecord& r, bool with_pem);

}  // namespace cartorio::pki
