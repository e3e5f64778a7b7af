// A real number as PDF content and dictionaries write it: two decimals, '.' separator.
#pragma once

#include <cstdio>
#include <string>

namespace cartorio::signing::detail {

inline std::string pdf_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace cartorio::signing::detail
