#include "store/sql/sql_transaction.h"

namespace cartorio::store::sql {

core::Result<SqlTransaction> SqlTransaction::begin(SqlConnection& conn, TxMode mode) {
  CARTORIO_TRY_VOID(conn.begin(mode));
  return SqlTransaction(conn);
}

SqlTransaction::~SqlTransaction() {
  // A failed rollback leaves the connection unhealthy; the pool then drops it.
  if (m_conn) (void)m_conn->rollback();
}

core::Result<void> SqlTransaction::commit() {
  SqlConnection* conn = std::exchange(m_conn, nullptr);
  if (!conn) return core::Error(core::Errc::internal, "commit on a finished transaction");
  auto r = conn->commit();
  if (!r) (void)conn->rollback();
  return r;
}

}  // namespace cartorio::store::sql
