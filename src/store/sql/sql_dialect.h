// What differs between SQL engines, as data: the generic SqlStore and the migration runner
// read it; each backend fills one in. Everything else (the SQL itself) is shared.
#pragma once

#include "core/error.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartorio::store::sql {

struct SqlDialect {
  std::string backend_name;  // "sqlite" | "postgres"
  // `{{TOKEN}}` -> engine text, substituted into migrations before they run.
  std::vector<std::pair<std::string, std::string>> tokens;
  // Expression for "now" in Unix seconds.
  std::string unix_now;
  // Statement with one `?` (a 64-bit key) that takes a lock held until the transaction
  // ends, e.g. "SELECT pg_advisory_xact_lock(?)". Empty when the engine's BEGIN IMMEDIATE
  // already serialises writers (SQLite).
  std::string transaction_lock;
  // Run first in each migration transaction, e.g. lifting a statement timeout that suits
  // requests but not a schema change on a large table. May be empty.
  std::string migration_setup;
  // Job locks (JobRunRepository::try_lock_job). Either a pair of statements with one `?`
  // (a 32-bit key) that take and drop a session lock without waiting, returning one
  // boolean row ("SELECT pg_try_advisory_lock(...)")...
  std::string job_try_lock;
  std::string job_unlock;
  // ... or, with none, an flock on "<prefix><job>.lock" (SQLite: beside the database file).
  // Both empty: locks held in this process only (an in-memory database).
  std::string job_lock_file_prefix;
  // Concurrent hot writes (certificates, audit events) share one transaction, so one commit
  // (and one fsync) serves them all: for an engine whose writers queue behind a single
  // connection (SQLite), where each commit's fsync would otherwise hold every other back.
  bool group_commit = false;
};

// Substitutes the dialect's tokens; Errc::migration_failed names a `{{...}}` left unknown.
core::Result<std::string> render_sql(std::string_view sql, const SqlDialect& dialect);

}  // namespace cartorio::store::sql
