#include "store/sqlite/sqlite_store.h"

#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_connection.h"

namespace cartorio::store {

core::Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options) {
  CARTORIO_TRY(auto conn, sqlite::open_sqlite_connection(options));
  auto mode = conn->query("PRAGMA journal_mode", {}, sql::StatementKind::read);
  const bool wal = mode && !mode->rows.empty() && mode->rows.front().text(0) == "wal";
  // One connection for writes and most reads: SQLite has one writer anyway, and a single
  // handle keeps every read consistent with the last write without cross-connection snapshots.
  // The factory only runs if that connection is ever dropped as unhealthy.
  auto reopen = [options] { return sqlite::open_sqlite_connection(options); };
  auto pool = std::make_unique<sql::ConnectionPool>(std::move(conn), reopen, 1, std::chrono::seconds(60));
  auto dialect = sqlite::sqlite_dialect();
  const bool on_disk = !options.path.empty() && options.path != ":memory:" && !options.path.starts_with("file:");
  if (on_disk) dialect.job_lock_file_prefix = options.path + ".job-";
  // Readers of their own for the reads on every request's path (an API key's lookup): in WAL
  // mode they see every committed write and need not wait while the writer commits (fsync).
  // Not for an in-memory database, which each connection would open anew and empty, nor
  // outside WAL mode, where a reader's lock would hold up the writer's commit.
  std::unique_ptr<sql::ConnectionPool> readers;
  if (on_disk && wal) readers = std::make_unique<sql::ConnectionPool>(nullptr, reopen, 2, std::chrono::seconds(60));
  return sql::SqlStore::open(std::move(dialect), std::move(pool), std::move(readers));
}

core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  return open_sqlite_store(SqliteStoreOptions{path});
}

}  // namespace cartorio::store
