// Signing-key rotation: old tokens verify until they expire, the JWKS publishes exactly
// the keys that may have signed a live token, new tokens name the new kid, and another
// instance over the same store follows.
#include "identity_test_support.h"

#include "identity/jwt.h"

#include <set>

namespace cartorio::identity::test {
namespace {

using core::Errc;

class KeyRotationTest : public IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    if (HasFatalFailure()) return;
    // A service account: password grant without MFA, so each login is one call.
    create_user("batch", {Role::service});
  }

  TokenResponse login_service() {
    auto g = password_grant("batch");
    EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().description);
    return g.ok() ? g.tokens() : TokenResponse{};
  }

  std::vector<std::string> jwks_kids() {
    auto j = svc().jwks_json();
    EXPECT_TRUE(j) << j.error().to_string();
    std::vector<std::string> kids;
    if (!j) return kids;
    const auto doc = nlohmann::json::parse(*j);  // (not a temporary in the range-for: it would dangle)
    for (const auto& k : doc["keys"]) kids.push_back(k["kid"].get<std::string>());
    return kids;
  }

  static std::string kid_of(const std::string& token) { return decode_jwt(token).header["kid"].get<std::string>(); }

  // The verify grace of the service's ring: longest token lifetime + leeway + key cache TTL.
  std::chrono::seconds grace() const {
    return std::max(m_options.access_token_ttl, m_options.mfa_enroll_token_ttl) + m_options.clock_leeway +
           m_options.signing_key_cache_ttl;
  }
};

TEST_F(KeyRotationTest, EnsureSigningKeyIsIdempotent) {
  auto a = svc().ensure_signing_key();
  ASSERT_OK(a);
  auto b = svc().ensure_signing_key();
  ASSERT_OK(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(jwks_kids(), std::vector<std::string>{*a});
  EXPECT_EQ(kid_of(login_service().access_token), *a);
}

TEST_F(KeyRotationTest, JwksIsPublicKeysOnly) {
  ASSERT_OK(svc().ensure_signing_key());
  auto j = svc().jwks_json();
  ASSERT_OK(j);
  const auto keys = nlohmann::json::parse(*j)["keys"];
  ASSERT_EQ(keys.size(), 1u);
  const auto& k = keys[0];
  EXPECT_EQ(k["kty"], "EC");
  EXPECT_EQ(k["crv"], "P-256");
  EXPECT_EQ(k["alg"], "ES256");
  EXPECT_EQ(k["use"], "sig");
  EXPECT_EQ(k["x"].get<std::string>().size(), 43u);
  EXPECT_EQ(k["y"].get<std::string>().size(), 43u);
  EXPECT_FALSE(k.contains("d"));
  // The kid is the RFC 7638 thumbprint of the published key.
  EXPECT_EQ(k["kid"], jwt::jwk_thumbprint(jwt::EcPublicJwk{k["x"].get<std::string>(), k["y"].get<std::string>()}));
}

TEST_F(KeyRotationTest, OldTokensVerifyUntilTheyExpireAndJwksFollows) {
  auto kid1 = svc().ensure_signing_key();
  ASSERT_OK(kid1);
  const auto old_token = login_service();
  ASSERT_EQ(kid_of(old_token.access_token), *kid1);
  const auto rotated_at = m_clock.now();

  auto kid2 = svc().rotate_signing_key(Actor{"user:root"});
  ASSERT_OK(kid2);
  EXPECT_NE(*kid2, *kid1);
  auto current = svc().ensure_signing_key();
  ASSERT_OK(current);
  EXPECT_EQ(*current, *kid2);

  // New tokens carry the new kid; the old token still verifies.
  const auto new_token = login_service();
  EXPECT_EQ(kid_of(new_token.access_token), *kid2);
  ASSERT_OK(svc().authenticate_bearer(old_token.access_token));
  ASSERT_OK(svc().authenticate_bearer(new_token.access_token));
  // Both keys are published, the current one first.
  EXPECT_EQ(jwks_kids(), (std::vector<std::string>{*kid2, *kid1}));

  // The old token lives out its lifetime (+ leeway) under the retired key...
  m_clock.set(rotated_at + m_options.access_token_ttl + m_options.clock_leeway - std::chrono::seconds(1));
  ASSERT_OK(svc().authenticate_bearer(old_token.access_token));
  m_clock.set(rotated_at + m_options.access_token_ttl + m_options.clock_leeway);
  EXPECT_ERRC(svc().authenticate_bearer(old_token.access_token), Errc::unauthenticated);
  // ...and the retired key stays published until no token it signed can be live.
  m_clock.set(rotated_at + grace() - std::chrono::seconds(1));
  EXPECT_EQ(jwks_kids(), (std::vector<std::string>{*kid2, *kid1}));
  m_clock.set(rotated_at + grace());
  EXPECT_EQ(jwks_kids(), std::vector<std::string>{*kid2});
  m_clock.advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(jwks_kids(), std::vector<std::string>{*kid2});
  EXPECT_EQ(kid_of(login_service().access_token), *kid2);
}

TEST_F(KeyRotationTest, RetiredKeyStopsVerifyingAfterItsGraceWhateverTheClaims) {
  ASSERT_OK(svc().ensure_signing_key());
  const auto login = login_service();
  // A token of the first key whose claims outlive the grace period (a bug or a stolen key).
  nlohmann::json claims = decode_jwt(login.access_token).payload;
  claims["exp"] = core::to_unix(m_clock.now()) + 7 * 24 * 3600;
  const std::string long_lived = sign_with_current_key(claims);
  ASSERT_OK(svc().authenticate_bearer(long_lived));
  const auto rotated_at = m_clock.now();
  ASSERT_OK(svc().rotate_signing_key(Actor{"user:root"}));
  m_clock.set(rotated_at + grace() - std::chrono::seconds(1));
  ASSERT_OK(svc().authenticate_bearer(long_lived));
  m_clock.set(rotated_at + grace());
  auto r = svc().authenticate_bearer(long_lived);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unauthenticated);
  testing::expect_contains(r.error().message, "signature does not verify with a current key");
}

TEST_F(KeyRotationTest, SeveralRotationsKeepEveryKeyInGrace) {
  std::vector<std::string> kids;
  auto first = svc().ensure_signing_key();
  ASSERT_OK(first);
  kids.push_back(*first);
  std::vector<TokenResponse> tokens = {login_service()};
  for (int i = 0; i < 3; ++i) {
    m_clock.advance(std::chrono::seconds(60));
    auto k = svc().rotate_signing_key(Actor{"user:root"});
    ASSERT_OK(k);
    kids.push_back(*k);
    tokens.push_back(login_service());
  }
  EXPECT_EQ(std::set<std::string>(kids.begin(), kids.end()).size(), 4u);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(kid_of(tokens[i].access_token), kids[i]);
    ASSERT_OK(svc().authenticate_bearer(tokens[i].access_token));
  }
  EXPECT_EQ(jwks_kids(), (std::vector<std::string>{kids[3], kids[2], kids[1], kids[0]}));
}

TEST_F(KeyRotationTest, AnotherInstanceFollowsARotation) {
  auto other = make_service(m_options);
  ASSERT_NE(other, nullptr);
  auto kid1 = svc().ensure_signing_key();
  ASSERT_OK(kid1);
  const auto t1 = login_service();
  ASSERT_OK(other->authenticate_bearer(t1.access_token));  // `other` has now cached the key list
  auto kid2 = svc().rotate_signing_key(Actor{"user:root"});
  ASSERT_OK(kid2);
  const auto t2 = login_service();
  // An unknown kid makes the other instance reload at once rather than wait for its cache.
  ASSERT_OK(other->authenticate_bearer(t2.access_token));
  ASSERT_OK(other->authenticate_bearer(t1.access_token));
  // Within its cache TTL the other instance may still sign with the retired key; after it,
  // it signs with the new one.
  m_clock.advance(m_options.signing_key_cache_ttl);
  TokenRequest r;
  r.grant_type = "password";
  r.username = "batch";
  r.password = kPassword;
  auto g = other->grant(r);
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(kid_of(g.tokens().access_token), *kid2);
  ASSERT_OK(svc().authenticate_bearer(g.tokens().access_token));
}

}  // namespace
}  // namespace cartorio::identity::test
