#include "core/schedule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <vector>

namespace cartorio::core {
namespace {

constexpr std::chrono::seconds kMaxPeriod = std::chrono::hours(24 * 7);
// How far a search looks before deciding an expression never fires.
constexpr std::int64_t kSearchHorizon = 5LL * 366 * 86400;

Error invalid(std::string_view text, const std::string& why) {
  return Error(Errc::config_invalid, "schedule \"" + std::string(text) + "\": " + why);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const auto start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::array<std::string_view, 12>* names;  // index + names_base = value; may be null
  int names_base;
};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::optional<int> value_of(std::string_view s, const FieldSpec& spec) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && end == s.data() + s.size()) return v;
  if (spec.names && s.size() == 3) {
    std::string lower(s);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::size_t i = 0; i < spec.names->size(); ++i)
      if (!(*spec.names)[i].empty() && (*spec.names)[i] == lower) return static_cast<int>(i) + spec.names_base;
  }
  return std::nullopt;
}

// One field into the set of values it allows (bit i = value i). `max_value` is the field's
// maximum as written (7 for weekdays, folded onto 0 by the caller).
Result<std::bitset<64>> parse_field(std::string_view text, std::string_view field, const FieldSpec& spec) {
  std::bitset<64> bits;
  if (field.empty()) return invalid(text, std::string(spec.name) + " is empty");
  for (auto part : split(field, ',')) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      const auto s = part.substr(slash + 1);
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (ec != std::errc() || end != s.data() + s.size() || step < 1 || step > spec.max)
        return invalid(text, std::string(spec.name) + ": bad step \"" + std::string(s) + "\"");
      part = part.substr(0, slash);
    }
    int lo = spec.min;
    int hi = spec.max;
    if (part != "*") {
      const auto dash = part.find('-');
      const auto a = value_of(part.substr(0, dash), spec);
      if (!a) return invalid(text, std::string(spec.name) + ": \"" + std::string(part) + "\" is not a value");
      lo = *a;
      if (dash != std::string_view::npos) {
        const auto b = value_of(part.substr(dash + 1), spec);
        if (!b) return invalid(text, std::string(spec.name) + ": \"" + std::string(part) + "\" is not a range");
        hi = *b;
      } else if (step == 1) {
        hi = lo;  // a single value; "a/n" means a through the maximum, every n
      }
      if (lo < spec.min || hi > spec.max || lo > hi)
        return invalid(text, std::string(spec.name) + ": \"" + std::string(part) + "\" is outside " +
                                 std::to_string(spec.min) + "-" + std::to_string(spec.max));
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
  }
  return bits;
}

template <std::size_t N>
std::bitset<N> narrow(const std::bitset<64>& wide) {
  std::bitset<N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = wide[i];
  return out;
}

std::tm utc(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

// timegm normalises out-of-range fields (mon 12 -> January of the next year).
std::int64_t utc_time(int year, int mon, int mday, int hour, int min) {
  std::tm tm{};
  tm.tm_year = year;
  tm.tm_mon = mon;
  tm.tm_mday = mday;
  tm.tm_hour = hour;
  tm.tm_min = min;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::int64_t seconds_of(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint at(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

// Floor division (periods align on the epoch, also before it).
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<Schedule> Schedule::parse(std::string_view text) {
  const auto w = words(text);
  if (w.empty()) return invalid(text, "empty");
  if (w[0] == "@every") {
    if (w.size() != 2) return invalid(text, "@every takes one duration, e.g. @every 15m");
    const auto d = w[1];
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), n);
    const std::string_view unit(end, static_cast<std::size_t>(d.data() + d.size() - end));
    std::int64_t scale = 0;
    if (unit == "s") scale = 1;
    if (unit == "m") scale = 60;
    if (unit == "h") scale = 3600;
    if (unit == "d") scale = 86400;
    if (ec != std::errc() || scale == 0 || n < 1 || n > kMaxPeriod.count() / scale)
      return invalid(text, "the duration must be a number with s, m, h or d, from 1s to 7d");
    Schedule s = every(std::chrono::seconds(n * scale));
    s.m_text = std::string(text);
    return s;
  }
  static const std::array<std::pair<std::string_view, std::string_view>, 6> kShorthands = {{
      {"@hourly", "0 * * * *"},
      {"@daily", "0 0 * * *"},
      {"@midnight", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},
      {"@monthly", "0 0 1 * *"},
      {"@yearly", "0 0 1 1 *"},
  }};
  std::vector<std::string_view> fields = w;
  if (w[0].starts_with('@')) {
    const auto it = std::find_if(kShorthands.begin(), kShorthands.end(), [&](const auto& p) { return p.first == w[0]; });
    if (it == kShorthands.end() || w.size() != 1) return invalid(text, "unknown shorthand");
    fields = words(it->second);
  }
  if (fields.size() != 5) return invalid(text, "a cron expression has five fields: minute hour day month weekday");

  Schedule s;
  s.m_text = std::string(text);
  CARTORIO_TRY(auto minutes, parse_field(text, fields[0], {"minute", 0, 59, nullptr, 0}));
  CARTORIO_TRY(auto hours, parse_field(text, fields[1], {"hour", 0, 23, nullptr, 0}));
  CARTORIO_TRY(auto days, parse_field(text, fields[2], {"day of month", 1, 31, nullptr, 0}));
  CARTORIO_TRY(auto months, parse_field(text, fields[3], {"month", 1, 12, &kMonthNames, 1}));
  CARTORIO_TRY(auto weekdays, parse_field(text, fields[4], {"day of week", 0, 7, &kDayNames, 0}));
  if (weekdays[7]) weekdays.set(0);
  s.m_minutes = narrow<60>(minutes);
  s.m_hours = narrow<24>(hours);
  s.m_days = narrow<32>(days);
  s.m_months = narrow<13>(months);
  s.m_weekdays = narrow<7>(weekdays);
  s.m_any_day = fields[2] == "*";
  s.m_any_weekday = fields[4] == "*";
  return s;
}

Schedule Schedule::every(std::chrono::seconds period) {
  Schedule s;
  s.m_period = std::clamp(period, std::chrono::seconds(1), kMaxPeriod);
  s.m_text = "@every " + std::to_string(s.m_period.count()) + "s";
  return s;
}

bool Schedule::matches_day(const std::tm& day) const {
  const bool dom = m_days[static_cast<std::size_t>(day.tm_mday)];
  const bool dow = m_weekdays[static_cast<std::size_t>(day.tm_wday)];
  if (m_any_day && m_any_weekday) return true;
  if (m_any_day) return dow;
  if (m_any_weekday) return dom;
  return dom || dow;
}

std::optional<TimePoint> Schedule::next_after(TimePoint after) const {
  const std::int64_t start = seconds_of(after);
  if (m_period.count() > 0) return at((floor_div(start, m_period.count()) + 1) * m_period.count());
  std::int64_t t = (floor_div(start, 60) + 1) * 60;
  while (t - start <= kSearchHorizon) {
    const std::tm tm = utc(t);
    if (!m_months[static_cast<std::size_t>(tm.tm_mon) + 1]) {
      t = utc_time(tm.tm_year, tm.tm_mon + 1, 1, 0, 0);
    } else if (!matches_day(tm)) {
      t = utc_time(tm.tm_year, tm.tm_mon, tm.tm_mday + 1, 0, 0);
    } else if (!m_hours[static_cast<std::size_t>(tm.tm_hour)]) {
      t = utc_time(tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour + 1, 0);
    } else if (!m_minutes[static_cast<std::size_t>(tm.tm_min)]) {
      t += 60;
    } else {
      return at(t);
    }
  }
  return std::nullopt;
}

std::optional<TimePoint> Schedule::latest_at_or_before(TimePoint before) const {
  const std::int64_t start = seconds_of(before);
  if (m_period.count() > 0) return at(floor_div(start, m_period.count()) * m_period.count());
  std::int64_t t = floor_div(start, 60) * 60;
  while (start - t <= kSearchHorizon) {
    const std::tm tm = utc(t);
    // Each miss steps back to the last minute of the previous month, day or hour.
    if (!m_months[static_cast<std::size_t>(tm.tm_mon) + 1]) {
      t = utc_time(tm.tm_year, tm.tm_mon, 1, 0, 0) - 60;
    } else if (!matches_day(tm)) {
      t = utc_time(tm.tm_year, tm.tm_mon, tm.tm_mday, 0, 0) - 60;
    } else if (!m_hours[static_cast<std::size_t>(tm.tm_hour)]) {
      t = utc_time(tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, 0) - 60;
    } else if (!m_minutes[static_cast<std::size_t>(tm.tm_min)]) {
      t -= 60;
    } else {
      return at(t);
    }
  }
  return std::nullopt;
}

}  // namespace cartorio::core
