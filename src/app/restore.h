// `cartorio restore FILE --data-dir NEW`: a working installation from a backup
// (app/backup.h). The file is decrypted and checked as it is read into NEW.tmp; only when
// all of it authenticated is the database loaded (the SQLite snapshot put in place, or
// pg_restore into an empty schema in one transaction), the installation opened once as a
// check (master key, keys, store), and NEW.tmp renamed to NEW. A failure before the rename
// removes NEW.tmp: a truncated or altered backup writes nothing.
#pragma once

#include "core/config.h"
#include "core/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cartorio::app {

struct RestoreOptions {
  std::string file;
  std::string target_dir;       // NEW: absent or an empty directory
  std::string key_file;         // the backup key (else backup.key_file from the environment)
  std::string master_key_file;  // when the backup does not carry the master key
  std::string database_url;     // PostgreSQL target; empty: store.postgres_url of the restored config
  bool clean_database = false;  // drop what the target schema holds first
};

struct RestoreResult {
  std::string data_dir;
  std::string created;  // when the backup was made (UTC)
  std::string key_id;
  std::string store_backend;
  std::string postgres_schema;
  bool objects_included = false;
  std::uint64_t files = 0;
  std::vector<std::string> warnings;
};

// Errc::conflict (NEW not empty, NEW.tmp left over, target schema not empty without
// clean_database), Errc::backup_invalid / backup_wrong_key (backup/sealed_stream.h),
// Errc::invalid_argument (the master key is needed), Errc::key_backend (a master key that
// does not open the keys), the store's and pg_restore's errors.
core::Result<RestoreResult> restore_backup(const RestoreOptions& options, const core::EnvLookup& env = core::process_env());

}  // namespace cartorio::app
