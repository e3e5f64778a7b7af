#include "api/error_response.h"

#include "core/log.h"

namespace cartorio::api {

using core::Errc;

int http_status_for(Errc code) {
  switch (code) {
    case Errc::unauthenticated: return 401;
    case Errc::permission_denied: return 403;
    case Errc::not_found:
    case Errc::ca_not_found: return 404;
    case Errc::already_exists:
    case Errc::already_revoked:
    case Errc::conflict: return 409;
    case Errc::store_unavailable:
    case Errc::key_backend:
    case Errc::key_sealed:
    case Errc::not_initialized:
    case Errc::ca_offline:
    case Errc::tsa_unavailable: return 503;
    case Errc::tsa_error: return 502;
    case Errc::audit_tampered: return 500;
    case Errc::pdf_too_large: return 413;
    case Errc::link_invalid: return 403;
    case Errc::link_expired: return 410;
    default: break;
  }
  const int n = static_cast<int>(code);
  return n >= 100 && n < 200 ? 400 : 500;
}

http::Response error_response(const core::Error& error) {
  const int status = http_status_for(error.code);
  // Internal details stay in the log; the client gets the stable code.
  if (status >= 500) {
    core::log::error("api.error", {{"error", error.to_string()}});
    return http::Response::problem(status, core::errc_name(error.code),
                                   status == 503 ? "Service unavailable" : "Internal error",
                                   status == 503 ? "a backend is unavailable; retry later" : "internal error");
  }
  return http::Response::problem(status, core::errc_name(error.code), "Request refused", error.message);
}

http::Response bad_request(std::string_view code, std::string_view detail) {
  return http::Response::problem(400, code, "Bad request", detail);
}

}  // namespace cartorio::api
