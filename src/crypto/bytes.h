// Byte strings and their text encodings.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::crypto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string to_string(ByteView b) { return {b.begin(), b.end()}; }

std::string to_hex(ByteView b, bool upper = false);
std::optional<Bytes> from_hex(std::string_view hex);
std::string to_base64(ByteView b);
std::optional<Bytes> from_base64(std::string_view b64);

// base64url without padding (RFC 4648 5, RFC 7515 2): JOSE, opaque tokens, signed links.
std::string to_base64url(ByteView data);
// Strict: the URL-safe alphabet only, no padding, no whitespace, and canonical (the unused
// low bits of the last character are zero), so one byte string has exactly one encoding
// and a token cannot be varied without changing its bytes. nullopt otherwise.
std::optional<Bytes> from_base64url(std::string_view text);

// base32 (RFC 4648 6), upper case, without padding (what authenticator apps expect in
// otpauth URIs).
std::string to_base32(ByteView data);
// Case-insensitive; '=' padding, spaces and '-' are ignored (typed by humans). nullopt on
// other characters.
std::optional<Bytes> from_base32(std::string_view text);

// Constant-time comparison for secrets (tokens, MACs, API keys).
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace cartorio::crypto
