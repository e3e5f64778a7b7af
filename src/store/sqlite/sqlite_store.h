// The embedded backend: one SQLite file, created when missing, in WAL mode with
// synchronous=FULL (a notary may not lose a committed record on power loss) and foreign
// keys on. One connection behind a mutex serves every write and most reads (two reader
// connections take the API key lookups); other processes opening the same file wait on its
// lock for up to busy_timeout_ms.
#pragma once

#include "store/store.h"

#include <memory>
#include <string>

namespace cartorio::store {

struct SqliteStoreOptions {
  std::string path;              // database file; its directory must exist
  int busy_timeout_ms = 10000;   // how long to wait for another process's write lock
};

// Opens (creating if missing) and migrates the database. Errc::store_unavailable when the
// file cannot be opened, Errc::migration_failed when the schema cannot be brought up to date.
core::Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options);
core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace cartorio::store
