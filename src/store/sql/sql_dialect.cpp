#include "store/sql/sql_dialect.h"

namespace cartorio::store::sql {

core::Result<std::string> render_sql(std::string_view sql, const SqlDialect& dialect) {
  std::string out;
  out.reserve(sql.size());
  std::size_t pos = 0;
  while (pos < sql.size()) {
    std::size_t open = sql.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(sql.substr(pos));
      break;
    }
    out.append(sql.substr(pos, open - pos));
    std::size_t close = sql.find("}}", open + 2);
    if (close == std::string_view::npos)
      return core::Error(core::Errc::migration_failed, "unterminated {{ token in migration SQL");
    std::string_view name = sql.substr(open + 2, close - open - 2);
    bool found = false;
    for (const auto& [token, value] : dialect.tokens) {
      if (token == name) {
        out.append(value);
        found = true;
        break;
      }
    }
    if (!found)
      return core::Error(core::Errc::migration_failed,
                         "unknown token {{" + std::string(name) + "}} for backend " + dialect.backend_name);
    pos = close + 2;
  }
  return out;
}

}  // namespace cartorio::store::sql
