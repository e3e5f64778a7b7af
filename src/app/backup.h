// Backups of an installation (docs/operations.md, "Backup and restore"): a consistent
// snapshot of the store (SQLite online backup, or pg_dump of the installation's schema),
// the key material, the config and — with the filesystem object store inside the data dir —
// the objects, in one file encrypted under the operator's backup key (backup.key_file,
// kept outside the data dir), written locally and to the object store under
// backups/<UTC yyyymmddThhmmssZ>.cbk. Restore: app/restore.h.
//
// Order, for a server that keeps writing: the audit logs' signed heads are copied first,
// then the store is snapshotted, then everything else. So every head covers no more than
// the snapshot holds (`audit verify` passes), and every document, secret and key the
// snapshot refers to was written before it is copied (objects and keys are only added or
// replaced by rename, never edited in place).
#pragma once

#include "app/jobs.h"
#include "app/runtime.h"
#include "backup/sealed_stream.h"
#include "core/clock.h"
#include "core/error.h"
#include "objectstore/object_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cartorio::app {

// The backup key of backup.key_file. Errc::config_invalid when it is not set;
// not_initialized when the file is missing; config_invalid for a bad file (app/secret_key_file.h).
core::Result<backup::BackupKey> read_backup_key(const std::string& key_file);

struct BackupOptions {
  std::string out_file;  // also keep the backup here (written atomically); empty: only uploaded
  bool upload = true;    // to the object store's backups/
};

struct BackupResult {
  std::string name;        // "20260102T030405Z.cbk"
  std::string file;        // out_file, when asked
  std::vector<std::string> object_keys;  // backups/<name>[.<part>], when uploaded
  std::uint64_t bytes = 0;
  std::string key_id;
  std::uint64_t files = 0;  // data dir and key files in it
  bool objects_included = false;
  std::vector<std::string> warnings;  // what was left out and why
};

core::Result<BackupResult> create_backup(const Runtime& rt, const BackupOptions& options);

// The part size of a backup in the object store: larger backups are cut into
// backups/<name>, backups/<name>.2, .3, ... (concatenated in order, they are the file).
inline constexpr std::size_t kBackupPartBytes = 64u << 20;

struct StoredBackup {
  std::string name;  // "20260102T030405Z.cbk"
  core::TimePoint created;
  std::vector<std::string> keys;  // its objects, in order
  std::uint64_t bytes = 0;
};
// The backups in the object store (hot, then cold tier), oldest first.
core::Result<std::vector<StoredBackup>> list_backups(objectstore::ObjectStore& hot, objectstore::ObjectStore* cold);

// Deletes for good (every version) the backups made more than `retention` ago by `clock`,
// from both tiers; returns their names.
core::Result<std::vector<std::string>> prune_backups(objectstore::ObjectStore& hot, objectstore::ObjectStore* cold,
                                                     const core::Clock& clock, std::chrono::days retention);

// The `backup` job: every backup.interval_hours, create_backup() to the object store, then
// prune_backups() by backup.retention_days. Not added (a warning is logged) while
// backup.key_file is empty. `rt` must outlive the runner.
void add_backup_job(JobRunner& runner, const Runtime& rt);

}  // namespace cartorio::app
