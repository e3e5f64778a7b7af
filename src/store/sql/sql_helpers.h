// Small helpers shared by the SqlStore implementation files (argument checks, error
// context, JSON text columns). Internal to store/sql/.
#pragma once

#include "core/error.h"
#include "store/sql/sql_connection.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::store::sql {

// Largest page a list call returns; callers page with offset / after_id beyond it.
inline constexpr int kMaxListLimit = 10000;

// Prefixes the operation to a driver error, keeping its code.
inline core::Error in(std::string_view op, const core::Error& e) {
  return core::Error(e.code, std::string(op) + ": " + e.message);
}

inline core::Result<void> check_not_empty(std::string_view op, std::string_view field, const std::string& v) {
  if (v.empty())
    return core::Error(core::Errc::invalid_argument, std::string(op) + ": " + std::string(field) + " is empty");
  return core::ok();
}

inline core::Result<void> check_limit(std::string_view op, int limit) {
  if (limit < 1 || limit > kMaxListLimit)
    return core::Error(core::Errc::invalid_argument,
                       std::string(op) + ": limit must be 1.." + std::to_string(kMaxListLimit));
  return core::ok();
}

inline core::Result<void> check_page(std::string_view op, int limit, int offset) {
  CARTORIO_TRY_VOID(check_limit(op, limit));
  if (offset < 0) return core::Error(core::Errc::invalid_argument, std::string(op) + ": offset is negative");
  return core::ok();
}

// " WHERE a AND b ..." from conditions; "" when there are none.
inline std::string where_clause(const std::vector<std::string>& conditions) {
  std::string out;
  for (std::size_t i = 0; i < conditions.size(); ++i) out += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  return out;
}

inline bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Serials as store.h defines them: lowercase hex without leading zeros, at most 20 octets
// (RFC 5280 4.1.2.2).
inline core::Result<void> check_serial(std::string_view op, const std::string& serial) {
  const bool ok = !serial.empty() && serial.size() <= 40 && !(serial.size() > 1 && serial[0] == '0') &&
                  is_lower_hex(serial);
  if (!ok)
    return core::Error(core::Errc::invalid_serial, std::string(op) + ": serial must be 1-40 lowercase hex digits "
                                                                     "without leading zeros");
  return core::ok();
}

// "" is how a record says "not given": NULL in the table, so an absent value never looks
// like a value and a compare-and-set can say "still NULL".
inline SqlValue text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

// A list of strings as a JSON array text column, and back. Errc::invalid_argument for a
// string that is not valid UTF-8; Errc::store_error for a stored value that is not an
// array of strings.
core::Result<std::string> strings_to_json(std::string_view op, const std::vector<std::string>& values);
core::Result<std::vector<std::string>> strings_from_json(std::string_view op, const std::string& text);

}  // namespace cartorio::store::sql
