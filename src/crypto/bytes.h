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

// Constant-time comparison for secrets (tokens, MACs, API keys).
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace cartorio::crypto
