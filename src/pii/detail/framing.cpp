#include "pii/detail/framing.h"

#include <cstdint>

namespace cartorio::pii::detail {

crypto::Bytes length_prefixed(std::initializer_list<std::string_view> fields) {
  std::size_t total = 0;
  for (auto f : fields) total += 4 + f.size();
  crypto::Bytes out;
  out.reserve(total);
  for (auto f : fields) {
    const auto n = static_cast<std::uint32_t>(f.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

}  // namespace cartorio::pii::detail
