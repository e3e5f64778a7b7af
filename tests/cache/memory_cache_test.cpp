// MemoryCache beyond the conformance suite: exact expiry on the injected clock, the size
// bound and its eviction order.
#include "cache/memory/memory_cache.h"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using cartorio::cache::MemoryCache;
using cartorio::cache::MemoryCacheOptions;
using cartorio::cache::TokenBucket;
using cartorio::core::ManualClock;
using cartorio::core::TimePoint;

class MemoryCacheTest : public ::testing::Test {
 protected:
  ManualClock m_clock{TimePoint(std::chrono::seconds(1'700'000'000))};
};

TEST_F(MemoryCacheTest, Entry_LivesUntilTheLastMillisecondOfItsTtl) {
  MemoryCache cache(MemoryCacheOptions{}, m_clock);
  ASSERT_TRUE(cache.set("k", "v", 1000ms));
  m_clock.advance(999ms);
  EXPECT_EQ(*cache.get("k"), "v");
  m_clock.advance(1ms);
  EXPECT_EQ(*cache.get("k"), std::nullopt);
}

TEST_F(MemoryCacheTest, Full_EvictsExpiredEntriesFirst) {
  MemoryCache cache(MemoryCacheOptions{3}, m_clock);
  ASSERT_TRUE(cache.set("old-but-live", "1", 60s));
  ASSERT_TRUE(cache.set("short-a", "2", 10ms));
  ASSERT_TRUE(cache.set("short-b", "3", 10ms));
  m_clock.advance(20ms);
  ASSERT_TRUE(cache.set("new", "4", 60s));
  EXPECT_EQ(*cache.get("old-but-live"), "1") << "a live entry went while expired ones stayed";
  EXPECT_EQ(*cache.get("new"), "4");
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(MemoryCacheTest, Full_EvictsTheLeastRecentlyUsed) {
  MemoryCache cache(MemoryCacheOptions{2}, m_clock);
  ASSERT_TRUE(cache.set("a", "1", 60s));
  ASSERT_TRUE(cache.set("b", "2", 60s));
  ASSERT_TRUE(cache.get("a"));  // a is now the most recently used
  ASSERT_TRUE(cache.set("c", "3", 60s));
  EXPECT_EQ(*cache.get("a"), "1");
  EXPECT_EQ(*cache.get("b"), std::nullopt);
  EXPECT_EQ(*cache.get("c"), "3");
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(MemoryCacheTest, Replacing_DoesNotEvict) {
  MemoryCache cache(MemoryCacheOptions{2}, m_clock);
  ASSERT_TRUE(cache.set("a", "1", 60s));
  ASSERT_TRUE(cache.set("b", "2", 60s));
  ASSERT_TRUE(cache.set("a", "1b", 60s));
  EXPECT_EQ(*cache.get("a"), "1b");
  EXPECT_EQ(*cache.get("b"), "2");
}

TEST_F(MemoryCacheTest, Bound_CoversTokenBuckets) {
  MemoryCache cache(MemoryCacheOptions{2}, m_clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache.take_token("b" + std::to_string(i), TokenBucket{5, 1.0}));
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(MemoryCacheTest, RefilledBucket_CountsAsExpired_WhenMakingRoom) {
  MemoryCache cache(MemoryCacheOptions{2}, m_clock);
  ASSERT_TRUE(cache.set("a", "1", 60s));                        // least recently used
  ASSERT_TRUE(cache.take_token("b", TokenBucket{2, 10.0}));     // full again after 100 ms
  m_clock.advance(200ms);
  ASSERT_TRUE(cache.set("c", "3", 60s));
  EXPECT_EQ(*cache.get("a"), "1") << "the refilled bucket should have gone first";
  EXPECT_EQ(*cache.get("c"), "3");
  auto g = cache.take_token("b", TokenBucket{2, 10.0});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->remaining, 1) << "a forgotten bucket comes back full";
}

TEST_F(MemoryCacheTest, ClockSteppingBack_RefillsNothing) {
  MemoryCache cache(MemoryCacheOptions{}, m_clock);
  const TokenBucket spec{1, 1.0};
  ASSERT_TRUE(cache.take_token("b", spec)->allowed);
  m_clock.advance(-10s);
  EXPECT_FALSE(cache.take_token("b", spec)->allowed);
}

TEST_F(MemoryCacheTest, ZeroMaxEntries_StillHoldsOne) {
  MemoryCache cache(MemoryCacheOptions{0}, m_clock);
  ASSERT_TRUE(cache.set("a", "1", 60s));
  EXPECT_EQ(*cache.get("a"), "1");
}

}  // namespace
