#include "http/headers.h"

#include <cstdio>
#include <ctime>

#include <algorithm>

namespace cartorio::http {

std::string http_date(long long unix_seconds) {
  const std::time_t secs = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  // Not strftime: %a/%b follow the locale, and IMF-fixdate is English.
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
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
