#include "api/session_routes.h"

#include "api/detail/oauth_response.h"
#include "api/json_body.h"
#include "api/session_cookie.h"

#include <nlohmann/json.hpp>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::IdentityService;
using identity::OAuthError;
using nlohmann::json;

namespace {

std::string source_of(const Request& req) { return req.remote_address().empty() ? "local" : req.remote_address(); }

Response no_session(std::string_view why) {
  Response r = detail::no_store(Response::problem(401, "auth.no_session", "No session", why));
  r.headers().add("Set-Cookie", set_cookie(kSessionCookie, "", "/", true));
  r.headers().add("Set-Cookie", set_cookie(kRefreshCookie, "", kRefreshCookiePath, true));
  return r;
}

// The answer to a successful grant: the tokens in cookies, the CSRF token in the body.
Response session_answer(const IdentityService& identity, const identity::TokenResponse& t, std::string subject) {
  Response r = detail::no_store(Response::json(json{{"subject", std::move(subject)},
                                                    {"scope", t.scope},
                                                    {"csrf_token", identity.session_csrf_token(t.access_token)},
                                                    {"expires_in", t.expires_in}}
                                                   .dump()));
  r.headers().add("Set-Cookie", set_cookie(kSessionCookie, t.access_token, "/"));
  // The MFA-enrolment token has no refresh token: clear any older one.
  r.headers().add("Set-Cookie", set_cookie(kRefreshCookie, t.refresh_token, kRefreshCookiePath, t.refresh_token.empty()));
  return r;
}

Response grant_failure(const identity::GrantError& e) { return detail::oauth_error(e.error, e.description, e.retry_after); }

// A login form on another site must not sign the browser in as someone else.
std::optional<Response> refuse_cross_site(const Request& req) {
  if (!cross_site(req)) return std::nullopt;
  return Response::problem(403, "auth.cross_site", "Cross-site request", "sessions are opened from this site only");
}

Response login(IdentityService& identity, const Request& req) {
  if (auto r = refuse_cross_site(req)) return std::move(*r);
  auto body = parse_json_object(req);
  if (!body) return detail::oauth_error(OAuthError::invalid_request, "the body must be a JSON object");
  auto username = string_field(*body, "username");
  auto password = string_field(*body, "password");
  if (!username || !password || username->empty())
    return detail::oauth_error(OAuthError::invalid_request, "username and password are required");
  identity::TokenRequest tr;
  tr.grant_type = "password";
  tr.username = *username;
  tr.password = *password;
  tr.otp = string_field(*body, "otp").value_or("");
  tr.source = source_of(req);
  tr.request_id = req.request_id();
  auto result = identity.grant(tr);
  if (!result.ok()) return grant_failure(result.error());
  return session_answer(identity, result.tokens(), "user:" + *username);
}

Response current(IdentityService& identity, const Request& req) {
  auto token = cookie_value(req, kSessionCookie);
  if (!token || token->empty()) return no_session("no session cookie");
  auto who = identity.authenticate_bearer(*token);
  if (!who) {
    if (who.error().code == core::Errc::store_unavailable)
      return detail::oauth_error(OAuthError::temporarily_unavailable, "the session cannot be checked right now");
    // The access token has expired (or ended): the refresh cookie may still renew it, which
    // needs the CSRF token of this cookie. Other sites cannot read this answer.
    Response r = detail::no_store(Response::problem(401, "auth.no_session", "No session", "the session has ended"));
    auto problem = json::parse(r.body());
    problem["csrf_token"] = identity.session_csrf_token(*token);
    r.set_body(problem.dump());
    return r;
  }
  std::string scope;
  if (who->mfa_enrollment_only) {
    scope = identity::kMfaEnrollScope;
  } else {
    for (auto role : who->roles) scope += (scope.empty() ? "" : " ") + std::string(identity::to_string(role));
  }
  return detail::no_store(Response::json(
      json{{"subject", who->subject}, {"scope", scope}, {"csrf_token", identity.session_csrf_token(*token)}}.dump()));
}

// The session cookie with a CSRF token made for it, from this site: the caller is the
// portal's own script.
bool csrf_ok(const IdentityService& identity, const Request& req) {
  auto token = cookie_value(req, kSessionCookie);
  return token && !cross_site(req) && identity.session_csrf_token_ok(*token, req.header(kCsrfHeader).value_or(""));
}

Response refresh(IdentityService& identity, const Request& req) {
  if (!csrf_ok(identity, req)) return no_session("a refresh needs the session cookie and its CSRF token");
  auto refresh_token = cookie_value(req, kRefreshCookie);
  if (!refresh_token || refresh_token->empty()) return no_session("no refresh cookie");
  identity::TokenRequest tr;
  tr.grant_type = "refresh_token";
  tr.refresh_token = std::string(*refresh_token);
  tr.source = source_of(req);
  tr.request_id = req.request_id();
  auto result = identity.grant(tr);
  if (!result.ok()) {
    if (result.error().error == OAuthError::invalid_grant) return no_session("the session has ended");
    return grant_failure(result.error());
  }
  auto who = identity.authenticate_bearer(result.tokens().access_token);
  if (!who) return no_session("the session has ended");
  return session_answer(identity, result.tokens(), who->subject);
}

Response logout(IdentityService& identity, const Request& req) {
  if (!csrf_ok(identity, req))
    return Response::problem(403, "auth.csrf", "CSRF token required", "ending a session needs its CSRF token");
  const identity::Actor actor{"portal:logout", source_of(req), req.request_id()};
  // Either token ends the whole session (its refresh family).
  for (auto name : {kRefreshCookie, kSessionCookie}) {
    auto token = cookie_value(req, name);
    if (!token || token->empty()) continue;
    if (auto r = identity.revoke(*token, actor); !r)
      return detail::oauth_error(OAuthError::temporarily_unavailable, "the session could not be ended; retry later");
  }
  Response r = detail::no_store(Response::text("", 204));
  r.headers().add("Set-Cookie", set_cookie(kSessionCookie, "", "/", true));
  r.headers().add("Set-Cookie", set_cookie(kRefreshCookie, "", kRefreshCookiePath, true));
  return r;
}

}  // namespace

core::Result<void> add_session_routes(SecuredRouter& router, IdentityService& identity) {
  IdentityService* id = &identity;
  CARTORIO_TRY_VOID(router.add_public(Method::post, "/api/v1/session", [id](const Request& r) { return login(*id, r); }));
  CARTORIO_TRY_VOID(router.add_public(Method::get, "/api/v1/session", [id](const Request& r) { return current(*id, r); }));
  CARTORIO_TRY_VOID(
      router.add_public(Method::post, "/api/v1/session/refresh", [id](const Request& r) { return refresh(*id, r); }));
  CARTORIO_TRY_VOID(
      router.add_public(Method::delete_, "/api/v1/session", [id](const Request& r) { return logout(*id, r); }));
  return core::ok();
}

}  // namespace cartorio::api
