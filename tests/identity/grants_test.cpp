// OAuth 2.0 grants: password (+ TOTP or recovery code), the restricted MFA-enrolment token,
// refresh rotation with reuse detection, throttling, lockout, and the generic errors.
#include "identity_test_support.h"

#include <regex>
#include <set>

namespace cartorio::identity::test {
namespace {

using core::Errc;

class GrantTest : public IdentityFixture {};

void expect_invalid_grant(const GrantResult& g, const std::string& context) {
  ASSERT_FALSE(g.ok()) << context << ": a token was issued";
  EXPECT_EQ(g.error().error, OAuthError::invalid_grant) << context << ": " << g.error().description;
}

TEST_F(GrantTest, HumanWithoutMfaGetsTheRestrictedEnrolmentToken) {
  create_user("carol", {Role::clerk, Role::auditor});
  auto view = svc().get_user("carol");
  ASSERT_OK(view);
  EXPECT_TRUE(view->mfa_required);
  EXPECT_FALSE(view->mfa_enabled);

  auto g = password_grant("carol");
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(g.tokens().scope, std::string(kMfaEnrollScope));
  EXPECT_TRUE(g.tokens().refresh_token.empty());  // no session to keep alive
  EXPECT_EQ(g.tokens().expires_in, m_options.mfa_enroll_token_ttl.count());
  auto claims = decode_jwt(g.tokens().access_token).payload;
  EXPECT_EQ(claims["scope"], "mfa_enroll");
  EXPECT_EQ(claims["roles"], nlohmann::json::array());

  auto p = svc().authenticate_bearer(g.tokens().access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->subject, "user:carol");
  EXPECT_TRUE(p->mfa_enrollment_only);
  EXPECT_TRUE(p->roles.empty());
  for (Permission perm : all_permissions())
    EXPECT_EQ(p->allows(perm), perm == Permission::mfa_enroll) << to_string(perm);
  // An OTP sent before enrolment changes nothing.
  auto with_otp = password_grant("carol", kPassword, "123456");
  ASSERT_TRUE(with_otp.ok());
  EXPECT_EQ(with_otp.tokens().scope, "mfa_enroll");
}

TEST_F(GrantTest, TotpEnrolmentThenMfaLogin) {
  create_user("dave", {Role::clerk});
  const Actor dave{"user:dave"};
  EXPECT_ERRC(svc().confirm_totp_enrollment(dave, "123456"), Errc::conflict);  // nothing pending

  auto start = svc().start_totp_enrollment(dave);
  ASSERT_OK(start);
  auto secret = crypto::from_base32(start->secret_base32);
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->size(), totp::kSecretBytes);
  EXPECT_EQ(start->otpauth_uri, "otpauth://totp/Cartorio%20Digital:dave?secret=" + start->secret_base32 +
                                    "&issuer=Cartorio%20Digital&algorithm=SHA1&digits=6&period=30");
  EXPECT_TRUE(start->qr_svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(start->qr_svg.ends_with("</svg>"));

  // Not enabled before confirmation: the password alone still yields the restricted token.
  auto pending = password_grant("dave");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending.tokens().scope, "mfa_enroll");

  // A wrong code, then the right one.
  const std::string right = totp_now(start->secret_base32);
  const std::string wrong = wrong_totp(start->secret_base32);
  EXPECT_ERRC(svc().confirm_totp_enrollment(dave, wrong), Errc::unauthenticated);
  EXPECT_ERRC(svc().confirm_totp_enrollment(dave, totp_now(start->secret_base32, 5)), Errc::unauthenticated);
  auto codes = svc().confirm_totp_enrollment(dave, right);
  ASSERT_OK(codes);
  ASSERT_EQ(codes->size(), 10u);
  const std::regex format("^[a-z2-7]{5}-[a-z2-7]{5}$");
  for (const auto& c : *codes) EXPECT_TRUE(std::regex_match(c, format)) << c;
  EXPECT_EQ(std::set<std::string>(codes->begin(), codes->end()).size(), 10u);
  auto me = svc().me(dave);
  ASSERT_OK(me);
  EXPECT_TRUE(me->mfa_enabled);
  EXPECT_ERRC(svc().start_totp_enrollment(dave), Errc::conflict);
  EXPECT_ERRC(svc().confirm_totp_enrollment(dave, right), Errc::conflict);

  // The confirming code is spent: the same step cannot log in.
  expect_invalid_grant(password_grant("dave", kPassword, right), "confirming code replayed");
  m_clock.advance(totp::kPeriod);

  expect_invalid_grant(password_grant("dave"), "no otp");
  expect_invalid_grant(password_grant("dave", kPassword, wrong_totp(start->secret_base32)), "wrong otp");
  const std::string code = totp_now(start->secret_base32);
  auto g = password_grant("dave", kPassword, code);
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(g.tokens().scope, "clerk");
  EXPECT_FALSE(g.tokens().refresh_token.empty());
  auto p = svc().authenticate_bearer(g.tokens().access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->roles, std::vector<Role>{Role::clerk});
  EXPECT_FALSE(p->mfa_enrollment_only);
  EXPECT_TRUE(p->allows(Permission::document_request));
  EXPECT_FALSE(p->allows(Permission::document_sign));
  // Each step logs in once (replay guard)...
  expect_invalid_grant(password_grant("dave", kPassword, code), "replayed otp");
  // ...and an older step is refused once a newer one was used.
  m_clock.advance(totp::kPeriod);
  const std::string previous = totp_now(start->secret_base32, -1);
  expect_invalid_grant(password_grant("dave", kPassword, previous), "older step");
  ASSERT_TRUE(password_grant("dave", kPassword, totp_now(start->secret_base32)).ok());
  // The next step's code is accepted (one step of clock drift).
  m_clock.advance(totp::kPeriod);
  ASSERT_TRUE(password_grant("dave", kPassword, totp_now(start->secret_base32, 1)).ok());
  // Two steps ahead is outside the window.
  m_clock.advance(totp::kPeriod * 3);
  expect_invalid_grant(password_grant("dave", kPassword, totp_now(start->secret_base32, 2)), "two steps ahead");
}

TEST_F(GrantTest, RestartedEnrolmentReplacesThePendingSecret) {
  create_user("dina", {Role::clerk});
  const Actor dina{"user:dina"};
  auto first = svc().start_totp_enrollment(dina);
  ASSERT_OK(first);
  auto second = svc().start_totp_enrollment(dina);
  ASSERT_OK(second);
  EXPECT_NE(first->secret_base32, second->secret_base32);
  // (A code of the first secret could equal the second's by chance once in 10^6.)
  if (totp_now(first->secret_base32) != totp_now(second->secret_base32)) {
    EXPECT_ERRC(svc().confirm_totp_enrollment(dina, totp_now(first->secret_base32)), Errc::unauthenticated);
  }
  ASSERT_OK(svc().confirm_totp_enrollment(dina, totp_now(second->secret_base32)));
}

TEST_F(GrantTest, MfaResetRequiresANewEnrolmentAndKillsOldCodes) {
  auto old = create_enrolled_user("ella", {Role::notary});
  ASSERT_TRUE(password_grant("ella", kPassword, old.recovery_codes[0]).ok());
  ASSERT_OK(svc().reset_mfa(Actor{"user:root"}, "ella"));
  auto view = svc().get_user("ella");
  ASSERT_OK(view);
  EXPECT_FALSE(view->mfa_enabled);
  // Back to the restricted token, whatever second factor is offered.
  for (const std::string& otp : {std::string(), totp_now(old.secret_base32), old.recovery_codes[1]}) {
    auto g = password_grant("ella", kPassword, otp);
    ASSERT_TRUE(g.ok()) << g.error().description;
    EXPECT_EQ(g.tokens().scope, "mfa_enroll") << otp;
  }
  // A new enrolment: the old secret and recovery codes are dead.
  const Actor ella{"user:ella"};
  auto start = svc().start_totp_enrollment(ella);
  ASSERT_OK(start);
  EXPECT_NE(start->secret_base32, old.secret_base32);
  auto codes = svc().confirm_totp_enrollment(ella, totp_now(start->secret_base32));
  ASSERT_OK(codes);
  m_clock.advance(totp::kPeriod);
  // (A few only: ten consecutive failures would lock the account.)
  for (std::size_t i = 1; i < 4; ++i)
    expect_invalid_grant(password_grant("ella", kPassword, old.recovery_codes[i]), "old recovery code");
  if (totp_now(old.secret_base32) != totp_now(start->secret_base32)) {
    expect_invalid_grant(password_grant("ella", kPassword, totp_now(old.secret_base32)), "old TOTP secret");
  }
  auto g = password_grant("ella", kPassword, totp_now(start->secret_base32));
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(g.tokens().scope, "notary");
  ASSERT_TRUE(password_grant("ella", kPassword, (*codes)[0]).ok());
}

TEST_F(GrantTest, TotpSecretsAreSealedAtRest) {
  auto e = create_enrolled_user("emma", {Role::clerk});
  auto rec = m_store->find_user("emma");
  ASSERT_OK(rec);
  EXPECT_TRUE(rec->totp_enabled);
  EXPECT_FALSE(rec->totp_secret.empty());
  auto secret = crypto::from_base32(e.secret_base32);
  ASSERT_TRUE(secret);
  EXPECT_EQ(rec->totp_secret.find(e.secret_base32), std::string::npos);
  EXPECT_EQ(rec->totp_secret.find(crypto::to_base64(*secret)), std::string::npos);
  // Another identity data key cannot open them: logins fail closed.
  auto other = IdentityService::create(IdentityStores::of(*m_store), *m_keys, *m_cache, m_clock,
                                       crypto::SecretBytes(crypto::ByteView(crypto::random_bytes(32))), m_options);
  ASSERT_OK(other);
  TokenRequest r;
  r.grant_type = "password";
  r.username = "emma";
  r.password = kPassword;
  r.otp = totp_now(e.secret_base32);
  auto g = (*other)->grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().error, OAuthError::invalid_request);
}

TEST_F(GrantTest, EnrolmentNeedsAUserActor) {
  EXPECT_ERRC(svc().start_totp_enrollment(Actor{"apikey:abcdefgh"}), Errc::unauthenticated);
  EXPECT_ERRC(svc().start_totp_enrollment(Actor{"user:nobody"}), Errc::unauthenticated);
  EXPECT_ERRC(svc().start_totp_enrollment(Actor{""}), Errc::unauthenticated);
}

TEST_F(GrantTest, RecoveryCodesWorkOnceEach) {
  auto erin = create_enrolled_user("erin", {Role::notary});
  ASSERT_EQ(erin.recovery_codes.size(), 10u);
  auto g = password_grant("erin", kPassword, erin.recovery_codes[0]);
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(g.tokens().scope, "notary");
  EXPECT_EQ(decode_jwt(g.tokens().access_token).payload["amr"], nlohmann::json::array({"pwd", "rc", "mfa"}));
  expect_invalid_grant(password_grant("erin", kPassword, erin.recovery_codes[0]), "recovery code reused");
  // Typed in capitals or without the dash: the same code.
  std::string typed = erin.recovery_codes[1];
  typed.erase(5, 1);
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_TRUE(password_grant("erin", kPassword, typed).ok());
  expect_invalid_grant(password_grant("erin", kPassword, erin.recovery_codes[1]), "recovery code reused");
  expect_invalid_grant(password_grant("erin", kPassword, "aaaaa-aaaaa"), "made-up recovery code");
  // Another user's codes are not this user's.
  auto fred = create_enrolled_user("fred", {Role::notary});
  expect_invalid_grant(password_grant("erin", kPassword, fred.recovery_codes[0]), "other user's code");
  ASSERT_TRUE(password_grant("fred", kPassword, fred.recovery_codes[0]).ok());
  // A recovery code never replaces the password.
  expect_invalid_grant(password_grant("erin", "wrong password!!", erin.recovery_codes[2]), "wrong password");
}

TEST_F(GrantTest, EveryCredentialFailureLooksTheSame) {
  auto gina = create_enrolled_user("gina", {Role::clerk});
  create_user("hank", {Role::service});
  ASSERT_OK(svc().update_user(Actor{"user:root"}, "hank", UserChange{{}, true, {}}));
  const std::vector<std::pair<std::string, GrantResult>> failures = {
      {"unknown user", password_grant("nobody", kPassword)},
      {"invalid username", password_grant("-not valid-", kPassword)},
      {"wrong password", password_grant("gina", "not the password", totp_now(gina.secret_base32))},
      {"missing otp", password_grant("gina", kPassword)},
      {"wrong otp", password_grant("gina", kPassword, wrong_totp(gina.secret_base32))},
      {"disabled", password_grant("hank", kPassword)},
      {"oversized", password_grant("gina", std::string(2000, 'x'))},
  };
  for (const auto& [what, g] : failures) {
    ASSERT_FALSE(g.ok()) << what;
    EXPECT_EQ(g.error().error, OAuthError::invalid_grant) << what;
    EXPECT_EQ(g.error().description, failures[0].second.error().description) << what;
    EXPECT_EQ(g.error().retry_after.count(), 0) << what;
    EXPECT_EQ(g.error().description.find("gina"), std::string::npos) << what;
  }
  EXPECT_EQ(http_status(OAuthError::invalid_grant), 400);
  EXPECT_EQ(to_string(OAuthError::invalid_grant), "invalid_grant");
}

TEST_F(GrantTest, MalformedRequests) {
  TokenRequest r;
  auto g = svc().grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::invalid_request);
  r.grant_type = "authorization_code";
  g = svc().grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::unsupported_grant_type);
  r.grant_type = "password";
  r.username = "someone";
  g = svc().grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::invalid_request);  // no password
  r.grant_type = "refresh_token";
  g = svc().grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::invalid_request);  // no refresh token
  expect_invalid_grant(refresh_grant("not-a-token"), "garbage refresh token");
  expect_invalid_grant(refresh_grant(std::string(43, 'A')), "unknown refresh token");
  r.grant_type = "client_credentials";
  g = svc().grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::invalid_client);
  EXPECT_EQ(http_status(OAuthError::invalid_client), 401);
}

TEST_F(GrantTest, ServiceAccountsNeedNoMfa) {
  create_user("robot", {Role::service});
  auto view = svc().get_user("robot");
  ASSERT_OK(view);
  EXPECT_FALSE(view->mfa_required);
  auto g = password_grant("robot");
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(g.tokens().scope, "service");
  EXPECT_FALSE(g.tokens().refresh_token.empty());
  EXPECT_EQ(decode_jwt(g.tokens().access_token).payload["amr"], nlohmann::json::array({"pwd"}));
  auto p = svc().authenticate_bearer(g.tokens().access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->roles, std::vector<Role>{Role::service});
  // A refresh keeps working for a service session.
  ASSERT_TRUE(refresh_grant(g.tokens().refresh_token).ok());
}

TEST_F(GrantTest, RefreshRotatesAndReuseRevokesTheFamily) {
  auto ivan = create_enrolled_user("ivan", {Role::notary});
  const auto first = login("ivan", ivan);
  const auto sid = decode_jwt(first.access_token).payload["sid"];

  auto r1 = refresh_grant(first.refresh_token);
  ASSERT_TRUE(r1.ok()) << r1.error().description;
  EXPECT_NE(r1.tokens().refresh_token, first.refresh_token);
  EXPECT_FALSE(r1.tokens().refresh_token.empty());
  EXPECT_NE(r1.tokens().access_token, first.access_token);
  EXPECT_EQ(r1.tokens().scope, "notary");
  EXPECT_EQ(r1.tokens().expires_in, 600);
  const auto c1 = decode_jwt(r1.tokens().access_token).payload;
  EXPECT_EQ(c1["sid"], sid);  // same session
  EXPECT_EQ(c1["amr"], nlohmann::json::array({"pwd", "otp", "mfa"}));
  auto p = svc().authenticate_bearer(r1.tokens().access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->roles, std::vector<Role>{Role::notary});

  auto r2 = refresh_grant(r1.tokens().refresh_token);
  ASSERT_TRUE(r2.ok()) << r2.error().description;
  ASSERT_OK(svc().authenticate_bearer(r2.tokens().access_token));

  // The first refresh token again: invalid, and the whole family is gone.
  expect_invalid_grant(refresh_grant(first.refresh_token), "reused refresh token");
  expect_invalid_grant(refresh_grant(r2.tokens().refresh_token), "newest refresh token after reuse");
  for (const auto& t : {first.access_token, r1.tokens().access_token, r2.tokens().access_token})
    EXPECT_ERRC(svc().authenticate_bearer(t), Errc::unauthenticated);
  // Another session of the same user is untouched.
  const auto other = login("ivan", ivan);
  ASSERT_OK(svc().authenticate_bearer(other.access_token));
  ASSERT_TRUE(refresh_grant(other.refresh_token).ok());
}

TEST_F(GrantTest, RefreshTokensExpire) {
  create_user("judy", {Role::service});
  auto g = password_grant("judy");
  ASSERT_TRUE(g.ok());
  m_clock.advance(m_options.refresh_token_ttl - std::chrono::seconds(1));
  auto r = refresh_grant(g.tokens().refresh_token);
  ASSERT_TRUE(r.ok()) << r.error().description;
  // The rotated token has a fresh lifetime; the family's tokens each expire.
  m_clock.advance(m_options.refresh_token_ttl);
  expect_invalid_grant(refresh_grant(r.tokens().refresh_token), "expired refresh token");
}

TEST_F(GrantTest, RefreshEndsWhenTheAccountChanged) {
  auto kate = create_enrolled_user("kate", {Role::clerk});
  auto s = login("kate", kate);
  ASSERT_OK(svc().update_user(Actor{"user:root"}, "kate", UserChange{std::vector<Role>{Role::notary}, {}, {}}));
  expect_invalid_grant(refresh_grant(s.refresh_token), "roles changed");
  auto s2 = login("kate", kate);
  ASSERT_OK(svc().update_user(Actor{"user:root"}, "kate", UserChange{{}, true, {}}));
  expect_invalid_grant(refresh_grant(s2.refresh_token), "disabled");
}

TEST_F(GrantTest, ThrottlingPerUsername) {
  IdentityOptions o = m_options;
  o.throttle = LoginThrottle{};  // defaults: 5 at once, then one per 30 s
  auto throttled = make_service(o);
  ASSERT_NE(throttled, nullptr);
  create_user("leo", {Role::service});
  TokenRequest r;
  r.grant_type = "password";
  r.username = "leo";
  r.password = "wrong password, again";
  r.source = "198.51.100.7";
  for (int i = 0; i < 5; ++i) {
    auto g = throttled->grant(r);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().error, OAuthError::invalid_grant) << "attempt " << i + 1;
  }
  r.password = kPassword;  // even the right password waits
  auto g = throttled->grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::slow_down);
  EXPECT_GT(g.error().retry_after.count(), 0);
  EXPECT_LE(g.error().retry_after.count(), 30);
  EXPECT_EQ(http_status(OAuthError::slow_down), 429);
  EXPECT_EQ(to_string(OAuthError::slow_down), "slow_down");
  // The bucket is per username ignoring case, and from any address.
  r.username = "LEO";
  r.source = "203.0.113.9";
  g = throttled->grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::slow_down);
  // Another user is not affected.
  create_user("mia", {Role::service});
  TokenRequest other = r;
  other.username = "mia";
  ASSERT_TRUE(throttled->grant(other).ok());
  // One token comes back every 30 s.
  m_clock.advance(std::chrono::seconds(30));
  r.username = "leo";
  g = throttled->grant(r);
  ASSERT_TRUE(g.ok()) << g.error().description;
  g = throttled->grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::slow_down);
}

TEST_F(GrantTest, ThrottlingPerSource) {
  IdentityOptions o = m_options;
  o.throttle.per_source = cache::TokenBucket{3, 0.5};
  auto throttled = make_service(o);
  ASSERT_NE(throttled, nullptr);
  TokenRequest r;
  r.grant_type = "password";
  r.password = "whatever password";
  r.source = "198.51.100.8";
  for (int i = 0; i < 3; ++i) {
    r.username = "spray" + std::to_string(i);
    auto g = throttled->grant(r);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().error, OAuthError::invalid_grant);
  }
  r.username = "spray9";
  auto g = throttled->grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::slow_down);
  EXPECT_GT(g.error().retry_after.count(), 0);
  r.source = "198.51.100.9";
  g = throttled->grant(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::invalid_grant);
}

TEST_F(GrantTest, LockoutAfterRepeatedFailures) {
  IdentityOptions o = m_options;
  o.throttle.lockout_after = 3;
  o.throttle.lockout = std::chrono::seconds(900);
  auto svc2 = make_service(o);
  ASSERT_NE(svc2, nullptr);
  create_user("nina", {Role::service});
  TokenRequest bad;
  bad.grant_type = "password";
  bad.username = "nina";
  bad.password = "not her password";
  TokenRequest good = bad;
  good.password = kPassword;

  // Failures below the limit are forgotten by a success.
  ASSERT_FALSE(svc2->grant(bad).ok());
  ASSERT_FALSE(svc2->grant(bad).ok());
  ASSERT_TRUE(svc2->grant(good).ok());
  ASSERT_FALSE(svc2->grant(bad).ok());
  ASSERT_FALSE(svc2->grant(bad).ok());
  auto view = svc2->get_user("nina");
  ASSERT_OK(view);
  EXPECT_EQ(view->locked_until, 0);

  const auto locked_at = core::to_unix(m_clock.now());
  auto third = svc2->grant(bad);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().error, OAuthError::invalid_grant);
  view = svc2->get_user("nina");
  ASSERT_OK(view);
  EXPECT_EQ(view->locked_until, locked_at + 900);
  // Locked: the right password is refused, with the same answer as a wrong one.
  auto refused = svc2->grant(good);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().error, OAuthError::invalid_grant);
  EXPECT_EQ(refused.error().description, third.error().description);
  m_clock.advance(std::chrono::seconds(899));
  ASSERT_FALSE(svc2->grant(good).ok());
  m_clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(svc2->grant(good).ok());
  view = svc2->get_user("nina");
  ASSERT_OK(view);
  EXPECT_EQ(view->locked_until, 0);
}

TEST_F(GrantTest, EnablingAnAccountLiftsItsLockout) {
  IdentityOptions o = m_options;
  o.throttle.lockout_after = 2;
  auto svc2 = make_service(o);
  ASSERT_NE(svc2, nullptr);
  create_user("oscar", {Role::service});
  ASSERT_FALSE(password_grant("oscar", "not his password").ok());
  TokenRequest bad;
  bad.grant_type = "password";
  bad.username = "oscar";
  bad.password = "not his password";
  ASSERT_FALSE(svc2->grant(bad).ok());
  ASSERT_FALSE(svc2->grant(bad).ok());
  ASSERT_FALSE(password_grant("oscar").ok());  // locked
  ASSERT_OK(svc().update_user(Actor{"user:root"}, "oscar", UserChange{{}, false, {}}));
  ASSERT_TRUE(password_grant("oscar").ok());
}

TEST_F(GrantTest, MfaFailuresCountTowardsLockout) {
  IdentityOptions o = m_options;
  o.throttle.lockout_after = 3;
  auto svc2 = make_service(o);
  ASSERT_NE(svc2, nullptr);
  auto pat = create_enrolled_user("pat", {Role::auditor});
  TokenRequest r;
  r.grant_type = "password";
  r.username = "pat";
  r.password = kPassword;
  for (const std::string& otp : {std::string(), wrong_totp(pat.secret_base32), std::string("zzzzz-zzzzz")}) {
    r.otp = otp;
    ASSERT_FALSE(svc2->grant(r).ok()) << otp;
  }
  r.otp = totp_now(pat.secret_base32);
  auto g = svc2->grant(r);
  ASSERT_FALSE(g.ok());  // locked, even with the right password and code
  EXPECT_EQ(g.error().error, OAuthError::invalid_grant);
}

}  // namespace
}  // namespace cartorio::identity::test
