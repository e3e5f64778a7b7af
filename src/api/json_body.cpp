#include "api/json_body.h"

#include <nlohmann/json.hpp>

#include <charconv>

namespace cartorio::api {

std::optional<nlohmann::json> parse_json_object(const http::Request& req) {
  // The HTTPS listener takes PDF-sized bodies; no JSON request needs more than this.
  if (req.body().size() > kMaxJsonBodyBytes) return std::nullopt;
  auto j = nlohmann::json::parse(req.body(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::optional<std::string> string_field(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<int> int_query(const http::Request& req, std::string_view name, int min, int max, int fallback) {
  auto v = req.query_param(name);
  if (!v) return fallback;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) return std::nullopt;
  return n;
}

}  // namespace cartorio::api
