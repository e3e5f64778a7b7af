#include "http/request.h"

#include "http/detail/percent.h"

#include <array>

namespace cartorio::http {

namespace {

constexpr std::array<std::pair<Method, std::string_view>, 7> kMethods = {{
    {Method::get, "GET"},
    {Method::head, "HEAD"},
    {Method::post, "POST"},
    {Method::put, "PUT"},
    {Method::patch, "PATCH"},
    {Method::delete_, "DELETE"},
    {Method::options, "OPTIONS"},
}};

bool starts_with_scheme(std::string_view t, std::string_view scheme) {
  return t.size() > scheme.size() && iequals(t.substr(0, scheme.size()), scheme);
}

}  // namespace

std::string_view method_name(Method m) {
  for (const auto& [method, name] : kMethods)
    if (method == m) return name;
  return "OTHER";
}

Method parse_method(std::string_view token) {
  for (const auto& [method, name] : kMethods)
    if (name == token) return method;
  return Method::other;
}

core::Result<Request> Request::create(std::string_view method, std::string target) {
  std::string_view t = target;
  bool absolute = false;
  // Absolute form must be accepted by origin servers too (RFC 9112 3.2.2); the
  // authority is dropped: this server does not route on Host.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (starts_with_scheme(t, scheme)) {
      t.remove_prefix(scheme.size());
      auto end = t.find_first_of("/?");
      t = end == std::string_view::npos ? std::string_view{} : t.substr(end);
      absolute = true;
      break;
    }
  }
  if (!absolute && (t.empty() || t.front() != '/'))
    return core::Error{core::Errc::malformed_input, "request-target must start with '/'"};

  Request r;
  auto q = t.find('?');
  r.m_raw_path = std::string(t.substr(0, q));
  if (r.m_raw_path.empty()) r.m_raw_path = "/";  // "http://host" and "http://host?q" mean "/"
  if (q != std::string_view::npos) r.m_query = std::string(t.substr(q + 1));
  auto decoded = detail::percent_decode(r.m_raw_path, false);
  if (!decoded) return core::Error{core::Errc::malformed_input, "bad percent-escape in the request path"};
  if (decoded->find('\0') != std::string::npos)
    return core::Error{core::Errc::malformed_input, "encoded NUL in the request path"};
  r.m_path = std::move(*decoded);
  r.m_method = parse_method(method);
  r.m_method_token = std::string(method);
  r.m_target = std::move(target);
  return r;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view encoded) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!encoded.empty()) {
    auto amp = encoded.find('&');
    std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view{} : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = detail::percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string{})
                                              : detail::percent_decode(pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = m_query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = detail::percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    return detail::percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [n, v] : m_params)
    if (n == name) return v;
  return {};
}

}  // namespace cartorio::http
