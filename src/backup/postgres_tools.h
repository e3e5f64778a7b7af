// PostgreSQL for backups: pg_dump and pg_restore (the server's own tools, run as child
// processes) over the installation's schema, and the few catalogue queries restore needs.
// A password never goes on a command line: the children get it in PGPASSWORD, and the
// conninfo they see has it removed.
#pragma once

#include "core/error.h"

#include <string>
#include <vector>

namespace cartorio::backup {

struct PgTarget {
  std::string conninfo;  // without password: safe to show and to pass as --dbname
  std::string password;  // the one that logged in; may be empty (trust, .pgpass, PGPASSWORD)
  std::string schema;    // current_schema() of a session; empty when search_path names none that exists
};

// Logs in with each of `passwords` in turn, then with the conninfo's own: the first that
// works. Errc::invalid_argument (unparsable conninfo; libpq's message is not passed on,
// it can quote the password), Errc::store_unavailable.
core::Result<PgTarget> resolve_pg_target(const std::string& conninfo, const std::vector<std::string>& passwords);

// pg_dump --format=custom of `schema` into the new file `out_file`. Errc::store_error with
// pg_dump's message.
core::Result<void> pg_dump_schema(const PgTarget& target, const std::string& schema, const std::string& out_file);

// How many relations `schema` holds (0 when it does not exist).
core::Result<long long> pg_count_relations(const PgTarget& target, const std::string& schema);

// DROP SCHEMA ... CASCADE (when `drop_contents`), then CREATE SCHEMA IF NOT EXISTS.
core::Result<void> pg_prepare_schema(const PgTarget& target, const std::string& schema, bool drop_contents);

// pg_restore of a pg_dump_schema() file into the (existing, empty) schema, in one
// transaction: all of it or nothing. `work_dir` holds the table of contents it filters.
core::Result<void> pg_restore_schema(const PgTarget& target, const std::string& schema, const std::string& dump_file,
                                     const std::string& work_dir);

}  // namespace cartorio::backup
