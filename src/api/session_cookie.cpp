#include "api/session_cookie.h"

namespace cartorio::api {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string_view> cookie_value(const http::Request& req, std::string_view name) {
  auto header = req.header("Cookie");
  if (!header) return std::nullopt;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    std::string_view pair = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::string set_cookie(std::string_view name, std::string_view value, std::string_view path, bool remove) {
  std::string out = std::string(name) + "=" + std::string(remove ? "" : value) + "; Path=" + std::string(path) +
                    "; Secure; HttpOnly; SameSite=Strict";
  if (remove) out += "; Max-Age=0";
  return out;
}

bool changes_state(const http::Request& req) {
  const auto m = req.method();
  return m != http::Method::get && m != http::Method::head && m != http::Method::options;
}

bool cross_site(const http::Request& req) {
  auto site = req.header("Sec-Fetch-Site");
  return site && trim(*site) == "cross-site";
}

}  // namespace cartorio::api
