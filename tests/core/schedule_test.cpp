#include "core/schedule.h"

#include <gtest/gtest.h>

#include <ctime>

namespace cartorio::core {
namespace {

// "2026-12-02T10:17:30Z" -> TimePoint.
TimePoint utc(int y, int mon, int d, int h, int m, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

Schedule parsed(std::string_view text) {
  auto s = Schedule::parse(text);
  EXPECT_TRUE(s) << text << ": " << s.error().to_string();
  return *s;
}

TEST(Schedule, DailyCronFiresAtTheNextMatchingMinute) {
  const auto s = parsed("30 3 * * *");
  EXPECT_EQ(s.next_after(utc(2026, 12, 2, 10, 17, 30)), utc(2026, 12, 3, 3, 30));
  EXPECT_EQ(s.next_after(utc(2026, 12, 2, 3, 29, 59)), utc(2026, 12, 2, 3, 30));
  // Strictly after: a fire time is not its own successor.
  EXPECT_EQ(s.next_after(utc(2026, 12, 2, 3, 30)), utc(2026, 12, 3, 3, 30));
  EXPECT_EQ(s.latest_at_or_before(utc(2026, 12, 2, 3, 30)), utc(2026, 12, 2, 3, 30));
  EXPECT_EQ(s.latest_at_or_before(utc(2026, 12, 2, 3, 29, 59)), utc(2026, 12, 1, 3, 30));
}

TEST(Schedule, StepsRangesListsAndNames) {
  const auto s = parsed("*/15 9-17 * jan,dec mon-fri");
  // 2026-12-05 is a Saturday: the next weekday is Monday the 7th.
  EXPECT_EQ(s.next_after(utc(2026, 12, 4, 17, 45)), utc(2026, 12, 7, 9, 0));
  EXPECT_EQ(s.next_after(utc(2026, 12, 7, 9, 0)), utc(2026, 12, 7, 9, 15));
  // December 31st 2026 is a Thursday; after 17:45 the next is Friday January 1st 2027.
  EXPECT_EQ(s.next_after(utc(2026, 12, 31, 17, 50)), utc(2027, 1, 1, 9, 0));
  // From a month that is not listed back to the last run in the previous one that is.
  EXPECT_EQ(s.latest_at_or_before(utc(2026, 6, 15, 12, 0)), utc(2026, 1, 30, 17, 45));
}

TEST(Schedule, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // The 1st of the month or any Sunday (Vixie cron), 7 meaning Sunday too.
  const auto s = parsed("0 0 1 * 7");
  EXPECT_EQ(s.next_after(utc(2026, 12, 2, 0, 0)), utc(2026, 12, 6, 0, 0));  // Sunday
  EXPECT_EQ(s.next_after(utc(2026, 12, 27, 0, 0)), utc(2027, 1, 1, 0, 0));  // the 1st, a Friday
}

TEST(Schedule, ShorthandsAndPeriods) {
  EXPECT_EQ(parsed("@hourly").next_after(utc(2026, 12, 2, 10, 17)), utc(2026, 12, 2, 11, 0));
  EXPECT_EQ(parsed("@daily").next_after(utc(2026, 12, 2, 10, 17)), utc(2026, 12, 3, 0, 0));
  EXPECT_EQ(parsed("@monthly").next_after(utc(2026, 12, 2, 10, 17)), utc(2027, 1, 1, 0, 0));
  const auto every = parsed("@every 90s");
  // Aligned to the epoch, so two instances agree on every fire time.
  const auto t = utc(2026, 12, 2, 10, 17, 31);
  const auto latest = every.latest_at_or_before(t);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->time_since_epoch().count() % std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(90)).count(), 0);
  EXPECT_LE(*latest, t);
  EXPECT_EQ(every.next_after(*latest), *latest + std::chrono::seconds(90));
  EXPECT_EQ(parsed("@every 2h").next_after(utc(2026, 12, 2, 10, 17)), utc(2026, 12, 2, 12, 0));
}

TEST(Schedule, AnImpossibleDateNeverFires) {
  const auto s = parsed("0 0 31 2 *");
  EXPECT_FALSE(s.next_after(utc(2026, 12, 2, 0, 0)));
  EXPECT_FALSE(s.latest_at_or_before(utc(2026, 12, 2, 0, 0)));
}

TEST(Schedule, RejectsWhatCronWouldNot) {
  for (const char* bad : {"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                          "*/0 * * * *", "5-1 * * * *", "x * * * *", "@sometimes", "@every", "@every 0s",
                          "@every 10", "@every 8d", "@every 5x", "1,,2 * * * *"}) {
    auto s = Schedule::parse(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, Errc::config_invalid) << bad;
  }
}

}  // namespace
}  // namespace cartorio::core
