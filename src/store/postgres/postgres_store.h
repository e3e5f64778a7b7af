// The production backend: PostgreSQL through libpq, with a small connection pool shared by
// threads. Reads that hit a broken connection are retried once on a reset connection;
// writes are not (they may have been applied), and return Errc::store_unavailable.
// The conninfo holds the password: it is never logged nor copied into error messages.
#pragma once

#include "store/store.h"

#include <memory>
#include <string>

namespace cartorio::store {

struct PostgresStoreOptions {
  // libpq connection string ("host=... port=... dbname=... user=... password=...") or
  // URI. Keywords it sets override the defaults below (connect_timeout, application_name).
  std::string conninfo;
  int pool_size = 4;                 // connections opened on demand, at most this many
  int statement_timeout_ms = 15000;  // server-side limit per statement
  int connect_timeout_s = 10;
  int acquire_timeout_ms = 30000;    // wait for a free pooled connection
};

// Connects, migrates and returns the store. Errc::store_unavailable when the server cannot
// be reached or refuses the login, Errc::invalid_argument for a malformed conninfo,
// Errc::migration_failed when the schema cannot be brought up to date.
core::Result<std::unique_ptr<Store>> open_postgres_store(const PostgresStoreOptions& options);
core::Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo);

}  // namespace cartorio::store
