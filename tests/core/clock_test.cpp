#include "core/clock.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cartorio::core {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StartsAtTheGivenTimeAndStaysThere) {
  ManualClock c(from_unix(1700000000));
  EXPECT_EQ(to_unix(c.now()), 1700000000);
  EXPECT_EQ(c.now(), c.now());
}

TEST(ManualClock, MovesOnlyWhenAdvancedOrSet) {
  ManualClock c(from_unix(1000));
  c.advance(90s);
  EXPECT_EQ(to_unix(c.now()), 1090);
  c.advance(24h);
  EXPECT_EQ(to_unix(c.now()), 1090 + 86400);
  c.set(from_unix(5));
  EXPECT_EQ(to_unix(c.now()), 5);
}

TEST(ManualClock, KeepsSubSecondPrecision) {
  ManualClock c(from_unix(10));
  c.advance(1500ms);
  EXPECT_EQ(c.now() - from_unix(10), std::chrono::milliseconds(1500));
  EXPECT_EQ(to_unix(c.now()), 11);  // to_unix truncates
}

TEST(ManualClock, AdvancesAreNotLostAcrossThreads) {
  ManualClock c(from_unix(0));
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) c.advance(1s);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(to_unix(c.now()), 4000);
}

TEST(UnixTime, RoundTrips) {
  for (long long s : {0LL, 1LL, 1700000000LL, 4102444800LL /* 2100-01-01 */, -86400LL})
    EXPECT_EQ(to_unix(from_unix(s)), s);
}

TEST(SystemClock, IsCloseToTheSystemTime) {
  SystemClock c;
  const auto d = c.now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(d), 5s);
}

}  // namespace
}  // namespace cartorio::core
