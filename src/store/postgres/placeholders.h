// The shared SQL uses `?` placeholders; PostgreSQL wants $1, $2, ...
#pragma once

#include <string>
#include <string_view>

namespace cartorio::store::postgres {

// Rewrites each `?` outside quotes and comments to $1, $2, ... in order. Quoted text
// ('...', "..."), -- line and /* block */ comments are copied unchanged.
std::string number_placeholders(std::string_view sql);

}  // namespace cartorio::store::postgres
