// When a scheduled job fires: a cron expression (crontab(5), in UTC) or a fixed period.
//
//   "m h dom mon dow"  five fields: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`,
//                      lists `a,b-c`; month and weekday names (jan, mon); weekday 7 = 0 =
//                      Sunday. When both day-of-month and day-of-week are restricted a day
//                      matching either fires (Vixie cron).
//   "@hourly" "@daily" "@weekly" "@monthly" "@yearly"  the usual shorthands
//   "@every 90s" "@every 15m" "@every 2h"  a period (1 s .. 7 days), aligned to the Unix
//                      epoch so that every instance computes the same fire times
//
// Fire times are whole seconds. Every instance of an installation computes the same ones
// from the same expression, which is what lets them agree on "this period's run".
#pragma once

#include "core/clock.h"
#include "core/error.h"

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cartorio::core {

class Schedule {
 public:
  // Errc::config_invalid naming what is wrong.
  static Result<Schedule> parse(std::string_view text);
  static Schedule every(std::chrono::seconds period);  // 1 s .. 7 days (clamped)

  // The first fire time strictly after `t`; nullopt when none within five years (a
  // cron expression that cannot match, e.g. "0 0 31 2 *").
  std::optional<TimePoint> next_after(TimePoint t) const;
  // The last fire time at or before `t`; nullopt when none within five years.
  std::optional<TimePoint> latest_at_or_before(TimePoint t) const;

  const std::string& text() const { return m_text; }

 private:
  Schedule() = default;
  bool matches_day(const std::tm& day) const;

  std::string m_text;
  std::chrono::seconds m_period{0};  // @every; 0 for a cron expression
  std::bitset<60> m_minutes;
  std::bitset<24> m_hours;
  std::bitset<32> m_days;    // 1..31
  std::bitset<13> m_months;  // 1..12
  std::bitset<7> m_weekdays;  // 0 = Sunday
  bool m_any_day = true;      // day-of-month field is `*`
  bool m_any_weekday = true;  // day-of-week field is `*`
};

}  // namespace cartorio::core
