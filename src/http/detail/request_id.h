// Request ids: kept from the client when sane, generated otherwise.
#pragma once

#include <string>
#include <string_view>

namespace cartorio::http::detail {

// [A-Za-z0-9._-]{1,64}: safe to echo in a header and to write in logs.
bool is_acceptable_request_id(std::string_view id) noexcept;
// 32 lowercase hex digits from a per-thread generator seeded by std::random_device.
// Unique, not secret: never use it as a token.
std::string new_request_id();

}  // namespace cartorio::http::detail
