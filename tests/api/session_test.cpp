// The web portal's browser session (api/session_routes.h, api/session_cookie.h) and the
// cookie path of SecuredRouter, over a real IdentityService: the tokens live in HttpOnly
// cookies, state-changing calls need the CSRF token and must not be cross-site, other
// credentials win over the cookie, logout ends the session. Also the portal's files
// (api/portal_routes.h): redirects, CSP, ETag revalidation, unknown paths.
#include "api/identity_backends.h"
#include "api/identity_routes.h"
#include "api/portal_routes.h"
#include "api/secured_router.h"
#include "api/session_cookie.h"
#include "api/session_routes.h"
#include "http/router.h"
#include "identity/totp.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cartorio::api {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr const char* kPassword = "uma senha longa o bastante";

std::vector<std::string> set_cookies(const Response& r) {
  std::vector<std::string> out;
  for (const auto& [name, value] : r.headers())
    if (name == "Set-Cookie") out.push_back(value);
  return out;
}

// The value a Set-Cookie header gives `name`, "" when it is cleared, nullopt when absent.
std::optional<std::string> cookie_in(const Response& r, std::string_view name) {
  for (const auto& c : set_cookies(r)) {
    if (!c.starts_with(std::string(name) + "=")) continue;
    return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
  }
  return std::nullopt;
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(m_backends.open());
    m_auth.authenticator = m_backends.identity.get();
    m_auth.audit = m_backends.store.get();
    m_auth.clock = &m_backends.clock;
    auto* id = m_backends.identity.get();
    m_auth.session_csrf_ok = [id](std::string_view t, std::string_view c) { return id->session_csrf_token_ok(t, c); };
    m_secured = std::make_unique<SecuredRouter>(m_router, m_auth);
    ASSERT_OK(add_identity_routes(*m_secured, *id));
    ASSERT_OK(add_session_routes(*m_secured, *id));
    identity::NewUser u;
    u.username = "ana";
    u.password = kPassword;
    u.roles = {identity::Role::notary};
    ASSERT_OK(id->create_user({"test"}, u));
  }

  Response call(const std::string& method, const std::string& target, const std::string& cookies = "",
                const std::string& csrf = "", std::string body = "", const std::string& fetch_site = "same-origin") {
    auto req = Request::create(method, target);
    EXPECT_TRUE(req) << target;
    if (!cookies.empty()) req->headers().set("Cookie", cookies);
    if (!csrf.empty()) req->headers().set(std::string(kCsrfHeader), csrf);
    if (!fetch_site.empty()) req->headers().set("Sec-Fetch-Site", fetch_site);
    if (!body.empty()) req->headers().set("Content-Type", "application/json");
    req->set_body(std::move(body));
    req->set_remote_address("192.0.2.7");
    return m_router.dispatch(*req);
  }

  Response login(const std::string& otp = "", const std::string& password = kPassword,
                 const std::string& fetch_site = "same-origin") {
    return call("POST", "/api/v1/session", "", "",
                json{{"username", "ana"}, {"password", password}, {"otp", otp}}.dump(), fetch_site);
  }

  // Enrols TOTP for ana (as the first login would) and returns one recovery code.
  std::string enrol() {
    identity::Actor ana{"user:ana"};
    auto e = m_backends.identity->start_totp_enrollment(ana);
    EXPECT_TRUE(e) << e.error().to_string();
    auto secret = crypto::from_base32(e->secret_base32);
    EXPECT_TRUE(secret);
    const auto step = core::to_unix(m_backends.clock.now()) / 30;
    auto codes = m_backends.identity->confirm_totp_enrollment(ana, identity::totp::hotp(*secret, step));
    EXPECT_TRUE(codes) << codes.error().to_string();
    return codes->front();
  }

  static std::string session_cookie(const Response& r) {
    return std::string(kSessionCookie) + "=" + cookie_in(r, kSessionCookie).value_or("");
  }
  static std::string both_cookies(const Response& r) {
    return session_cookie(r) + "; " + std::string(kRefreshCookie) + "=" + cookie_in(r, kRefreshCookie).value_or("");
  }
  static json body(const Response& r) { return json::parse(r.body()); }

  testing::IdentityBackends m_backends;
  AuthContext m_auth;
  http::Router m_router;
  std::unique_ptr<SecuredRouter> m_secured;
};

TEST(SessionCookie, FindsTheNamedCookieOnly) {
  auto req = Request::create("GET", "/");
  ASSERT_TRUE(req);
  req->headers().set("Cookie", "a=1; x__Host-cartorio-session=wrong;__Host-cartorio-session=tok ; b=\"q\"");
  EXPECT_EQ(cookie_value(*req, kSessionCookie), "tok");
  EXPECT_EQ(cookie_value(*req, "b"), "q");
  EXPECT_FALSE(cookie_value(*req, "c"));
  auto bare = Request::create("GET", "/");
  ASSERT_TRUE(bare);
  EXPECT_FALSE(cookie_value(*bare, kSessionCookie));
}

TEST(SessionCookie, AttributesKeepTheTokenFromScriptsAndOtherSites) {
  EXPECT_EQ(set_cookie(kSessionCookie, "t", "/"), "__Host-cartorio-session=t; Path=/; Secure; HttpOnly; SameSite=Strict");
  EXPECT_EQ(set_cookie(kRefreshCookie, "t", kRefreshCookiePath, true),
            "__Secure-cartorio-refresh=; Path=/api/v1/session; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
}

TEST_F(SessionTest, FirstLoginGivesAnEnrolmentSessionInCookies) {
  Response r = login();
  ASSERT_EQ(r.status(), 200) << r.body();
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  const auto b = body(r);
  EXPECT_EQ(b["scope"], "mfa_enroll");
  EXPECT_EQ(b["subject"], "user:ana");
  EXPECT_FALSE(b.contains("access_token")) << "the token stays out of the script's reach";
  const auto token = cookie_in(r, kSessionCookie);
  ASSERT_TRUE(token && !token->empty());
  EXPECT_EQ(b["csrf_token"], m_backends.identity->session_csrf_token(*token));
  for (const auto& c : set_cookies(r)) {
    EXPECT_NE(c.find("; Secure; HttpOnly; SameSite=Strict"), std::string::npos) << c;
  }
  EXPECT_EQ(cookie_in(r, kRefreshCookie), "") << "no refresh token before MFA";

  // The enrolment session can enrol and nothing else.
  const std::string csrf = b["csrf_token"];
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", session_cookie(r), csrf).status(), 200);
  EXPECT_EQ(call("GET", "/api/v1/me", session_cookie(r)).status(), 403);
}

TEST_F(SessionTest, WrongPasswordSetsNoCookie) {
  Response r = login("", "not the password of ana");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(body(r)["error"], "invalid_grant");
  EXPECT_TRUE(set_cookies(r).empty());
}

TEST_F(SessionTest, LoginFromAnotherSiteIsRefused) {
  Response r = login("", kPassword, "cross-site");
  EXPECT_EQ(r.status(), 403);
  EXPECT_TRUE(set_cookies(r).empty());
  EXPECT_EQ(login("", kPassword, "").status(), 200) << "browsers that send no Sec-Fetch-Site still log in";
}

TEST_F(SessionTest, StateChangesNeedTheCsrfTokenOfThisSession) {
  Response r = login();
  ASSERT_EQ(r.status(), 200);
  const std::string csrf = body(r)["csrf_token"];
  const std::string cookie = session_cookie(r);
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", cookie).status(), 401) << "no CSRF token";
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", cookie, csrf + "x").status(), 401) << "a wrong one";
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", cookie, csrf, "", "cross-site").status(), 401) << "cross-site";
  // Another session's token does not fit this one.
  Response other = login();
  ASSERT_EQ(other.status(), 200);
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", cookie, body(other)["csrf_token"]).status(), 401);
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", cookie, csrf).status(), 200);
}

TEST_F(SessionTest, FullSessionRefreshesAndEndsAtLogout) {
  const std::string recovery = enrol();
  Response r = login(recovery);
  ASSERT_EQ(r.status(), 200) << r.body();
  EXPECT_EQ(body(r)["scope"], "notary");
  ASSERT_FALSE(cookie_in(r, kRefreshCookie).value_or("").empty());
  EXPECT_NE(std::string(set_cookies(r).back()).find("Path=/api/v1/session"), std::string::npos);
  const std::string first = session_cookie(r);
  EXPECT_EQ(call("GET", "/api/v1/me", first).status(), 200) << "reads need no CSRF token";

  // GET /api/v1/session gives a reloaded page its CSRF token back.
  Response current = call("GET", "/api/v1/session", first);
  ASSERT_EQ(current.status(), 200);
  EXPECT_EQ(body(current)["csrf_token"], body(r)["csrf_token"]);
  EXPECT_EQ(body(current)["subject"], "user:ana");

  EXPECT_EQ(call("POST", "/api/v1/session/refresh", both_cookies(r)).status(), 401) << "refresh needs the CSRF token";
  Response renewed = call("POST", "/api/v1/session/refresh", both_cookies(r), body(r)["csrf_token"]);
  ASSERT_EQ(renewed.status(), 200) << renewed.body();
  EXPECT_NE(session_cookie(renewed), first);
  EXPECT_NE(body(renewed)["csrf_token"], body(r)["csrf_token"]);
  EXPECT_EQ(call("GET", "/api/v1/me", session_cookie(renewed)).status(), 200);

  EXPECT_EQ(call("DELETE", "/api/v1/session", both_cookies(renewed)).status(), 403) << "logout needs the CSRF token";
  Response out = call("DELETE", "/api/v1/session", both_cookies(renewed), body(renewed)["csrf_token"]);
  EXPECT_EQ(out.status(), 204);
  EXPECT_EQ(cookie_in(out, kSessionCookie), "");
  EXPECT_EQ(cookie_in(out, kRefreshCookie), "");
  // The session is over on the server too, not only in the browser.
  EXPECT_EQ(call("GET", "/api/v1/me", session_cookie(renewed)).status(), 401);
  Response ended = call("GET", "/api/v1/session", session_cookie(renewed));
  EXPECT_EQ(ended.status(), 401);
  EXPECT_EQ(body(ended)["csrf_token"], body(renewed)["csrf_token"]) << "what a refresh attempt needs";
  EXPECT_EQ(call("POST", "/api/v1/session/refresh", both_cookies(renewed), body(renewed)["csrf_token"]).status(), 401);
}

TEST_F(SessionTest, OtherCredentialsWinOverTheCookie) {
  Response r = login();
  ASSERT_EQ(r.status(), 200);
  auto req = Request::create("GET", "/api/v1/me");
  ASSERT_TRUE(req);
  req->headers().set("Cookie", session_cookie(r));
  req->headers().set("Authorization", "Bearer not-a-token");
  EXPECT_EQ(m_router.dispatch(*req).status(), 401) << "a bad bearer token is not rescued by the cookie";
}

TEST_F(SessionTest, WithoutSessionSupportTheCookieIsIgnored) {
  Response r = login();
  ASSERT_EQ(r.status(), 200);
  m_auth.session_csrf_ok = nullptr;
  EXPECT_EQ(call("POST", "/api/v1/me/mfa/totp", session_cookie(r), body(r)["csrf_token"]).status(), 401);
}

// --- the portal's files ---------------------------------------------------------------------

const core::EmbeddedFile kFiles[] = {{"index.html", "<!doctype html><title>x</title>"},
                                     {"app.js", "export const a = 1;"},
                                     {"pages/verify.js", "export {};"}};

Response get(const http::Router& router, const std::string& target, const std::string& if_none_match = "") {
  auto req = Request::create("GET", target);
  EXPECT_TRUE(req);
  if (!if_none_match.empty()) req->headers().set("If-None-Match", if_none_match);
  return router.dispatch(*req);
}

TEST(PortalRoutes, ServesTheFilesWithTheirTypesAndPolicy) {
  http::Router router;
  ASSERT_OK(add_portal_routes(router, kFiles));
  for (const char* target : {"/", "/portal"}) {
    Response r = get(router, target);
    EXPECT_EQ(r.status(), 302) << target;
    EXPECT_EQ(r.header("Location"), "/portal/");
  }
  Response index = get(router, "/portal/");
  ASSERT_EQ(index.status(), 200);
  EXPECT_EQ(index.body(), "<!doctype html><title>x</title>");
  EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("Content-Security-Policy"), std::string(kPortalContentSecurityPolicy));
  Response js = get(router, "/portal/pages/verify.js");
  ASSERT_EQ(js.status(), 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(get(router, "/portal/missing.js").status(), 404);
  EXPECT_EQ(get(router, "/portal/../index.html").status(), 404);
}

TEST(PortalRoutes, RevalidationAnswers304UntilTheFileChanges) {
  http::Router router;
  ASSERT_OK(add_portal_routes(router, kFiles));
  Response first = get(router, "/portal/app.js");
  const auto etag = first.header("ETag");
  ASSERT_TRUE(etag);
  EXPECT_EQ(first.header("Cache-Control"), "no-cache");
  Response again = get(router, "/portal/app.js", std::string(*etag));
  EXPECT_EQ(again.status(), 304);
  EXPECT_TRUE(again.body().empty());
  EXPECT_EQ(get(router, "/portal/app.js", "\"0000\"").status(), 200);
  EXPECT_NE(get(router, "/portal/pages/verify.js").header("ETag"), etag);
}

TEST(PortalRoutes, TheBinaryCarriesThePortal) {
  bool index = false, app = false;
  for (const auto& f : portal_files()) {
    index = index || (f.path == "index.html" && f.bytes.find("<html") != std::string_view::npos);
    app = app || f.path == "app.js";
  }
  EXPECT_TRUE(index && app);
  const core::EmbeddedFile no_index[] = {{"app.js", "x"}};
  http::Router router;
  EXPECT_FALSE(add_portal_routes(router, no_index));
}

}  // namespace
}  // namespace cartorio::api
