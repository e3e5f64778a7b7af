// A secret version's metadata as the API and the CLI print it (never the value).
#pragma once

#include "secrets/secret_store.h"

#include <nlohmann/json.hpp>

namespace cartorio::secrets {

inline nlohmann::json info_json(const SecretInfo& i) {
  nlohmann::json j{{"name", i.name},           {"kind", to_string(i.kind)},
                   {"version", i.version},     {"created_at", i.created_at},
                   {"created_by", i.created_by}, {"reason", i.reason},
                   {"rotation_days", i.rotation_days}};
  if (auto due = i.rotation_due()) j["rotation_due"] = *due;
  return j;
}

}  // namespace cartorio::secrets
