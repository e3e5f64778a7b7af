#include "http/headers.h"

#include <cstdio>

#include <algorithm>

namespace cartorio::http {

// Arithmetic instead of gmtime_r (which takes glibc's time zone lock) and snprintf: the
// server formats a Date for every response. Days to a civil date: H. Hinnant's
// civil_from_days, proleptic Gregorian.
std::string http_date(long long unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  long long days = unix_seconds / 86400;
  long long secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const long long weekday = ((days + 4) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
  const long long z = days + 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const long long doe = z - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  const long long day = doy - (153 * mp + 2) / 5 + 1;
  const long long month = mp < 10 ? mp + 3 : mp - 9;
  const long long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const long long hour = secs / 3600, minute = secs / 60 % 60, second = secs % 60;
  if (year < 0 || year > 9999) {  // not an IMF-fixdate year; never reached by real clocks
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02lld %s %lld %02lld:%02lld:%02lld GMT", kDays[weekday], day,
                  kMonths[month - 1], year, hour, minute, second);
    return buf;
  }
  std::string out = "Ddd, 00 Mmm 0000 00:00:00 GMT";
  auto two = [&out](std::size_t at, long long v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  out.replace(0, 3, kDays[weekday]);
  two(5, day);
  out.replace(8, 3, kMonths[month - 1]);
  two(12, year / 100);
  two(14, year % 100);
  two(17, hour);
  two(20, minute);
  two(23, second);
  return out;
}

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : m_fields)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  auto it = std::find_if(m_fields.begin(), m_fields.end(), [&](const Field& f) { return iequals(f.first, name); });
  if (it == m_fields.end()) {
    m_fields.emplace_back(std::move(name), std::move(value));
    return;
  }
  it->first = std::move(name);
  it->second = std::move(value);
  // Drop later duplicates so exactly one field of that name remains, where the first was.
  auto first_dup = std::remove_if(std::next(it), m_fields.end(),
                                  [&](const Field& f) { return iequals(f.first, it->first); });
  m_fields.erase(first_dup, m_fields.end());
}

void Headers::add(std::string name, std::string value) { m_fields.emplace_back(std::move(name), std::move(value)); }

void Headers::remove(std::string_view name) {
  std::erase_if(m_fields, [&](const Field& f) { return iequals(f.first, name); });
}

}  // namespace cartorio::http
