// REST: the web portal's browser session (docs/portal.md). The tokens of the OAuth 2.0
// password and refresh grants, kept in HttpOnly cookies (api/session_cookie.h) instead of
// the page's script, plus a CSRF token the script sends back on state-changing calls.
//   POST   /api/v1/session          public  {username, password, otp} -> session; sets the cookies
//   GET    /api/v1/session          public  the current session (after a reload) or 401
//   POST   /api/v1/session/refresh  public  the refresh cookie + X-CSRF-Token -> new cookies
//   DELETE /api/v1/session          public  X-CSRF-Token -> ends the session, clears the cookies
// A session answer: {"subject", "scope" ("mfa_enroll" or the role names), "csrf_token",
// "expires_in"}. Errors are RFC 6749 5.2 documents, as from /oauth/token.
#pragma once

#include "api/secured_router.h"
#include "identity/identity_service.h"

namespace cartorio::api {

// `identity` must outlive the router. Registering does not call the service.
core::Result<void> add_session_routes(SecuredRouter& router, identity::IdentityService& identity);

}  // namespace cartorio::api
