#include "store/sql/migrations.h"

#include "core/log.h"
#include "store/sql/sql_transaction.h"

#include <string>

namespace cartorio::store::sql {
namespace {

// Key of the transaction lock that serialises migrations across processes ("cartmigr").
constexpr std::int64_t kMigrationLockKey = 0x636172746d696772;

constexpr std::string_view kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at BIGINT NOT NULL)";

core::Error failed(const Migration& m, const core::Error& e) {
  // Unreachable databases stay store_unavailable so callers can retry; anything else is
  // a migration that does not apply.
  auto code = e.code == core::Errc::store_unavailable ? e.code : core::Errc::migration_failed;
  return core::Error(code, "migration " + std::string(m.name) + ": " + e.message);
}

// Returns true when it applied `m`, false when another opener already had.
core::Result<bool> apply_one(SqlConnection& conn, const SqlDialect& dialect, const Migration& m) {
  CARTORIO_TRY(auto tx, SqlTransaction::begin(conn, TxMode::immediate));
  if (!dialect.migration_setup.empty()) CARTORIO_TRY_VOID(conn.exec_script(dialect.migration_setup));
  if (!dialect.transaction_lock.empty())
    CARTORIO_TRY_VOID(conn.query(dialect.transaction_lock, {kMigrationLockKey}, StatementKind::write));
  CARTORIO_TRY_VOID(conn.exec_script(kCreateSchemaMigrations));
  CARTORIO_TRY(int current, read_schema_version(conn));
  if (current >= m.version) return false;
  if (current != m.version - 1)
    return core::Error(core::Errc::migration_failed,
                       "schema is at version " + std::to_string(current) + ", cannot apply " +
                           std::string(m.name));
  CARTORIO_TRY(std::string sql, render_sql(m.sql, dialect));
  CARTORIO_TRY_VOID(conn.exec_script(sql));
  CARTORIO_TRY_VOID(conn.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, " +
                                   dialect.unix_now + ")",
                               {std::int64_t{m.version}}, StatementKind::write));
  CARTORIO_TRY_VOID(tx.commit());
  return true;
}

}  // namespace

core::Result<int> read_schema_version(SqlConnection& conn) {
  CARTORIO_TRY(auto r, conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {},
                                  StatementKind::read));
  if (r.rows.empty()) return 0;
  return static_cast<int>(r.rows.front().int64(0));
}

core::Result<int> apply_migrations(SqlConnection& conn, const SqlDialect& dialect,
                                   std::span<const Migration> migrations) {
  int expected = 1;
  for (const auto& m : migrations) {
    if (m.version != expected++)
      return core::Error(core::Errc::migration_failed,
                         "embedded migrations are not numbered 1, 2, 3...: " + std::string(m.name));
  }
  for (const auto& m : migrations) {
    auto applied = apply_one(conn, dialect, m);
    if (!applied) return failed(m, applied.error());
    if (*applied)
      core::log::info("store migration applied",
                      {{"backend", dialect.backend_name}, {"version", m.version}, {"name", m.name}});
  }
  CARTORIO_TRY(int version, read_schema_version(conn));
  const int known = migrations.empty() ? 0 : migrations.back().version;
  if (version > known)
    core::log::warn("store schema is newer than this binary",
                    {{"backend", dialect.backend_name}, {"schema_version", version}, {"known_version", known}});
  return version;
}

}  // namespace cartorio::store::sql
