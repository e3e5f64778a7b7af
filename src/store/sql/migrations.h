// The schema migrations in src/store/migrations/NNNN_name.sql, embedded into the binary at
// build time (sql/embed_migrations.cmake generates the definition), shared by every
// backend. Dialect differences are `{{TOKEN}}`s (see SqlDialect).
#pragma once

#include "core/error.h"
#include "store/sql/sql_connection.h"
#include "store/sql/sql_dialect.h"

#include <span>
#include <string_view>

namespace cartorio::store::sql {

struct Migration {
  int version;             // from the file name: 0001_init.sql -> 1
  std::string_view name;   // the file name
  std::string_view sql;
};

// Ordered by version: 1, 2, 3...
std::span<const Migration> embedded_migrations();

// Applies, in order, every migration newer than the database's version, each in its own
// transaction together with its schema_migrations row. Concurrent openers serialise
// (BEGIN IMMEDIATE; the dialect's transaction lock), so each migration applies once.
// A database newer than this binary is left alone (logged). Returns the schema version.
// Errc::migration_failed, or the driver's code when the database cannot be reached.
core::Result<int> apply_migrations(SqlConnection& conn, const SqlDialect& dialect,
                                   std::span<const Migration> migrations);

// Highest applied version, 0 on an empty database.
core::Result<int> read_schema_version(SqlConnection& conn);

}  // namespace cartorio::store::sql
