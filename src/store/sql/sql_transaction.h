// A transaction on one connection: rolled back when it dies uncommitted, so an early
// `return error` never leaves a transaction open on a pooled connection.
#pragma once

#include "store/sql/sql_connection.h"

#include <utility>

namespace cartorio::store::sql {

class SqlTransaction {
 public:
  static core::Result<SqlTransaction> begin(SqlConnection& conn, TxMode mode);

  SqlTransaction(SqlTransaction&& other) noexcept : m_conn(std::exchange(other.m_conn, nullptr)) {}
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  ~SqlTransaction();

  core::Result<void> commit();

 private:
  explicit SqlTransaction(SqlConnection& conn) : m_conn(&conn) {}
  SqlConnection* m_conn;  // null once committed, rolled back or moved from
};

}  // namespace cartorio::store::sql
