#include "http/detail/request_id.h"

#include <algorithm>
#include <random>

namespace cartorio::http::detail {

bool is_acceptable_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string new_request_id() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = gen();
    for (int i = 0; i < 16; ++i, v >>= 4) id.push_back(kHex[v & 0xf]);
  }
  return id;
}

}  // namespace cartorio::http::detail
