// Text encodings the identity protocols need: base64url without padding (RFC 7515 2,
// RFC 4648 5) for JOSE and opaque tokens, base32 (RFC 4648 6) for TOTP secrets.
#pragma once

#include "crypto/bytes.h"

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::identity::detail {

std::string base64url_encode(crypto::ByteView data);
// Strict: the URL-safe alphabet only, no padding, no whitespace, and canonical (the unused
// low bits of the last character are zero), so one byte string has exactly one encoding
// and a token cannot be varied without changing its bytes. nullopt otherwise.
std::optional<crypto::Bytes> base64url_decode(std::string_view text);

// Upper case, without padding (what authenticator apps expect in otpauth URIs).
std::string base32_encode(crypto::ByteView data);
// Case-insensitive; '=' padding, spaces and '-' are ignored. nullopt on other characters.
std::optional<crypto::Bytes> base32_decode(std::string_view text);

}  // namespace cartorio::identity::detail
