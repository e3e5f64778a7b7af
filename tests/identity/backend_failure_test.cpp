// Backend failures are not verdicts on credentials: a store or cache that is down gives
// store_unavailable / temporarily_unavailable (503), never a 401 or a token; the login
// throttle fails closed.
#include "identity_test_support.h"

#include <atomic>

namespace cartorio::identity::test {
namespace {

using core::Errc;
using core::Error;

// A cache whose every call fails while `down` is set, else the in-process cache.
class SwitchableCache final : public cache::Cache {
 public:
  explicit SwitchableCache(cache::Cache& inner) : m_inner(inner) {}
  std::atomic<bool> down{false};

  core::Result<std::optional<std::string>> get(std::string_view key) override {
    if (down) return fail();
    return m_inner.get(key);
  }
  core::Result<void> set(std::string_view key, std::string_view value, cache::Ttl ttl) override {
    if (down) return fail();
    return m_inner.set(key, value, ttl);
  }
  core::Result<bool> erase(std::string_view key) override {
    if (down) return fail();
    return m_inner.erase(key);
  }
  core::Result<bool> set_if_absent(std::string_view key, std::string_view value, cache::Ttl ttl) override {
    if (down) return fail();
    return m_inner.set_if_absent(key, value, ttl);
  }
  core::Result<cache::TokenGrant> take_token(std::string_view bucket, const cache::TokenBucket& spec,
                                             std::int64_t cost) override {
    if (down) return fail();
    return m_inner.take_token(bucket, spec, cost);
  }
  core::Result<void> check() override {
    if (down) return fail();
    return core::ok();
  }
  std::string backend_name() const override { return "switchable"; }

 private:
  static Error fail() { return Error(Errc::store_unavailable, "cache is down"); }
  cache::Cache& m_inner;
};

// The refresh-token repository of the real store, failing while `down` is set.
class SwitchableTokens final : public store::RefreshTokenRepository {
 public:
  explicit SwitchableTokens(store::RefreshTokenRepository& inner) : m_inner(inner) {}
  std::atomic<bool> down{false};

  core::Result<void> create_token_family(const store::TokenFamilyRecord& f,
                                         const std::optional<store::NewRefreshToken>& first) override {
    if (down) return fail();
    return m_inner.create_token_family(f, first);
  }
  core::Result<store::TokenFamilyRecord> get_token_family(const std::string& id) override {
    if (down) return fail();
    return m_inner.get_token_family(id);
  }
  core::Result<store::RefreshRotation> rotate_refresh_token(const std::string& hash, const store::NewRefreshToken& next,
                                                            std::int64_t now) override {
    if (down) return fail();
    return m_inner.rotate_refresh_token(hash, next, now);
  }
  core::Result<store::RefreshTokenRecord> find_refresh_token(const std::string& hash) override {
    if (down) return fail();
    return m_inner.find_refresh_token(hash);
  }
  core::Result<bool> revoke_token_family(const std::string& id, std::int64_t at) override {
    if (down) return fail();
    return m_inner.revoke_token_family(id, at);
  }
  core::Result<int> revoke_user_token_families(const std::string& user_id, std::int64_t at) override {
    if (down) return fail();
    return m_inner.revoke_user_token_families(user_id, at);
  }

 private:
  static Error fail() { return Error(Errc::store_unavailable, "database is down"); }
  store::RefreshTokenRepository& m_inner;
};

class BackendFailureTest : public IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    if (HasFatalFailure()) return;
    m_switch_cache = std::make_unique<SwitchableCache>(*m_cache);
    m_switch_tokens = std::make_unique<SwitchableTokens>(*m_store);
    IdentityStores stores = IdentityStores::of(*m_store);
    stores.tokens = m_switch_tokens.get();
    auto s = IdentityService::create(stores, *m_keys, *m_switch_cache, m_clock,
                                     crypto::SecretBytes(crypto::ByteView(m_data_key)), m_options);
    ASSERT_OK(s);
    m_flaky = std::move(*s);
    create_user("quinn", {Role::service});
  }

  GrantResult login_flaky() {
    TokenRequest r;
    r.grant_type = "password";
    r.username = "quinn";
    r.password = kPassword;
    r.source = "192.0.2.44";
    return m_flaky->grant(r);
  }

  std::unique_ptr<SwitchableCache> m_switch_cache;
  std::unique_ptr<SwitchableTokens> m_switch_tokens;
  std::unique_ptr<IdentityService> m_flaky;
};

TEST_F(BackendFailureTest, ThrottleFailsClosedWhenTheCacheIsDown) {
  ASSERT_TRUE(login_flaky().ok());
  m_switch_cache->down = true;
  auto g = login_flaky();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().error, OAuthError::temporarily_unavailable);
  EXPECT_EQ(http_status(OAuthError::temporarily_unavailable), 503);
  m_switch_cache->down = false;
  ASSERT_TRUE(login_flaky().ok());
}

TEST_F(BackendFailureTest, SessionCheckNeedsTheStore) {
  auto g = login_flaky();
  ASSERT_TRUE(g.ok());
  ASSERT_OK(m_flaky->authenticate_bearer(g.tokens().access_token));
  m_switch_tokens->down = true;
  // Not a 401: the token may well be good.
  EXPECT_ERRC(m_flaky->authenticate_bearer(g.tokens().access_token), Errc::store_unavailable);
  // Nor is a token issued when the session cannot be recorded.
  auto no_session = login_flaky();
  ASSERT_FALSE(no_session.ok());
  EXPECT_EQ(no_session.error().error, OAuthError::temporarily_unavailable);
  auto refresh = [&] {
    TokenRequest r;
    r.grant_type = "refresh_token";
    r.refresh_token = g.tokens().refresh_token;
    return m_flaky->grant(r);
  };
  auto rr = refresh();
  ASSERT_FALSE(rr.ok());
  EXPECT_EQ(rr.error().error, OAuthError::temporarily_unavailable);
  EXPECT_ERRC(m_flaky->revoke(g.tokens().refresh_token, Actor{"user:quinn"}), Errc::store_unavailable);
  EXPECT_ERRC(m_flaky->revoke(g.tokens().access_token, Actor{"user:quinn"}), Errc::store_unavailable);
  // Back up: nothing was lost or revoked by the outage.
  m_switch_tokens->down = false;
  ASSERT_OK(m_flaky->authenticate_bearer(g.tokens().access_token));
  ASSERT_TRUE(refresh().ok());
}

}  // namespace
}  // namespace cartorio::identity::test
