#include "store/sql/sql_connection.h"

#include <charconv>

namespace cartorio::store::sql {

core::Result<void> SqlConnection::change_own_password(std::string_view) {
  return core::Error(core::Errc::not_supported, "change_own_password: this database has no password");
}

core::Result<std::int64_t> SqlConnection::insert_returning_id(std::string_view insert_sql,
                                                              const std::vector<SqlValue>& params) {
  CARTORIO_TRY(auto r, query(std::string(insert_sql) + " RETURNING id", params, StatementKind::write));
  if (r.rows.empty()) return core::Error(core::Errc::store_error, "insert returned no id");
  return r.rows.front().int64(0);
}

const std::string& SqlRow::text(std::size_t i) const {
  static const std::string kEmpty;
  if (is_null(i)) return kEmpty;
  return *m_columns[i];
}

std::int64_t SqlRow::int64(std::size_t i) const {
  if (is_null(i)) return 0;
  const std::string& s = *m_columns[i];
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return 0;
  return v;
}

}  // namespace cartorio::store::sql
