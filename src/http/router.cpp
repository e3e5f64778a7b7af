#include "http/router.h"

#include "core/log.h"
#include "http/detail/percent.h"

#include <algorithm>
#include <cctype>
#include <compare>
#include <exception>

namespace cartorio::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // both patterns and paths start with '/'
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool valid_param_name(std::string_view n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Higher is more specific; compared segment by segment between candidate routes.
int specificity(const auto& segment) {
  using Kind = std::decay_t<decltype(segment.kind)>;
  switch (segment.kind) {
    case Kind::literal: return 3;
    case Kind::param: return (segment.prefix.empty() && segment.suffix.empty()) ? 1 : 2;
    case Kind::rest: return 0;
  }
  return 0;
}

}  // namespace

core::Result<void> Router::add(Method method, std::string_view pattern, Handler handler) {
  auto bad = [&](const std::string& why) {
    return core::Error{core::Errc::invalid_argument, "route pattern \"" + std::string(pattern) + "\": " + why};
  };
  if (method == Method::other) return bad("method must be a known one");
  if (!handler) return bad("handler is empty");
  if (pattern.empty() || pattern.front() != '/') return bad("must start with '/'");
  if (pattern.find_first_of("?#") != std::string_view::npos) return bad("must not contain '?' or '#'");

  Route route{method, std::string(pattern), {}, {}, std::move(handler)};
  auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    Segment seg;
    auto open = part.find('{');
    auto close = part.find('}');
    if (open == std::string_view::npos && close == std::string_view::npos) {
      seg.prefix = std::string(part);
      route.shape += "/" + seg.prefix;
      route.segments.push_back(std::move(seg));
      continue;
    }
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        part.find_first_of("{}", close + 1) != std::string_view::npos || part.find('{', open + 1) < close)
      return bad("segment \"" + std::string(part) + "\" must hold at most one {parameter}");
    std::string_view name = part.substr(open + 1, close - open - 1);
    seg.prefix = std::string(part.substr(0, open));
    seg.suffix = std::string(part.substr(close + 1));
    seg.kind = Segment::Kind::param;
    if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
      name.remove_suffix(3);
      if (i + 1 != parts.size()) return bad("a {name...} parameter must be the last segment");
      if (!seg.prefix.empty() || !seg.suffix.empty()) return bad("a {name...} parameter takes the whole segment");
      seg.kind = Segment::Kind::rest;
    }
    if (!valid_param_name(name)) return bad("bad parameter name \"" + std::string(name) + "\"");
    for (const auto& other : route.segments)
      if (other.kind != Segment::Kind::literal && other.name == name)
        return bad("parameter \"" + std::string(name) + "\" appears twice");
    seg.name = std::string(name);
    route.shape += "/" + seg.prefix + (seg.kind == Segment::Kind::rest ? "{...}" : "{}") + seg.suffix;
    route.segments.push_back(std::move(seg));
  }
  for (const auto& r : m_routes)
    if (r.method == method && r.shape == route.shape)
      return bad("duplicates " + std::string(method_name(method)) + " " + r.pattern);
  m_routes.push_back(std::move(route));
  return core::ok();
}

bool Router::match(const Route& route, const std::vector<std::string>& segments, std::vector<Request::Param>& params) {
  params.clear();
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (i >= segments.size()) return false;
    const std::string& s = segments[i];
    switch (seg.kind) {
      case Segment::Kind::literal:
        if (s != seg.prefix) return false;
        break;
      case Segment::Kind::param: {
        if (s.size() <= seg.prefix.size() + seg.suffix.size()) return false;
        if (s.compare(0, seg.prefix.size(), seg.prefix) != 0) return false;
        if (s.compare(s.size() - seg.suffix.size(), seg.suffix.size(), seg.suffix) != 0) return false;
        params.emplace_back(seg.name, s.substr(seg.prefix.size(), s.size() - seg.prefix.size() - seg.suffix.size()));
        break;
      }
      case Segment::Kind::rest: {
        std::string rest = s;
        for (std::size_t j = i + 1; j < segments.size(); ++j) rest += "/" + segments[j];
        params.emplace_back(seg.name, std::move(rest));
        return true;
      }
    }
  }
  return segments.size() == route.segments.size();
}

Response Router::dispatch(Request& request) const {
  // Split the encoded path, then decode each segment: "%2F" stays inside its segment.
  std::vector<std::string> segments;
  for (auto raw : split_path(request.raw_path())) {
    auto decoded = detail::percent_decode(raw, false);
    if (!decoded) return Response::problem(400, "http.bad_request", "Bad Request", "Bad percent-escape in the path.");
    segments.push_back(std::move(*decoded));
  }

  const Route* best = nullptr;
  bool best_exact = false;
  std::vector<Request::Param> params, best_params;
  std::vector<Method> allowed;
  for (const auto& route : m_routes) {
    if (!match(route, segments, params)) continue;
    allowed.push_back(route.method);
    bool exact = route.method == request.method();
    if (!exact && !(request.method() == Method::head && route.method == Method::get)) continue;
    if (best) {
      // Most specific first; on a tie an explicit HEAD route beats the GET fallback,
      // then the route added first wins.
      auto cmp = std::lexicographical_compare_three_way(
          route.segments.begin(), route.segments.end(), best->segments.begin(), best->segments.end(),
          [](const Segment& a, const Segment& b) { return specificity(a) <=> specificity(b); });
      if (cmp < 0 || (cmp == 0 && (best_exact || !exact))) continue;
    }
    best = &route;
    best_exact = exact;
    best_params = params;
  }

  if (!best) {
    if (allowed.empty()) return Response::problem(404, "http.not_found", "Not Found", "No resource at this path.");
    if (std::find(allowed.begin(), allowed.end(), Method::get) != allowed.end()) allowed.push_back(Method::head);
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (Method m : allowed) allow += (allow.empty() ? "" : ", ") + std::string(method_name(m));
    auto r = Response::problem(405, "http.method_not_allowed", "Method Not Allowed",
                               "This resource does not allow the method " + request.method_token() + ".");
    r.set_header("Allow", std::move(allow));
    return r;
  }

  request.set_params(std::move(best_params));
  request.set_route(best->pattern);
  std::string failure;
  try {
    return best->handler(request);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "non-standard exception";
  }
  // The cause goes to the log only: it may name files, keys or SQL.
  core::log::error("http.handler_exception", {{"request_id", request.request_id()},
                                              {"method", request.method_token()},
                                              {"route", best->pattern},
                                              {"error", failure}});
  return Response::problem(500, "internal", "Internal Server Error", "The server could not complete the request.");
}

}  // namespace cartorio::http
