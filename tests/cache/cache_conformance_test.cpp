// One behaviour suite for cache::Cache, run on every backend: the in-process cache, a real
// Redis started by the `redis` CTest fixture, and the FallbackCache decorator (over memory,
// and over a Redis that is down). A backend is correct when it passes all of it.
#include "cache/cache.h"

#include "cache_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cartorio::cache::Cache;
using cartorio::cache::CacheState;
using cartorio::cache::TokenBucket;
using cartorio::core::Errc;

template <class Backend>
class CacheConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(m_backend.prepare());
    auto opened = m_backend.open("main:");
    ASSERT_TRUE(opened) << opened.error().to_string();
    m_cache = std::move(opened).value();
  }

  Cache& cache() { return *m_cache; }

  std::optional<std::string> value_of(std::string_view key) {
    auto r = cache().get(key);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::optional<std::string>("<error>");
  }

  Backend m_backend;  // declared first: outlives the caches opened on it
  std::unique_ptr<Cache> m_cache;
};

}  // namespace

// Global names so CTest lists cases as CacheConformance/<Backend>.<Case>; the Redis cases
// (CacheConformance/Redis.*) require the `redis` fixture (tests/cache/CMakeLists.txt).
class Memory : public cartorio::cache_test::MemoryBackend {};
class Redis : public cartorio::cache_test::RedisBackend {};
class FallbackOverMemory : public cartorio::cache_test::FallbackBackend {};
class FallbackOverDeadRedis : public cartorio::cache_test::DeadRedisFallbackBackend {};

namespace {

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, Memory>) return "Memory";
    if constexpr (std::is_same_v<T, Redis>) return "Redis";
    if constexpr (std::is_same_v<T, FallbackOverMemory>) return "FallbackOverMemory";
    return "FallbackOverDeadRedis";
  }
};
using Backends = ::testing::Types<Memory, Redis, FallbackOverMemory, FallbackOverDeadRedis>;
TYPED_TEST_SUITE(CacheConformance, Backends, BackendNames);

// --- values ---------------------------------------------------------------------------

TYPED_TEST(CacheConformance, Get_ReturnsNothing_WhenAbsent) {
  EXPECT_EQ(this->value_of("missing"), std::nullopt);
}

TYPED_TEST(CacheConformance, Get_ReturnsWhatSetStored) {
  ASSERT_OK(this->cache().set("ocsp:tls:1f2e", "response-bytes", 60s));
  EXPECT_EQ(this->value_of("ocsp:tls:1f2e"), "response-bytes");
}

TYPED_TEST(CacheConformance, Set_ReplacesTheValue) {
  ASSERT_OK(this->cache().set("k", "first", 60s));
  ASSERT_OK(this->cache().set("k", "second", 60s));
  EXPECT_EQ(this->value_of("k"), "second");
}

TYPED_TEST(CacheConformance, Set_StoresAnEmptyValue_DistinctFromAbsent) {
  ASSERT_OK(this->cache().set("empty", "", 60s));
  EXPECT_EQ(this->value_of("empty"), std::string());
}

TYPED_TEST(CacheConformance, Erase_RemovesTheValue_AndSaysWhetherThereWasOne) {
  ASSERT_OK(this->cache().set("k", "v", 60s));
  auto first = this->cache().erase("k");
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  EXPECT_EQ(this->value_of("k"), std::nullopt);
  auto second = this->cache().erase("k");
  ASSERT_OK(second);
  EXPECT_FALSE(*second);
}

TYPED_TEST(CacheConformance, Values_AreBinarySafe) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  const std::string with_nuls("a\0b\0\0c", 6);
  ASSERT_OK(this->cache().set("bytes", every_byte, 60s));
  ASSERT_OK(this->cache().set("nuls", with_nuls, 60s));
  EXPECT_EQ(this->value_of("bytes"), every_byte);
  EXPECT_EQ(this->value_of("nuls"), with_nuls);
}

TYPED_TEST(CacheConformance, Keys_AreBinarySafe) {
  const std::string a("key\0a", 5), b("key\0b", 5);
  ASSERT_OK(this->cache().set(a, "A", 60s));
  ASSERT_OK(this->cache().set(b, "B", 60s));
  EXPECT_EQ(this->value_of(a), "A");
  EXPECT_EQ(this->value_of(b), "B");
  EXPECT_EQ(this->value_of("key"), std::nullopt);
}

TYPED_TEST(CacheConformance, LargeValue_RoundTrips) {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  ASSERT_OK(this->cache().set("big", big, 60s));
  EXPECT_EQ(this->value_of("big"), big);
}

// --- TTL ------------------------------------------------------------------------------

TYPED_TEST(CacheConformance, Entry_ExpiresAfterItsTtl) {
  ASSERT_OK(this->cache().set("short", "v", 400ms));
  ASSERT_OK(this->cache().set("long", "v", 60s));
  EXPECT_EQ(this->value_of("short"), "v");
  this->m_backend.advance(700ms);
  EXPECT_EQ(this->value_of("short"), std::nullopt);
  EXPECT_EQ(this->value_of("long"), "v");
  auto erased = this->cache().erase("short");
  ASSERT_OK(erased);
  EXPECT_FALSE(*erased) << "an expired entry is not there to erase";
}

TYPED_TEST(CacheConformance, Set_RestartsTheTtl) {
  ASSERT_OK(this->cache().set("k", "v1", 600ms));
  this->m_backend.advance(350ms);
  ASSERT_OK(this->cache().set("k", "v2", 600ms));
  this->m_backend.advance(350ms);
  EXPECT_EQ(this->value_of("k"), "v2");
}

// --- set_if_absent --------------------------------------------------------------------

TYPED_TEST(CacheConformance, SetIfAbsent_StoresOnlyWhenAbsent) {
  auto first = this->cache().set_if_absent("lock:crl", "owner-a", 60s);
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  auto second = this->cache().set_if_absent("lock:crl", "owner-b", 60s);
  ASSERT_OK(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(this->value_of("lock:crl"), "owner-a");
  ASSERT_OK(this->cache().erase("lock:crl"));
  auto third = this->cache().set_if_absent("lock:crl", "owner-c", 60s);
  ASSERT_OK(third);
  EXPECT_TRUE(*third);
}

TYPED_TEST(CacheConformance, SetIfAbsent_Succeeds_AfterTheHolderExpired) {
  ASSERT_OK(this->cache().set_if_absent("lock", "a", 400ms));
  this->m_backend.advance(700ms);
  auto again = this->cache().set_if_absent("lock", "b", 60s);
  ASSERT_OK(again);
  EXPECT_TRUE(*again);
  EXPECT_EQ(this->value_of("lock"), "b");
}

TYPED_TEST(CacheConformance, SetIfAbsent_HasExactlyOneWinner_AmongConcurrentCallers) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const std::string key = "idem:" + std::to_string(round);
    std::atomic<int> winners{0}, failures{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        auto r = this->cache().set_if_absent(key, "thread-" + std::to_string(t), 60s);
        if (!r) ++failures;
        else if (*r) ++winners;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(winners.load(), 1) << "round " << round;
  }
}

// --- token buckets --------------------------------------------------------------------

TYPED_TEST(CacheConformance, TokenBucket_StartsFull_AndDeniesPastCapacity) {
  const TokenBucket spec{3, 0.01};  // refills one token in 100 s: nothing during the test
  for (std::int64_t left = 2; left >= 0; --left) {
    auto g = this->cache().take_token("login:alice", spec);
    ASSERT_OK(g);
    EXPECT_TRUE(g->allowed);
    EXPECT_EQ(g->remaining, left);
  }
  auto denied = this->cache().take_token("login:alice", spec);
  ASSERT_OK(denied);
  EXPECT_FALSE(denied->allowed);
  EXPECT_EQ(denied->remaining, 0);
  EXPECT_GT(denied->retry_after, 90s);
  EXPECT_LE(denied->retry_after, 100s);
}

TYPED_TEST(CacheConformance, TokenBucket_RefillsOverTime_UpToCapacity) {
  const TokenBucket spec{2, 4.0};  // one token per 250 ms
  ASSERT_TRUE(this->cache().take_token("api:k", spec)->allowed);
  ASSERT_TRUE(this->cache().take_token("api:k", spec)->allowed);
  auto denied = this->cache().take_token("api:k", spec);
  ASSERT_OK(denied);
  EXPECT_FALSE(denied->allowed);
  EXPECT_GT(denied->retry_after, 0ms);
  EXPECT_LE(denied->retry_after, 250ms);
  this->m_backend.advance(800ms);  // 3.2 tokens' worth, capped at 2
  EXPECT_TRUE(this->cache().take_token("api:k", spec)->allowed);
  EXPECT_TRUE(this->cache().take_token("api:k", spec)->allowed);
  EXPECT_FALSE(this->cache().take_token("api:k", spec)->allowed);
}

TYPED_TEST(CacheConformance, TokenBucket_CostTakesSeveralTokens) {
  const TokenBucket spec{5, 0.01};
  auto g = this->cache().take_token("bulk", spec, 4);
  ASSERT_OK(g);
  EXPECT_TRUE(g->allowed);
  EXPECT_EQ(g->remaining, 1);
  auto denied = this->cache().take_token("bulk", spec, 2);
  ASSERT_OK(denied);
  EXPECT_FALSE(denied->allowed);
  EXPECT_EQ(denied->remaining, 1) << "a denied take takes nothing";
  EXPECT_TRUE(this->cache().take_token("bulk", spec, 1)->allowed);
}

TYPED_TEST(CacheConformance, TokenBucket_ConcurrentTakersNeverExceedCapacity) {
  constexpr int kThreads = 8, kTakesEach = 5;
  const TokenBucket spec{10, 0.001};
  std::atomic<int> allowed{0}, failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kTakesEach; ++i) {
        auto g = this->cache().take_token("shared", spec);
        if (!g) ++failures;
        else if (g->allowed) ++allowed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(allowed.load(), 10);
}

TYPED_TEST(CacheConformance, Buckets_AreIndependent_OfEachOtherAndOfValues) {
  const TokenBucket spec{1, 0.01};
  ASSERT_OK(this->cache().set("x", "value", 60s));
  EXPECT_TRUE(this->cache().take_token("x", spec)->allowed);
  EXPECT_FALSE(this->cache().take_token("x", spec)->allowed);
  EXPECT_TRUE(this->cache().take_token("y", spec)->allowed);
  EXPECT_EQ(this->value_of("x"), "value");
}

// --- namespaces, arguments, health ----------------------------------------------------

TYPED_TEST(CacheConformance, Prefixes_Isolate) {
  auto other = this->m_backend.open("other:");
  ASSERT_OK(other);
  ASSERT_OK(this->cache().set("k", "main", 60s));
  auto seen = (*other)->get("k");
  ASSERT_OK(seen);
  EXPECT_EQ(*seen, std::nullopt);
  auto won = (*other)->set_if_absent("k", "other", 60s);
  ASSERT_OK(won);
  EXPECT_TRUE(*won);
  EXPECT_EQ(this->value_of("k"), "main");
}

TYPED_TEST(CacheConformance, Rejects_InvalidArguments_ChangingNothing) {
  auto& c = this->cache();
  EXPECT_ERRC(c.get(""), Errc::invalid_argument);
  EXPECT_ERRC(c.get(std::string(cartorio::cache::kMaxKeyBytes + 1, 'k')), Errc::invalid_argument);
  EXPECT_ERRC(c.set("k", "v", 0ms), Errc::invalid_argument);
  EXPECT_ERRC(c.set("k", "v", -5ms), Errc::invalid_argument);
  EXPECT_ERRC(c.set("k", "v", cartorio::cache::kMaxTtl + 1ms), Errc::invalid_argument);
  EXPECT_ERRC(c.set_if_absent("k", "v", 0ms), Errc::invalid_argument);
  EXPECT_ERRC(c.erase(""), Errc::invalid_argument);
  EXPECT_ERRC(c.take_token("b", TokenBucket{0, 1.0}), Errc::invalid_argument);
  EXPECT_ERRC(c.take_token("b", TokenBucket{5, 0.0}), Errc::invalid_argument);
  EXPECT_ERRC(c.take_token("b", TokenBucket{5, -1.0}), Errc::invalid_argument);
  EXPECT_ERRC(c.take_token("b", TokenBucket{5, 1.0}, 6), Errc::invalid_argument);
  EXPECT_ERRC(c.take_token("b", TokenBucket{5, 1.0}, 0), Errc::invalid_argument);
  EXPECT_EQ(this->value_of("k"), std::nullopt);
  auto fresh = c.take_token("b", TokenBucket{5, 0.01});
  ASSERT_OK(fresh);
  EXPECT_EQ(fresh->remaining, 4) << "rejected takes took nothing";
}

TYPED_TEST(CacheConformance, Check_Succeeds_AndNamesTheBackend) {
  ASSERT_OK(this->cache().check());
  EXPECT_EQ(this->cache().backend_name(), TypeParam::kBackendName);
}

}  // namespace
