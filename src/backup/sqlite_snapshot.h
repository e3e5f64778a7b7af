// A consistent copy of a live SQLite database (the store's, in WAL mode) with SQLite's own
// online backup API: readers never block the writer, and the copy is the database as of
// one transaction, whatever the server writes meanwhile.
#pragma once

#include "core/error.h"

#include <string>

namespace cartorio::backup {

// Copies `db_path` into the new file `out_path` (0600). Errc::not_found when there is no
// database, Errc::store_error when SQLite fails.
core::Result<void> sqlite_snapshot(const std::string& db_path, const std::string& out_path);

}  // namespace cartorio::backup
