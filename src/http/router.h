// Maps (method, path) to a handler.
//
// Patterns are '/'-separated segments; each is a literal ("crl"), or holds one parameter
// with an optional literal prefix and suffix ("{name}", "{name}.crl", "v{version}"), or,
// as the last segment only, a rest parameter "{name...}" that takes the remaining
// segments ("/ocsp/{ca}/{request...}": base64 may contain '/'). A parameter matches a
// non-empty part of one segment; values are percent-decoded. When several routes match,
// the most specific wins, segment by segment: literal > affixed parameter > parameter >
// rest; an explicit HEAD route beats the GET fallback.
//
// GET routes also answer HEAD. No route for the path -> 404 problem; a route for the
// path but not the method -> 405 problem with Allow. An exception escaping a handler is
// logged with the request id and becomes a 500 problem without its message.
//
// Build the router before Server::start(); afterwards it is only read, from many
// threads at once, so handlers must be thread-safe themselves.
#pragma once

#include "core/error.h"
#include "http/request.h"
#include "http/response.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::http {

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  // Errc::invalid_argument for a malformed pattern, Method::other, an empty handler,
  // or a route equal to one already added (same method, same pattern up to parameter names).
  core::Result<void> add(Method method, std::string_view pattern, Handler handler);
  core::Result<void> get(std::string_view pattern, Handler handler) {
    return add(Method::get, pattern, std::move(handler));
  }
  core::Result<void> post(std::string_view pattern, Handler handler) {
    return add(Method::post, pattern, std::move(handler));
  }

  // Sets request's path parameters and calls the matching handler; never throws.
  Response dispatch(Request& request) const;

 private:
  struct Segment {
    enum class Kind { literal, param, rest } kind = Kind::literal;
    std::string prefix;  // the whole literal for Kind::literal
    std::string suffix;
    std::string name;
  };
  struct Route {
    Method method;
    std::string pattern;
    std::string shape;  // pattern with parameter names erased, to spot duplicates
    std::vector<Segment> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string>& segments,
                    std::vector<Request::Param>& params);

  std::vector<Route> m_routes;
};

}  // namespace cartorio::http
