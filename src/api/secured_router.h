// SecuredRouter: how /api/v1 routes are declared. Each route names the one Permission it
// needs (deny by default: there is no way to add an API route without one, except
// add_public, which says so), and each call:
//   1. authenticates: "Authorization: Bearer <JWT>", else "Authorization: ApiKey <key>" or
//      "X-API-Key: <key>", else a verified TLS client certificate mapped to a service
//      principal. A bearer token bound to a client certificate (RFC 8705) is accepted
//      only on a connection presenting that certificate, which must still map to a
//      service (issued by us, not revoked). None -> 401 problem (auth.unauthenticated) with WWW-Authenticate: Bearer;
//      a credential that fails -> the same 401 (the reason goes to the log only).
//   1b. rate-limits per client (principal subject) when a RateLimiter is given -> 429.
//   2. authorises: the principal's roles must allow the permission -> else 403
//      (auth.permission_denied).
//   3. runs the handler and records one audit event: actor, action "<METHOD> <pattern>",
//      target (the path parameters), result (the HTTP status), source address, request id.
//      Domain actions (issuance, revocation) also write their own audit event inside the
//      operation; this per-call record is the access trail. A failed write is logged as an
//      error (the action, if any, has already happened: the answer stays truthful). With
//      AuthContext::access_trail the record is queued there and committed in batches.
// routes() lists every declared route with its permission, for the OpenAPI check and the
// role x route matrix test.
#pragma once

#include "api/rate_limiter.h"
#include "audit/async_audit_writer.h"
#include "http/router.h"
#include "identity/authenticator.h"
#include "store/store.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::api {

// Maps a verified client certificate to a principal (Errc::unauthenticated when the
// certificate names no known service).
using ClientCertificateMapper =
    std::function<core::Result<identity::Principal>(const http::ClientCertificate&)>;

struct AuthContext {
  identity::Authenticator* authenticator = nullptr;  // required
  ClientCertificateMapper client_certificates;        // empty: mTLS identities are not accepted
  store::AuditLog* audit = nullptr;                   // required
  // Optional: the per-call events go through it (batched, off the request path) instead
  // of one synchronous append per call.
  audit::AsyncAuditWriter* access_trail = nullptr;
  const core::Clock* clock = nullptr;                 // required
  RateLimiter* rate_limiter = nullptr;                // optional: per-client buckets
  // Browser sessions (api/session_cookie.h): when set, a request with no other credential
  // may present its access token in the session cookie; one that changes state must then
  // carry an X-CSRF-Token this accepts for that token, and must not come cross-site.
  std::function<bool(std::string_view access_token, std::string_view csrf_token)> session_csrf_ok;
};

using AuthedHandler = std::function<http::Response(const http::Request&, const identity::Principal&)>;

struct RouteInfo {
  http::Method method;
  std::string pattern;
  std::optional<identity::Permission> permission;  // nullopt: public
};

class SecuredRouter {
 public:
  // Both must outlive the router and the server using it.
  SecuredRouter(http::Router& router, const AuthContext& auth);

  core::Result<void> add(http::Method method, std::string_view pattern, identity::Permission permission,
                         AuthedHandler handler);
  // A route anyone may call (token endpoint, JWKS); still listed in routes().
  core::Result<void> add_public(http::Method method, std::string_view pattern, http::Handler handler);

  const std::vector<RouteInfo>& routes() const { return m_routes; }

 private:
  http::Router& m_router;
  const AuthContext& m_auth;
  std::vector<RouteInfo> m_routes;
};

// RFC 8705 3.1 x5t#S256 of a client certificate: base64url (no padding) of the SHA-256 of
// its DER.
std::string certificate_thumbprint(const http::ClientCertificate& cert);

// Resolves the caller of a request as step 1 above (exposed for tests and for handlers
// that authenticate optionally).
core::Result<identity::Principal> authenticate(const AuthContext& auth, const http::Request& req);

}  // namespace cartorio::api
