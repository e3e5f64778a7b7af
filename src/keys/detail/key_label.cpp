#include "keys/detail/key_label.h"

#include <string>

namespace cartorio::keys::detail {

core::Result<void> validate_key_label(std::string_view label) {
  if (label.empty()) return {core::Errc::invalid_argument, "key label must not be empty"};
  if (label.size() > kMaxKeyLabelLength)
    return {core::Errc::invalid_argument,
            "key label longer than " + std::to_string(kMaxKeyLabelLength) + " bytes"};
  for (char c : label) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      return {core::Errc::invalid_argument, "key label contains a control character"};
  }
  return core::ok();
}

}  // namespace cartorio::keys::detail
