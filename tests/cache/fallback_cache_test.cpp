// FallbackCache: answers keep coming while the primary is down, and health() says so.
#include "cache/fallback_cache.h"

#include "cache/memory/memory_cache.h"
#include "cache_backends.h"

#include <gtest/gtest.h>

#include <atomic>

namespace {

using namespace std::chrono_literals;
using cartorio::cache::Cache;
using cartorio::cache::CacheState;
using cartorio::cache::FallbackCache;
using cartorio::cache::MemoryCache;
using cartorio::cache::MemoryCacheOptions;
using cartorio::cache::TokenBucket;
using cartorio::cache::Ttl;
using cartorio::core::Errc;
using cartorio::core::Error;
using cartorio::core::ManualClock;
using cartorio::core::Result;
using cartorio::core::TimePoint;

// A memory cache that can be switched off, as a Redis that goes away and comes back.
class SwitchableCache final : public Cache {
 public:
  SwitchableCache(const cartorio::core::Clock& clock, std::atomic<bool>& down) : m_inner({}, clock), m_down(down) {}
  Result<std::optional<std::string>> get(std::string_view k) override {
    if (m_down) return gone();
    return m_inner.get(k);
  }
  Result<void> set(std::string_view k, std::string_view v, Ttl t) override {
    if (m_down) return gone();
    return m_inner.set(k, v, t);
  }
  Result<bool> erase(std::string_view k) override {
    if (m_down) return gone();
    return m_inner.erase(k);
  }
  Result<bool> set_if_absent(std::string_view k, std::string_view v, Ttl t) override {
    if (m_down) return gone();
    return m_inner.set_if_absent(k, v, t);
  }
  Result<cartorio::cache::TokenGrant> take_token(std::string_view b, const TokenBucket& s, std::int64_t c) override {
    if (m_down) return gone();
    return m_inner.take_token(b, s, c);
  }
  Result<void> check() override {
    if (m_down) return gone();
    return cartorio::core::ok();
  }
  std::string backend_name() const override { return "switchable"; }

 private:
  static Error gone() { return Error(Errc::store_unavailable, "switched off"); }
  MemoryCache m_inner;
  std::atomic<bool>& m_down;
};

class FallbackCacheTest : public ::testing::Test {
 protected:
  FallbackCacheTest()
      : m_cache(std::make_unique<SwitchableCache>(m_clock, m_down),
                std::make_unique<MemoryCache>(MemoryCacheOptions{}, m_clock)) {}
  ManualClock m_clock{TimePoint(std::chrono::seconds(1'700'000'000))};
  std::atomic<bool> m_down{false};
  FallbackCache m_cache;
};

TEST_F(FallbackCacheTest, Healthy_WhenThePrimaryAnswers) {
  ASSERT_TRUE(m_cache.set("k", "v", 60s));
  EXPECT_EQ(*m_cache.get("k"), "v");
  EXPECT_EQ(m_cache.health().state, CacheState::ok);
  EXPECT_FALSE(m_cache.degraded());
}

TEST_F(FallbackCacheTest, KeepsAnswering_AndReportsDegraded_WhileThePrimaryIsDown) {
  m_down = true;
  ASSERT_TRUE(m_cache.set("k", "during-outage", 60s));
  EXPECT_EQ(*m_cache.get("k"), "during-outage");
  EXPECT_TRUE(*m_cache.set_if_absent("lock", "a", 60s));
  EXPECT_FALSE(*m_cache.set_if_absent("lock", "b", 60s));
  EXPECT_TRUE(m_cache.take_token("b", TokenBucket{1, 0.01})->allowed);
  EXPECT_TRUE(m_cache.degraded());
  auto h = m_cache.health();
  EXPECT_EQ(h.state, CacheState::degraded);
  EXPECT_NE(h.detail.find("switched off"), std::string::npos) << h.detail;
  EXPECT_TRUE(m_cache.check()) << "degraded is still ready";
}

TEST_F(FallbackCacheTest, Recovers_WhenThePrimaryIsBack) {
  m_down = true;
  ASSERT_TRUE(m_cache.get("k"));
  EXPECT_TRUE(m_cache.degraded());
  m_down = false;
  EXPECT_EQ(m_cache.health().state, CacheState::ok);
  EXPECT_FALSE(m_cache.degraded());
}

TEST_F(FallbackCacheTest, NeverServesAValueThePrimaryHasSinceReplaced) {
  m_down = true;
  ASSERT_TRUE(m_cache.set("k", "old", 60s));
  m_down = false;
  ASSERT_TRUE(m_cache.set("k", "new", 60s));
  m_down = true;
  EXPECT_EQ(*m_cache.get("k"), std::nullopt);
}

TEST_F(FallbackCacheTest, InvalidArguments_AreNotAnOutage) {
  auto r = m_cache.set("", "v", 60s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_FALSE(m_cache.degraded());
}

TEST(FallbackCacheOverDeadRedis, ServesFromMemory_AndSaysDegraded) {
  cartorio::cache::RedisCacheOptions o;
  o.port = cartorio::cache_test::closed_port();
  ManualClock clock{TimePoint(std::chrono::seconds(1'700'000'000))};
  auto redis = cartorio::cache::open_redis_cache(o);
  ASSERT_TRUE(redis);
  FallbackCache cache(std::move(redis).value(), std::make_unique<MemoryCache>(MemoryCacheOptions{}, clock));
  ASSERT_TRUE(cache.set("k", "v", 60s));
  EXPECT_EQ(*cache.get("k"), "v");
  auto h = cache.health();
  EXPECT_EQ(h.state, CacheState::degraded);
  EXPECT_NE(h.detail.find("redis"), std::string::npos) << h.detail;
  EXPECT_EQ(cache.backend_name(), "fallback(redis,memory)");
}

}  // namespace
