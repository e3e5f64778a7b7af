// UTF-8 -> Unicode code points for the PDF text the signer writes (signature dictionary
// strings, stamp lines). Malformed sequences become U+FFFD; never reads past the end.
#pragma once

#include <cstddef>
#include <string_view>

namespace cartorio::signing::detail {

template <class OnCodePoint>
void for_each_code_point(std::string_view utf8, OnCodePoint&& on_code_point) {
  auto cont = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(utf8[i]) & 0x3Fu); };
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    unsigned cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6 && i + 1 < utf8.size()) {
      cp = ((c & 0x1Fu) << 6) | cont(i + 1);
      len = 2;
    } else if ((c >> 4) == 0xE && i + 2 < utf8.size()) {
      cp = ((c & 0x0Fu) << 12) | (cont(i + 1) << 6) | cont(i + 2);
      len = 3;
    } else if ((c >> 3) == 0x1E && i + 3 < utf8.size()) {
      cp = ((c & 0x07u) << 18) | (cont(i + 1) << 12) | (cont(i + 2) << 6) | cont(i + 3);
      len = 4;
    }
    on_code_point(cp);
    i += len;
  }
}

}  // namespace cartorio::signing::detail
