// PostgreSQL (libpq) driver for the generic SQL store. PGconn and PGresult live in the .cpp.
#pragma once

#include "store/postgres/postgres_store.h"
#include "store/sql/sql_connection.h"
#include "store/sql/sql_dialect.h"

#include <memory>

namespace cartorio::store::postgres {

// Errc::invalid_argument when libpq cannot parse the conninfo (its message is not passed
// on: it can quote the password).
core::Result<void> validate_conninfo(const std::string& conninfo);

// One session with statement_timeout set. Errc::store_unavailable when it cannot connect.
core::Result<std::unique_ptr<sql::SqlConnection>> open_postgres_connection(const PostgresStoreOptions& options);

sql::SqlDialect postgres_dialect();

}  // namespace cartorio::store::postgres
