// The tiny driver interface the generic SQL store is written against (PowerDNS's SSql idea):
// one connection, positional `?` parameters, rows of text, and transactions. Backends
// (store/sqlite/, store/postgres/) implement it in their .cpp files so that no header
// includes sqlite3.h or libpq-fe.h.
//
// A SqlConnection is used by one thread at a time (the ConnectionPool hands it out).
// Errors use the store's codes: Errc::already_exists for a unique-key violation,
// Errc::invalid_argument for any other constraint violation, Errc::store_unavailable when
// the database cannot be reached (or the connection was lost), Errc::store_error otherwise.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cartorio::store::sql {

// A bound parameter. Integers are bound as integers (SQLite compares by type), text as text.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string>;

// One result row. Every backend returns values as text (PostgreSQL's text protocol;
// SQLite converts), so readers parse numbers; column indexes are 0-based.
class SqlRow {
 public:
  SqlRow() = default;
  explicit SqlRow(std::vector<std::optional<std::string>> columns) : m_columns(std::move(columns)) {}

  std::size_t size() const { return m_columns.size(); }
  bool is_null(std::size_t i) const { return i >= m_columns.size() || !m_columns[i]; }
  // "" for NULL or a missing column.
  const std::string& text(std::size_t i) const;
  // 0 for NULL, a missing column or text that is not a decimal integer.
  std::int64_t int64(std::size_t i) const;

 private:
  std::vector<std::optional<std::string>> m_columns;
};

struct SqlResult {
  std::vector<SqlRow> rows;
  std::int64_t affected_rows = 0;  // for INSERT/UPDATE/DELETE
};

// Whether a statement may be sent again after the connection broke mid-call. Only reads
// are: a write may have been applied before the connection dropped.
enum class StatementKind { read, write };

// `immediate` takes the write lock at BEGIN (SQLite's BEGIN IMMEDIATE), so two writers
// that read-then-write serialise instead of failing at upgrade time. PostgreSQL ignores it.
enum class TxMode { deferred, immediate };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  SqlConnection() = default;
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  // One statement with `?` placeholders, bound in order (1-based in the SQL, 0-based here).
  virtual core::Result<SqlResult> query(std::string_view sql, const std::vector<SqlValue>& params,
                                        StatementKind kind) = 0;
  // One INSERT of one row into a table whose `id` column the engine assigns; returns that
  // id. The default appends " RETURNING id". SQLite reads the connection's last rowid
  // instead: its RETURNING costs a statement journal and a temporary table per row.
  virtual core::Result<std::int64_t> insert_returning_id(std::string_view insert_sql,
                                                         const std::vector<SqlValue>& params);
  // Several `;`-separated statements without parameters (migrations).
  virtual core::Result<void> exec_script(std::string_view sql) = 0;

  virtual core::Result<void> begin(TxMode mode) = 0;
  virtual core::Result<void> commit() = 0;
  virtual core::Result<void> rollback() = 0;

  // False once the connection is known to be unusable; the pool then drops it.
  virtual bool healthy() const = 0;

  // Sets the password of the role this connection is logged in as (Store::change_own_password
  // describes the contract; the store retires the pool's connections afterwards). Not inside
  // a transaction. The default: Errc::not_supported (SQLite has no password).
  virtual core::Result<void> change_own_password(std::string_view new_password);
};

}  // namespace cartorio::store::sql
