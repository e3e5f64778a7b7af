#include "crypto/framing.h"

#include <cstdint>

namespace cartorio::crypto {

namespace {

template <class Fields>
Bytes frame(const Fields& fields) {
  std::size_t total = 0;
  for (const auto& f : fields) total += 4 + f.size();
  Bytes out;
  out.reserve(total);
  for (const auto& f : fields) {
    const auto n = static_cast<std::uint32_t>(f.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

}  // namespace

Bytes length_prefixed(std::initializer_list<ByteView> fields) { return frame(fields); }
Bytes length_prefixed(std::initializer_list<std::string_view> fields) { return frame(fields); }

}  // namespace cartorio::crypto
