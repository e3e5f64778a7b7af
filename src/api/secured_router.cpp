#include "api/secured_router.h"

#include "api/session_cookie.h"

#include "core/log.h"
#include "identity/identity_service.h"
#include "crypto/bytes.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace cartorio::api {

using core::Errc;
using http::Request;
using http::Response;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "Bearer abc" -> ("bearer", "abc"); the scheme is case-insensitive (RFC 9110 11.1).
std::pair<std::string, std::string_view> split_authorization(std::string_view value) {
  value = trim(value);
  const auto space = value.find(' ');
  if (space == std::string_view::npos) return {"", {}};
  std::string scheme(value.substr(0, space));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {scheme, trim(value.substr(space + 1))};
}

Response unauthenticated() {
  Response r = Response::problem(401, "auth.unauthenticated", "Unauthenticated",
                                 "a valid access token, API key or client certificate is required");
  r.set_header("WWW-Authenticate", "Bearer realm=\"cartorio\"");
  return r;
}

Response unavailable() {
  return Response::problem(503, "auth.unavailable", "Service unavailable",
                           "the identity of the caller cannot be checked right now");
}

std::string target_of(const Request& req) {
  std::string out;
  for (const auto& [name, value] : req.params()) {
    if (!out.empty()) out += ',';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

}  // namespace

std::string certificate_thumbprint(const http::ClientCertificate& cert) {
  return identity::x5t_s256(cert.sha256_fingerprint);
}

namespace {

// A certificate-bound token must come over a connection presenting that certificate, and
// the certificate must still be one we accept (a revoked one ends its tokens at once).
core::Result<identity::Principal> check_binding(const AuthContext& auth, const Request& req,
                                                identity::Principal principal) {
  if (principal.certificate_thumbprint.empty()) return principal;
  const auto& cert = req.client_certificate();
  if (!cert || !auth.client_certificates) return core::Error{Errc::unauthenticated, "token bound to a client certificate"};
  const std::string presented = certificate_thumbprint(*cert);
  if (presented.empty() ||
      !crypto::constant_time_equal(crypto::as_bytes(presented), crypto::as_bytes(principal.certificate_thumbprint)))
    return core::Error{Errc::unauthenticated, "token bound to another client certificate"};
  CARTORIO_TRY(auto service, auth.client_certificates(*cert));
  if (service.subject != principal.subject)
    return core::Error{Errc::unauthenticated, "client certificate names another service"};
  // The token's roles were fixed when it was issued: never more than the certificate grants now.
  for (auto role : principal.roles)
    if (std::find(service.roles.begin(), service.roles.end(), role) == service.roles.end())
      return core::Error{Errc::unauthenticated, "token carries a role the client certificate no longer has"};
  return principal;
}

}  // namespace

core::Result<identity::Principal> authenticate(const AuthContext& auth, const Request& req) {
  if (auto header = req.header("Authorization")) {
    auto [scheme, credential] = split_authorization(*header);
    if (scheme == "bearer" && !credential.empty()) {
      CARTORIO_TRY(auto principal, auth.authenticator->authenticate_bearer(credential));
      return check_binding(auth, req, std::move(principal));
    }
    if (scheme == "apikey" && !credential.empty()) return auth.authenticator->authenticate_api_key(credential);
    return core::Error{Errc::unauthenticated, "unsupported Authorization scheme"};
  }
  if (auto key = req.header("X-API-Key")) return auth.authenticator->authenticate_api_key(trim(*key));
  if (req.client_certificate() && auth.client_certificates) return auth.client_certificates(*req.client_certificate());
  if (auth.session_csrf_ok) {
    if (auto token = cookie_value(req, kSessionCookie); token && !token->empty()) {
      if (changes_state(req)) {
        if (cross_site(req)) return core::Error{Errc::unauthenticated, "session cookie on a cross-site request"};
        if (!auth.session_csrf_ok(*token, req.header(kCsrfHeader).value_or("")))
          return core::Error{Errc::unauthenticated, "session cookie without a valid CSRF token"};
      }
      CARTORIO_TRY(auto principal, auth.authenticator->authenticate_bearer(*token));
      return check_binding(auth, req, std::move(principal));
    }
  }
  return core::Error{Errc::unauthenticated, "no credentials"};
}

SecuredRouter::SecuredRouter(http::Router& router, const AuthContext& auth) : m_router(router), m_auth(auth) {}

core::Result<void> SecuredRouter::add(http::Method method, std::string_view pattern, identity::Permission permission,
                                      AuthedHandler handler) {
  if (!handler) return {Errc::invalid_argument, "empty handler"};
  const std::string action = std::string(http::method_name(method)) + " " + std::string(pattern);
  const AuthContext& auth = m_auth;
  CARTORIO_TRY_VOID(m_router.add(method, pattern, [&auth, action, permission, handler = std::move(handler)](const Request& req) {
    auto principal = authenticate(auth, req);
    store::AuditEvent e;
    e.time = core::to_unix(auth.clock->now());
    e.action = action;
    e.target = target_of(req);
    e.source = req.remote_address();
    Response response = Response::text("");
    if (!principal) {
      core::log::info("auth.refused", {{"request_id", req.request_id()},
                                       {"route", action},
                                       {"reason", principal.error().to_string()}});
      response = principal.error().code == Errc::store_unavailable ? unavailable() : unauthenticated();
      e.actor = "anonymous";
    } else if (auto limited = auth.rate_limiter ? auth.rate_limiter->check_client(principal->subject) : std::nullopt) {
      e.actor = principal->subject;
      response = std::move(*limited);
    } else if (!principal->allows(permission)) {
      e.actor = principal->subject;
      response = Response::problem(403, "auth.permission_denied", "Forbidden",
                                   "this action needs the " + std::string(identity::to_string(permission)) +
                                       " permission");
    } else {
      e.actor = principal->subject;
      response = handler(req, *principal);
    }
    e.result = std::to_string(response.status());
    e.details = nlohmann::json{{"request_id", req.request_id()},
                               {"method", principal ? std::string(identity::to_string(principal->method)) : ""},
                               {"token_id", principal ? principal->token_id : ""}}
                    .dump();
    if (auth.access_trail) {
      auth.access_trail->record(std::move(e));
    } else if (auto a = auth.audit->append_audit_event(e); !a) {
      core::log::error("audit.write_failed", {{"request_id", req.request_id()}, {"error", a.error().to_string()}});
    }
    return response;
  }));
  m_routes.push_back({method, std::string(pattern), permission});
  return core::ok();
}

core::Result<void> SecuredRouter::add_public(http::Method method, std::string_view pattern, http::Handler handler) {
  CARTORIO_TRY_VOID(m_router.add(method, pattern, std::move(handler)));
  m_routes.push_back({method, std::string(pattern), std::nullopt});
  return core::ok();
}

}  // namespace cartorio::api
