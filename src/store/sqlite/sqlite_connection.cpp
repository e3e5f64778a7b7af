#include "store/sqlite/sqlite_connection.h"

#include "core/log.h"

#include <sqlite3.h>

#include <unordered_map>

namespace cartorio::store::sqlite {
namespace {

using core::Errc;
using core::Error;
using sql::SqlResult;
using sql::SqlValue;

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
struct SqliteFree {
  void operator()(char* p) const noexcept { sqlite3_free(p); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;
using SqliteString = std::unique_ptr<char, SqliteFree>;

// Prepared statements kept per SQL text; the store's SQL is a small fixed set, the cap
// only guards against a caller that builds unbounded variants.
constexpr std::size_t kMaxCachedStatements = 64;

Error error_from(int rc, sqlite3* db, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return Error(Errc::already_exists, msg);
      return Error(Errc::invalid_argument, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      return Error(Errc::store_unavailable, msg);
    default:
      return Error(Errc::store_error, msg);
  }
}

// Resets a cached statement on every exit path so it holds no lock and no bindings.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* s) : m_stmt(s) {}
  ~StatementUse() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* m_stmt;
};

class SqliteConnection final : public sql::SqlConnection {
 public:
  explicit SqliteConnection(DbPtr db) : m_db(std::move(db)) {}

  core::Result<SqlResult> query(std::string_view sql, const std::vector<SqlValue>& params,
                                sql::StatementKind /*kind: one local file, nothing to retry*/) override {
    CARTORIO_TRY(sqlite3_stmt * stmt, statement(sql));
    StatementUse use(stmt);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        // NUL bytes are refused on every backend (PostgreSQL text cannot hold them).
        if (s->find('\0') != std::string::npos)
          return Error(Errc::invalid_argument, "text parameter " + std::to_string(index) + " contains a NUL byte");
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) return error_from(rc, m_db.get(), "bind");
    }
    SqlResult result;
    const int columns = sqlite3_column_count(stmt);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error_from(rc, m_db.get(), "step");
      std::vector<std::optional<std::string>> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
          continue;
        }
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.emplace_back(std::string(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
      }
      result.rows.emplace_back(std::move(row));
    }
    result.affected_rows = sqlite3_changes64(m_db.get());
    return result;
  }

  core::Result<std::int64_t> insert_returning_id(std::string_view insert_sql,
                                                 const std::vector<SqlValue>& params) override {
    CARTORIO_TRY_VOID(query(insert_sql, params, sql::StatementKind::write));
    // The connection is this thread's until released: the rowid is this statement's.
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(m_db.get()));
  }

  core::Result<void> exec_script(std::string_view sql) override {
    std::string text(sql);
    char* raw_error = nullptr;
    int rc = sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, &raw_error);
    SqliteString error(raw_error);
    if (rc != SQLITE_OK) return error_from(rc, m_db.get(), "exec");
    return core::ok();
  }

  core::Result<void> begin(sql::TxMode mode) override {
    return exec_script(mode == sql::TxMode::immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  core::Result<void> commit() override { return exec_script("COMMIT"); }
  core::Result<void> rollback() override {
    if (sqlite3_get_autocommit(m_db.get())) return core::ok();  // nothing open (SQLite may have rolled back)
    return exec_script("ROLLBACK");
  }

  bool healthy() const override { return sqlite3_get_autocommit(m_db.get()) != 0; }

 private:
  core::Result<sqlite3_stmt*> statement(std::string_view sql) {
    std::string key(sql);
    if (auto it = m_statements.find(key); it != m_statements.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(m_db.get(), key.c_str(), static_cast<int>(key.size() + 1),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StatementPtr stmt(raw);
    if (rc != SQLITE_OK) return error_from(rc, m_db.get(), "prepare");
    if (!stmt) return Error(Errc::store_error, "prepare: empty statement");
    if (m_statements.size() >= kMaxCachedStatements) m_statements.clear();
    return m_statements.emplace(std::move(key), std::move(stmt)).first->second.get();
  }

  DbPtr m_db;  // declared first: closed after every statement is finalized
  std::unordered_map<std::string, StatementPtr> m_statements;
};

}  // namespace

core::Result<std::unique_ptr<sql::SqlConnection>> open_sqlite_connection(const SqliteStoreOptions& options) {
  if (options.path.empty()) return Error(Errc::invalid_argument, "sqlite store: path is empty");
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  DbPtr db(raw);  // owned even when open failed: the handle must still be closed
  if (rc != SQLITE_OK) {
    auto e = error_from(rc, db.get(), "open sqlite database " + options.path);
    return Error(Errc::store_unavailable, e.message);
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);

  auto conn = std::make_unique<SqliteConnection>(std::move(db));
  CARTORIO_TRY_VOID(conn->exec_script("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL"));
  CARTORIO_TRY(auto mode, conn->query("PRAGMA journal_mode = WAL", {}, sql::StatementKind::write));
  const std::string journal = mode.rows.empty() ? "" : mode.rows.front().text(0);
  if (journal != "wal" && journal != "memory")
    core::log::warn("sqlite store is not in WAL mode", {{"journal_mode", journal}, {"path", options.path}});
  return std::unique_ptr<sql::SqlConnection>(std::move(conn));
}

sql::SqlDialect sqlite_dialect() {
  sql::SqlDialect d;
  d.backend_name = "sqlite";
  // AUTOINCREMENT: ids are never reused, even after the highest row is deleted.
  d.tokens = {{"ID_PK", "INTEGER PRIMARY KEY AUTOINCREMENT"}, {"KEY_TEXT", "TEXT"}};
  d.unix_now = "CAST(strftime('%s', 'now') AS INTEGER)";
  d.transaction_lock = "";  // BEGIN IMMEDIATE already takes the database write lock
  d.group_commit = true;     // one connection: writers wait for each other's fsync
  return d;
}

}  // namespace cartorio::store::sqlite
