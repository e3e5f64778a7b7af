// What a backup holds and under which names (shared by app/backup.cpp and app/restore.cpp):
//
//   manifest.json                  what was backed up and what was not (format, key id,
//                                  store backend and schema, objects included or not)
//   store/cartorio.db              SQLite online-backup snapshot, or
//   store/postgres.dump            pg_dump --format=custom of the installation's schema
//   data/<path>                    every file of the data dir (config.toml, keys/, data-keys/,
//                                  identity.key, links.key, pii-index.key, ca/, crl/, the
//                                  filesystem object store...) except the live database, run/,
//                                  the object store's own backups/ and, unless
//                                  backup.include_master_key, the master key
//   external/<config key>/<path>   a configured key file or directory outside the data dir;
//                                  restore puts it at the default place inside the new data
//                                  dir and points the config there
#pragma once

#include "core/config.h"

#include <string>
#include <vector>

namespace cartorio::app {

inline constexpr const char* kBackupFormat = "cartorio-backup/1";
inline constexpr const char* kManifestEntry = "manifest.json";
inline constexpr const char* kSqliteEntry = "store/cartorio.db";
inline constexpr const char* kPostgresEntry = "store/postgres.dump";
inline constexpr const char* kBackupPrefix = "backups/";  // in the object store (raw hot tier)
inline constexpr const char* kBackupExtension = ".cbk";

// A config key naming key material by path, and where `init` puts it by default.
struct KeyPath {
  std::string config_key;  // "identity.data_key_file"
  std::string value;       // as configured (relative to the data dir, or absolute)
  std::string default_value;
  bool directory = false;
};
// The key material a backup carries (the master key only when asked).
std::vector<KeyPath> backup_key_paths(const core::Config& config, bool with_master_key);

// True when `path` (absolute, normalised) is `dir` or inside it.
bool path_within(const std::string& path, const std::string& dir);

}  // namespace cartorio::app
