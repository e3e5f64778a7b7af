// SQLite driver for the generic SQL store. The sqlite3 handles live in the .cpp.
#pragma once

#include "store/sql/sql_connection.h"
#include "store/sql/sql_dialect.h"
#include "store/sqlite/sqlite_store.h"

#include <memory>

namespace cartorio::store::sqlite {

// Opens the file with the store's pragmas set (WAL, synchronous=FULL, foreign keys,
// busy timeout). Errc::store_unavailable when it cannot be opened.
core::Result<std::unique_ptr<sql::SqlConnection>> open_sqlite_connection(const SqliteStoreOptions& options);

sql::SqlDialect sqlite_dialect();

}  // namespace cartorio::store::sqlite
