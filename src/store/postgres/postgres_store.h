// The production backend: PostgreSQL through libpq, with a small connection pool shared by
// threads. Reads that hit a broken connection are retried once on a reset connection;
// writes are not (they may have been applied), and return Errc::store_unavailable.
// The conninfo holds the password: it is never logged nor copied into error messages.
//
// Password rotation without a failed request: give the store a password provider
// (PostgresStoreOptions::password_candidates) and call Store::change_own_password. The
// order matters:
//   1. write the new password into the provider's source, first among its candidates
//      (keep the current one after it);
//   2. call store->change_own_password(new_password): ALTER ROLE with a SCRAM-SHA-256
//      verifier computed client-side, then every pooled connection is re-opened (idle
//      ones at once, leased ones when released) and logs in through the provider;
//   3. if it failed, revert the provider (old first again; after store_unavailable the
//      change may have been applied, so keep the new one after it); once it succeeded,
//      the old candidate may go.
// Sessions already open are never interrupted: PostgreSQL checks passwords only at login.
#pragma once

#include "store/store.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cartorio::store {

struct PostgresStoreOptions {
  // libpq connection string ("host=... port=... dbname=... user=... password=...") or
  // URI. Keywords it sets override the defaults below (connect_timeout, application_name).
  std::string conninfo;
  int pool_size = 4;                 // connections opened on demand, at most this many
  int statement_timeout_ms = 15000;  // server-side limit per statement
  int connect_timeout_s = 10;
  int acquire_timeout_ms = 30000;    // wait for a free pooled connection
  // Password provider, called each time a connection is opened or re-opened (also after
  // the server dropped it). Each candidate is tried in order as the `password` keyword,
  // overriding the conninfo's; when the server refuses them all, the conninfo's own
  // password is tried last. Only a refused password moves on to the next candidate: an
  // unreachable server fails once. Empty candidates are skipped. Unset or returning
  // nothing: the conninfo alone. Called from any pool thread, so it must be thread-safe;
  // an exception it throws fails the connect (Errc::store_unavailable). Candidates are
  // never logged nor put in error messages.
  std::function<std::vector<std::string>()> password_candidates;
};

// Connects, migrates and returns the store. Errc::store_unavailable when the server cannot
// be reached or refuses the login, Errc::invalid_argument for a malformed conninfo,
// Errc::migration_failed when the schema cannot be brought up to date.
core::Result<std::unique_ptr<Store>> open_postgres_store(const PostgresStoreOptions& options);
core::Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo);

}  // namespace cartorio::store
