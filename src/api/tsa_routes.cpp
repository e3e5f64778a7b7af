#include "api/tsa_routes.h"

#include "core/log.h"
#include "crypto/bytes.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace cartorio::api {

using http::Request;
using http::Response;

namespace {

bool is_timestamp_query(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string v(content_type->substr(0, content_type->find(';')));
  v.erase(std::remove_if(v.begin(), v.end(), [](unsigned char c) { return std::isspace(c); }), v.end());
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "application/timestamp-query";
}

http::Handler handler(std::shared_ptr<const tsa::TimeStampAuthority> authority) {
  return [authority = std::move(authority)](const Request& req) {
    if (!is_timestamp_query(req.header("Content-Type")))
      return Response::problem(415, "tsa.unsupported_media_type", "Unsupported media type",
                               "time-stamp requests are sent as application/timestamp-query");
    if (req.body().size() > kMaxTimestampRequestBytes)
      return Response::problem(413, "tsa.request_too_large", "Request too large",
                               "time-stamp requests are limited to 64 KiB");
    if (!authority)
      return Response::problem(503, "tsa.unavailable", "Time-stamping unavailable",
                               "this server has no time-stamp authority");
    auto der = authority->respond(crypto::as_bytes(req.body()));
    if (!der) {
      core::log::error("tsa.respond_failed", {{"error", der.error().to_string()}, {"request_id", req.request_id()}});
      return Response::problem(500, "internal", "Internal error", "the time-stamp response could not be built");
    }
    return Response::bytes("application/timestamp-reply", std::move(*der));
  };
}

}  // namespace

core::Result<void> add_tsa_routes(http::Router& router, std::shared_ptr<const tsa::TimeStampAuthority> authority) {
  return router.post("/tsa", handler(std::move(authority)));
}

core::Result<void> add_tsa_routes(SecuredRouter& router, std::shared_ptr<const tsa::TimeStampAuthority> authority) {
  return router.add_public(http::Method::post, "/tsa", handler(std::move(authority)));
}

}  // namespace cartorio::api
