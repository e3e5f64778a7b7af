// Reading API requests: JSON object bodies and bounded integer query parameters.
#pragma once

#include "http/request.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::api {

inline constexpr std::size_t kMaxJsonBodyBytes = 1024 * 1024;

// The body as a JSON object; nullopt for anything else (not JSON, an array, more than
// kMaxJsonBodyBytes...).
std::optional<nlohmann::json> parse_json_object(const http::Request& req);
// A string member; nullopt when absent or not a string.
std::optional<std::string> string_field(const nlohmann::json& object, const char* name);
// Query parameter `name` as an integer in [min, max]; `fallback` when absent; nullopt when
// present but not a decimal integer in range.
std::optional<int> int_query(const http::Request& req, std::string_view name, int min, int max, int fallback);

}  // namespace cartorio::api
