// RFC 7512 PKCS#11 URIs, the subset KeyRefs use: "pkcs11:token=<label>;id=%xx..;object=<label>".
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::keys::detail {

struct Pkcs11Uri {
  std::optional<std::string> token;   // token label
  std::optional<crypto::Bytes> id;    // CKA_ID
  std::optional<std::string> object;  // CKA_LABEL
};

// Every byte of `id` and every label byte outside RFC 3986 "unreserved" is percent-encoded.
std::string format_pkcs11_uri(std::string_view token, crypto::ByteView id, std::string_view object);

// Path attributes only; a query part ("?pin-value=...") and unknown attributes are ignored.
// Errc::malformed_input on a bad scheme, attribute or percent escape.
core::Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view uri);

}  // namespace cartorio::keys::detail
