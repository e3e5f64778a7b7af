// Percent-decoding (RFC 3986 2.1) for paths and query strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::http::detail {

// nullopt on a malformed escape ("%4", "%zz"). With plus_as_space, '+' decodes to ' '
// (application/x-www-form-urlencoded, query strings only; in a path '+' is literal).
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space);

}  // namespace cartorio::http::detail
