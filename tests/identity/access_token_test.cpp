// Access tokens through IdentityService::authenticate_bearer: what is accepted, and every
// forgery, alteration, expiry and revocation that must be refused.
#include "identity_test_support.h"

#include "crypto/key_pair.h"
#include "identity/jwt.h"

namespace cartorio::identity::test {
namespace {

using core::Errc;

class AccessTokenTest : public IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    if (HasFatalFailure()) return;
    m_bob = create_enrolled_user("bob", {Role::notary});
    ASSERT_FALSE(HasFailure());
    m_tokens = login("bob", m_bob);
    ASSERT_FALSE(m_tokens.access_token.empty());
    m_jwt = decode_jwt(m_tokens.access_token);
  }

  // Expects authenticate_bearer to refuse `token` as unauthenticated, for a reason whose
  // log message mentions `why`.
  void expect_refused(const std::string& token, const std::string& why) {
    auto p = svc().authenticate_bearer(token);
    ASSERT_FALSE(p) << "accepted: " << token;
    EXPECT_EQ(p.error().code, Errc::unauthenticated) << p.error().to_string();
    if (!why.empty()) testing::expect_contains(p.error().message, why);
  }

  // header.payload with the given JSON and the given signature part.
  static std::string assemble(const nlohmann::json& header, const nlohmann::json& payload,
                              const std::string& signature_b64) {
    return b64url(header.dump()) + "." + b64url(payload.dump()) + "." + signature_b64;
  }

  Enrolled m_bob;
  TokenResponse m_tokens;
  DecodedJwt m_jwt;
};

TEST_F(AccessTokenTest, ValidTokenIsAcceptedWithItsRoles) {
  EXPECT_EQ(m_tokens.token_type, "Bearer");
  EXPECT_EQ(m_tokens.expires_in, 600);
  EXPECT_EQ(m_tokens.scope, "notary");
  EXPECT_FALSE(m_tokens.refresh_token.empty());

  auto p = svc().authenticate_bearer(m_tokens.access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->subject, "user:bob");
  EXPECT_EQ(p->roles, std::vector<Role>{Role::notary});
  EXPECT_EQ(p->method, AuthMethod::bearer_token);
  EXPECT_FALSE(p->mfa_enrollment_only);
  EXPECT_EQ(p->token_id, m_jwt.payload["jti"].get<std::string>());
  EXPECT_TRUE(p->allows(Permission::document_sign));
  EXPECT_FALSE(p->allows(Permission::user_admin));
}

TEST_F(AccessTokenTest, TokenIsAnEs256AtJwtWithOurClaims) {
  auto kid = svc().ensure_signing_key();
  ASSERT_OK(kid);
  EXPECT_EQ(m_jwt.header["alg"], "ES256");
  EXPECT_EQ(m_jwt.header["typ"], "at+jwt");
  EXPECT_EQ(m_jwt.header["kid"], *kid);
  const auto& c = m_jwt.payload;
  EXPECT_EQ(c["iss"], "cartorio");
  EXPECT_EQ(c["aud"], "cartorio-api");
  EXPECT_EQ(c["sub"], "user:bob");
  EXPECT_EQ(c["client_id"], "cartorio");
  EXPECT_EQ(c["roles"], nlohmann::json::array({"notary"}));
  EXPECT_EQ(c["scope"], "notary");
  EXPECT_EQ(c["exp"].get<std::int64_t>() - c["iat"].get<std::int64_t>(), 600);
  EXPECT_EQ(c["nbf"], c["iat"]);
  EXPECT_TRUE(c["sid"].get<std::string>().starts_with("sid_"));
  EXPECT_EQ(c["amr"], nlohmann::json::array({"pwd", "otp", "mfa"}));
  EXPECT_FALSE(c["jti"].get<std::string>().empty());
  // Nothing secret travels in the token.
  EXPECT_FALSE(c.contains("password"));
  EXPECT_EQ(m_tokens.access_token.find(m_tokens.refresh_token), std::string::npos);
}

TEST_F(AccessTokenTest, AlgNoneIsRefused) {
  nlohmann::json header = {{"alg", "none"}, {"typ", "at+jwt"}, {"kid", m_jwt.header["kid"]}};
  expect_refused(assemble(header, m_jwt.payload, ""), "alg");
  expect_refused(assemble(header, m_jwt.payload, m_jwt.signature_b64), "alg");
  expect_refused(assemble({{"alg", "none"}}, m_jwt.payload, ""), "alg");
  expect_refused(assemble({{"alg", "None"}, {"typ", "at+jwt"}, {"kid", m_jwt.header["kid"]}}, m_jwt.payload, ""),
                 "alg");
  // No alg at all.
  expect_refused(assemble({{"typ", "at+jwt"}, {"kid", m_jwt.header["kid"]}}, m_jwt.payload, m_jwt.signature_b64),
                 "alg");
}

TEST_F(AccessTokenTest, Hs256WithThePublicKeyAsSecretIsRefused) {
  // The classic key-confusion forgery: HMAC keyed with what the verifier publishes.
  auto jwks = svc().jwks_json();
  ASSERT_OK(jwks);
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", m_jwt.header["kid"]}};
  nlohmann::json payload = m_jwt.payload;
  payload["roles"] = {"admin"};
  payload["scope"] = "admin";
  const std::string input = b64url(header.dump()) + "." + b64url(payload.dump());
  for (const std::string& secret : {*jwks, nlohmann::json::parse(*jwks)["keys"][0].dump(), std::string("secret")}) {
    const auto mac = crypto::hmac_sha256(crypto::as_bytes(secret), crypto::as_bytes(input));
    expect_refused(input + "." + crypto::to_base64url(mac), "alg");
  }
}

TEST_F(AccessTokenTest, ChangedSignatureByteIsRefused) {
  auto sig = crypto::from_base64url(m_jwt.signature_b64);
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->size(), 64u);
  const auto dot = m_tokens.access_token.rfind('.');
  for (std::size_t i : {0u, 17u, 32u, 63u}) {
    auto bad = *sig;
    bad[i] ^= 0x40;
    expect_refused(m_tokens.access_token.substr(0, dot + 1) + crypto::to_base64url(bad), "signature");
  }
  // Truncated or extended signatures.
  auto shorter = *sig;
  shorter.pop_back();
  expect_refused(m_tokens.access_token.substr(0, dot + 1) + crypto::to_base64url(shorter), "signature");
  auto longer = *sig;
  longer.push_back(0);
  expect_refused(m_tokens.access_token.substr(0, dot + 1) + crypto::to_base64url(longer), "signature");
  // The DER form of the same signature is not ES256's R || S.
  auto der = crypto::ecdsa_raw_to_der(*sig);
  ASSERT_OK(der);
  expect_refused(m_tokens.access_token.substr(0, dot + 1) + crypto::to_base64url(*der), "signature");
}

TEST_F(AccessTokenTest, ModifiedPayloadWithTheOriginalSignatureIsRefused) {
  nlohmann::json elevated = m_jwt.payload;
  elevated["roles"] = {"admin", "notary"};
  elevated["scope"] = "admin notary";
  const std::string header_b64 = split_dots(m_tokens.access_token)[0];
  expect_refused(header_b64 + "." + b64url(elevated.dump()) + "." + m_jwt.signature_b64, "signature");

  nlohmann::json later = m_jwt.payload;
  later["exp"] = later["exp"].get<std::int64_t>() + 86400;
  expect_refused(header_b64 + "." + b64url(later.dump()) + "." + m_jwt.signature_b64, "signature");

  nlohmann::json other_user = m_jwt.payload;
  other_user["sub"] = "user:admin";
  expect_refused(header_b64 + "." + b64url(other_user.dump()) + "." + m_jwt.signature_b64, "signature");

  // The same claims re-serialised (whitespace) are other bytes: refused too.
  expect_refused(header_b64 + "." + b64url(m_jwt.payload.dump(1)) + "." + m_jwt.signature_b64, "signature");
}

TEST_F(AccessTokenTest, ForgedWithAnotherKeyUnderOurKidIsRefused) {
  auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  ASSERT_OK(key);
  nlohmann::json payload = m_jwt.payload;
  payload["roles"] = {"admin"};
  auto forged = jwt::sign_es256(key->get(), m_jwt.header.dump(), payload.dump());
  ASSERT_OK(forged);
  expect_refused(*forged, "signature");
}

TEST_F(AccessTokenTest, UnknownKidIsRefused) {
  auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  ASSERT_OK(key);
  nlohmann::json header = m_jwt.header;
  header["kid"] = "attacker-kid";
  auto forged = jwt::sign_es256(key->get(), header.dump(), m_jwt.payload.dump());
  ASSERT_OK(forged);
  expect_refused(*forged, "kid attacker-kid");
  // Our token with its kid changed (the signature covers the header).
  header = m_jwt.header;
  header["kid"] = "k2";
  expect_refused(assemble(header, m_jwt.payload, m_jwt.signature_b64), "kid k2");
  header.erase("kid");
  expect_refused(assemble(header, m_jwt.payload, m_jwt.signature_b64), "kid");
  header["kid"] = "";
  expect_refused(assemble(header, m_jwt.payload, m_jwt.signature_b64), "kid");
  // A JWK embedded in the header is never trusted.
  auto jwk = jwt::p256_public_jwk(key->get());
  ASSERT_OK(jwk);
  header = {{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", "x"},
            {"jwk", {{"kty", "EC"}, {"crv", "P-256"}, {"x", jwk->x}, {"y", jwk->y}}}};
  auto embedded = jwt::sign_es256(key->get(), header.dump(), m_jwt.payload.dump());
  ASSERT_OK(embedded);
  expect_refused(*embedded, "signature");
}

TEST_F(AccessTokenTest, ExpiredTokenIsRefusedAfterTtlPlusLeeway) {
  // login() moved the clock one TOTP step after issuing the token.
  const auto exp = m_jwt.payload["exp"].get<std::int64_t>();
  const auto leeway = m_options.clock_leeway.count();
  m_clock.set(core::from_unix(exp + leeway - 1));
  ASSERT_OK(svc().authenticate_bearer(m_tokens.access_token));  // within the leeway
  m_clock.set(core::from_unix(exp + leeway));
  expect_refused(m_tokens.access_token, "expired");
  m_clock.advance(std::chrono::hours(24));
  expect_refused(m_tokens.access_token, "expired");
}

TEST_F(AccessTokenTest, ClaimsAreCheckedEvenUnderAValidSignature) {
  // A control: the helper re-signs with our current key, and unchanged claims pass.
  ASSERT_OK(svc().authenticate_bearer(sign_with_current_key(m_jwt.payload)));

  auto with = [&](const std::string& name, const nlohmann::json& value) {
    nlohmann::json c = m_jwt.payload;
    c[name] = value;
    return sign_with_current_key(c);
  };
  auto without = [&](const std::string& name) {
    nlohmann::json c = m_jwt.payload;
    c.erase(name);
    return sign_with_current_key(c);
  };
  const auto now = core::to_unix(m_clock.now());
  expect_refused(with("iss", "https://evil.example"), "iss");
  expect_refused(without("iss"), "iss");
  expect_refused(with("aud", "another-api"), "aud");
  expect_refused(with("aud", nlohmann::json::array({"another-api"})), "aud");
  expect_refused(without("aud"), "aud");
  expect_refused(without("exp"), "claim");
  expect_refused(without("sub"), "claim");
  expect_refused(without("jti"), "claim");
  expect_refused(with("exp", std::to_string(now + 600)), "claim");  // a string is not a NumericDate
  expect_refused(with("nbf", now + 3600), "not yet valid");
  expect_refused(with("iat", now + 3600), "future");
  expect_refused(with("roles", nlohmann::json::array({"superuser"})), "role");
  expect_refused(with("sid", "sid_0000"), "session");
  expect_refused(without("sid"), "neither");
  expect_refused(sign_with_current_key(m_jwt.payload, "JWT"), "typ");
  // The audience may be an array that holds ours (RFC 7519 4.1.3).
  ASSERT_OK(svc().authenticate_bearer(with("aud", nlohmann::json::array({"x", "cartorio-api"}))));
  // "application/at+jwt" is the same media type (RFC 9068 2.1).
  ASSERT_OK(svc().authenticate_bearer(sign_with_current_key(m_jwt.payload, "application/at+jwt")));
}

TEST_F(AccessTokenTest, GarbageIsRefused) {
  const std::vector<std::string> garbage = {
      "",
      "garbage",
      "a.b.c",
      "...",
      "..",
      ".",
      "eyJhbGciOiJFUzI1NiJ9",
      "eyJhbGciOiJFUzI1NiJ9.e30.",
      "e30.e30.e30",
      "bnVsbA.bnVsbA.",                                    // JSON null
      b64url("[1,2]") + "." + b64url("{}") + ".",         // header is not an object
      b64url("{\"alg\":\"ES256\"") + "." + b64url("{}") + ".",  // truncated JSON
      m_tokens.refresh_token,
      m_tokens.access_token + ".",
      m_tokens.access_token + "x",
      " " + m_tokens.access_token,
      "Bearer " + m_tokens.access_token,
      std::string(20000, 'A'),
      std::string("\0\0\0", 3),
  };
  for (const auto& g : garbage) expect_refused(g, "");
}

TEST_F(AccessTokenTest, RevokedSessionIsRefused) {
  // A second session of the same user is independent.
  auto other = login("bob", m_bob);
  ASSERT_OK(svc().revoke(m_tokens.access_token, Actor{"user:bob"}));
  expect_refused(m_tokens.access_token, "revoked");
  // The session's refresh token died with it.
  auto refreshed = refresh_grant(m_tokens.refresh_token);
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().error, OAuthError::invalid_grant);
  ASSERT_OK(svc().authenticate_bearer(other.access_token));
  // Revoking by refresh token ends that session's access tokens as well.
  ASSERT_OK(svc().revoke(other.refresh_token, Actor{"user:bob"}));
  expect_refused(other.access_token, "revoked");
  // Revoking again, or something unknown, is not an error (RFC 7009 2.2).
  ASSERT_OK(svc().revoke(other.refresh_token, Actor{"user:bob"}));
  ASSERT_OK(svc().revoke("garbage", Actor{"user:bob"}));
  ASSERT_OK(svc().revoke("", Actor{"user:bob"}));
  ASSERT_OK(svc().revoke(std::string(43, 'A'), Actor{"user:bob"}));
}

// Logging out after the access token expired (an idle portal tab) must still end the
// session: the token is ours (its signature verifies), so it names the session to revoke,
// and the session's refresh token must stop working.
TEST_F(AccessTokenTest, RevokingAnExpiredAccessTokenStillEndsItsSession) {
  const auto exp = m_jwt.payload["exp"].get<std::int64_t>();
  m_clock.set(core::from_unix(exp + m_options.clock_leeway.count() + 60));
  expect_refused(m_tokens.access_token, "expired");
  ASSERT_OK(svc().revoke(m_tokens.access_token, Actor{"user:bob"}));
  auto refreshed = refresh_grant(m_tokens.refresh_token);
  ASSERT_FALSE(refreshed.ok()) << "the session outlived its revocation";
  EXPECT_EQ(refreshed.error().error, OAuthError::invalid_grant);
  // A forged or altered token still revokes nothing.
  auto other = login("bob", m_bob);
  nlohmann::json c = decode_jwt(other.access_token).payload;
  const std::string header_b64 = split_dots(other.access_token)[0];
  c["jti"] = "changed";
  ASSERT_OK(svc().revoke(header_b64 + "." + b64url(c.dump()) + "." + decode_jwt(other.access_token).signature_b64,
                         Actor{"anonymous"}));
  ASSERT_OK(svc().authenticate_bearer(other.access_token));
  ASSERT_TRUE(refresh_grant(other.refresh_token).ok());
}

TEST_F(AccessTokenTest, FamilyRevokedByRefreshReuseIsRefused) {
  auto r1 = refresh_grant(m_tokens.refresh_token);
  ASSERT_TRUE(r1.ok()) << r1.error().description;
  ASSERT_OK(svc().authenticate_bearer(r1.tokens().access_token));
  // The first refresh token again: someone copied it. The whole session ends.
  auto reuse = refresh_grant(m_tokens.refresh_token);
  ASSERT_FALSE(reuse.ok());
  EXPECT_EQ(reuse.error().error, OAuthError::invalid_grant);
  expect_refused(m_tokens.access_token, "revoked");
  expect_refused(r1.tokens().access_token, "revoked");
  auto newest = refresh_grant(r1.tokens().refresh_token);
  ASSERT_FALSE(newest.ok());
  EXPECT_EQ(newest.error().error, OAuthError::invalid_grant);
}

TEST_F(AccessTokenTest, AccountChangesEndSessions) {
  auto second = login("bob", m_bob);
  ASSERT_OK(svc().update_user(Actor{"user:root"}, "bob", UserChange{std::vector<Role>{Role::clerk}, {}, {}}));
  expect_refused(m_tokens.access_token, "revoked");
  expect_refused(second.access_token, "revoked");
  // A fresh login carries the new roles.
  auto fresh = login("bob", m_bob);
  auto p = svc().authenticate_bearer(fresh.access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->roles, std::vector<Role>{Role::clerk});
  // Disabling ends them too, and a disabled account cannot log in.
  ASSERT_OK(svc().update_user(Actor{"user:root"}, "bob", UserChange{{}, true, {}}));
  expect_refused(fresh.access_token, "revoked");
  auto g = password_grant("bob", kPassword, totp_now(m_bob.secret_base32));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::invalid_grant);
}

TEST_F(AccessTokenTest, PasswordChangeAndMfaResetEndSessions) {
  ASSERT_OK(svc().change_password(Actor{"user:bob"}, kPassword, "a brand new passphrase"));
  expect_refused(m_tokens.access_token, "revoked");
  auto again = password_grant("bob", "a brand new passphrase", totp_now(m_bob.secret_base32));
  ASSERT_TRUE(again.ok()) << again.error().description;
  ASSERT_OK(svc().reset_mfa(Actor{"user:root"}, "bob"));
  expect_refused(again.tokens().access_token, "revoked");
  // Without TOTP the account is back to the restricted enrolment token.
  m_clock.advance(totp::kPeriod);
  auto restricted = password_grant("bob", "a brand new passphrase");
  ASSERT_TRUE(restricted.ok()) << restricted.error().description;
  EXPECT_EQ(restricted.tokens().scope, "mfa_enroll");
}

}  // namespace
}  // namespace cartorio::identity::test
