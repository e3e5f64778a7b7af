#include "app/restore.h"

#include "app/backup.h"
#include "app/backup_layout.h"
#include "app/object_storage.h"
#include "app/runtime.h"
#include "app/secrets_setup.h"
#include "backup/archive.h"
#include "backup/postgres_tools.h"
#include "core/files.h"
#include "core/log.h"
#include "keys/software/software_key_store.h"
#include "secrets/secret_store.h"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <filesystem>
#include <map>
#include <sstream>

namespace cartorio::app {

namespace fs = std::filesystem;
using core::Errc;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxManifestBytes = 1 << 20;

// Removes the staging directory unless the restore got to its rename.
struct Staging {
  std::string path;
  bool keep = false;
  ~Staging() {
    std::error_code ec;
    if (!keep && !path.empty()) fs::remove_all(path, ec);
  }
};

core::Result<void> extract(backup::ArchiveReader& in, const fs::path& to) {
  CARTORIO_TRY_VOID(core::make_dirs(to.parent_path().string(), 0700));
  return in.extract_to(to.string(), 0600);
}

// Points config keys at new values in the restored config.toml (paths that were outside
// the old data dir now live inside the new one).
core::Result<void> rewrite_config(const std::string& file, const std::map<std::string, std::string>& values) {
  if (values.empty()) return core::ok();
  toml::table tbl;
  try {
    tbl = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return core::Error{Errc::config_invalid, "the restored config.toml does not parse: " + std::string(e.description())};
  }
  for (const auto& [path, value] : values) {
    const auto dot = path.find('.');
    const std::string section = path.substr(0, dot);
    if (!tbl.contains(section)) tbl.insert(section, toml::table{});
    tbl[section].as_table()->insert_or_assign(path.substr(dot + 1), value);
  }
  std::ostringstream os;
  os << "# Restored by `cartorio restore`; paths outside the old data dir now point inside this one.\n" << tbl << "\n";
  return core::write_file_atomic(file, os.str(), 0600);
}

core::Result<void> restore_postgres(const core::Config& cfg, const json& manifest, const RestoreOptions& o,
                                    const std::string& dump, const std::string& work, RestoreResult& result) {
  const std::string url = o.database_url.empty() ? cfg.store.postgres_url : o.database_url;
  if (url.empty())
    return core::Error{Errc::config_invalid, "the backup holds a PostgreSQL database: pass --database-url, or set "
                                             "CARTORIO_STORE_POSTGRES_URL"};
  const std::string schema = manifest["store"].value("schema", std::string());
  if (schema.empty()) return core::Error{Errc::backup_invalid, "the manifest names no schema"};
  // A role whose password the installation rotated logs in with the restored secret's.
  std::vector<std::string> passwords;
  core::SystemClock clock;
  if (auto ring = open_data_key_ring(cfg, clock, false); ring) {
    if (auto storage = open_object_storage(cfg, clock, **ring); storage) {
      secrets::SecretStore store(*storage->objects, **ring);
      passwords = postgres_password_candidates(store)();
    }
  }
  CARTORIO_TRY(auto target, backup::resolve_pg_target(url, passwords));
  if (!target.schema.empty() && target.schema != schema)
    return core::Error{Errc::invalid_argument, "the backup's tables belong in schema \"" + schema +
                                                   "\", but the target connection's search_path starts with \"" +
                                                   target.schema + "\""};
  CARTORIO_TRY(auto relations, backup::pg_count_relations(target, schema));
  if (relations > 0 && !o.clean_database)
    return core::Error{Errc::conflict, "schema \"" + schema + "\" of the target database holds " +
                                           std::to_string(relations) +
                                           " relations: restore into an empty one, or pass --clean-database"};
  CARTORIO_TRY_VOID(backup::pg_prepare_schema(target, schema, relations > 0));
  CARTORIO_TRY_VOID(backup::pg_restore_schema(target, schema, dump, work));
  result.postgres_schema = schema;
  return core::ok();
}

}  // namespace

core::Result<RestoreResult> restore_backup(const RestoreOptions& o, const core::EnvLookup& env) {
  RestoreResult result;
  std::error_code ec;
  const fs::path target = fs::absolute(o.target_dir).lexically_normal();
  std::string target_str = target.string();
  while (target_str.size() > 1 && target_str.back() == '/') target_str.pop_back();
  if (fs::exists(target_str, ec) && (!fs::is_directory(target_str, ec) || !fs::is_empty(target_str, ec)))
    return core::Error{Errc::conflict, target_str + " is not empty: restore into a new directory"};
  const std::string tmp = target_str + ".tmp";
  if (fs::exists(tmp, ec))
    return core::Error{Errc::conflict, tmp + " exists (an interrupted restore?): remove it first"};

  std::string key_file = o.key_file;
  if (key_file.empty()) key_file = env("CARTORIO_BACKUP_KEY_FILE").value_or("");
  CARTORIO_TRY(auto key, read_backup_key(key_file));
  CARTORIO_TRY(auto in, backup::ArchiveReader::open(o.file, key));
  result.key_id = key.id;

  CARTORIO_TRY(auto first, in->next());
  if (!first || first->name != kManifestEntry) return core::Error{Errc::backup_invalid, "the backup has no manifest"};
  CARTORIO_TRY(auto manifest_text, in->read_all(kMaxManifestBytes));
  json manifest = json::parse(manifest_text, nullptr, false);
  if (!manifest.is_object() || manifest.value("format", "") != kBackupFormat)
    return core::Error{Errc::backup_invalid, "unknown backup format"};
  result.created = manifest.value("created", "");
  result.store_backend = manifest["store"].value("backend", "");
  result.objects_included = manifest["objects"].value("included", false);
  if (manifest.contains("warnings"))
    for (const auto& w : manifest["warnings"]) result.warnings.push_back(w.get<std::string>());
  const bool master_included = manifest["keys"].value("master_key_included", false);
  const bool passphrase = env("CARTORIO_KEYS_MASTER_PASSPHRASE").value_or("") != "";
  if (!master_included && o.master_key_file.empty() && !passphrase)
    return core::Error{Errc::invalid_argument,
                       "this backup does not carry the master key: pass --master-key-file (or set "
                       "CARTORIO_KEYS_MASTER_PASSPHRASE)"};
  std::map<std::string, std::string> external_to;  // config key -> where it goes in NEW
  for (const auto& e : manifest.value("external", json::array()))
    external_to[e.value("config_key", "")] = e.value("restore_to", "");

  CARTORIO_TRY_VOID(core::make_dirs(target.parent_path().string(), 0700));
  CARTORIO_TRY_VOID(core::make_dirs(tmp, 0700));
  Staging staging{tmp};
  const std::string work = tmp + "/run/restore";
  CARTORIO_TRY_VOID(core::make_dirs(work, 0700));

  // Everything is read (and so authenticated) before anything is loaded or renamed.
  for (;;) {
    CARTORIO_TRY(auto entry, in->next());
    if (!entry) break;
    const std::string& name = entry->name;
    if (name.rfind("data/", 0) == 0) {
      CARTORIO_TRY_VOID(extract(*in, fs::path(tmp) / name.substr(5)));
      ++result.files;
    } else if (name == kSqliteEntry || name == kPostgresEntry) {
      CARTORIO_TRY_VOID(extract(*in, fs::path(work) / fs::path(name).filename()));
    } else if (name.rfind("external/", 0) == 0) {
      const std::string rest = name.substr(9);
      const std::string config_key = rest.substr(0, rest.find('/'));
      const auto to = external_to.find(config_key);
      if (to == external_to.end() || to->second.empty())
        return core::Error{Errc::backup_invalid, "entry " + name + " is not in the manifest"};
      const std::string sub = rest.size() > config_key.size() ? rest.substr(config_key.size() + 1) : "";
      CARTORIO_TRY_VOID(extract(*in, sub.empty() ? fs::path(tmp) / to->second : fs::path(tmp) / to->second / sub));
      ++result.files;
    } else {
      return core::Error{Errc::backup_invalid, "unexpected entry " + name};
    }
  }

  // The config, pointed at what moved inside the data dir.
  const std::string config_file = tmp + "/config.toml";
  if (!fs::exists(config_file, ec)) return core::Error{Errc::backup_invalid, "the backup has no config.toml"};
  std::map<std::string, std::string> rewrites;
  for (const auto& [config_key, to] : external_to) rewrites[config_key] = to;
  {
    CARTORIO_TRY(auto old_cfg, core::load_config(tmp, env));
    if (fs::path(old_cfg.store.sqlite_path).is_absolute()) rewrites["store.sqlite_path"] = core::Config().store.sqlite_path;
    if (!o.master_key_file.empty() && fs::path(old_cfg.keys.master_key_file).is_absolute())
      rewrites["keys.master_key_file"] = core::Config().keys.master_key_file;
  }
  CARTORIO_TRY_VOID(rewrite_config(config_file, rewrites));
  CARTORIO_TRY(auto cfg, core::load_config(tmp, env));
  if (!o.master_key_file.empty() && cfg.keys.master_passphrase.empty()) {
    CARTORIO_TRY(auto master, core::read_file(o.master_key_file));
    CARTORIO_TRY_VOID(core::write_file_atomic(cfg.path(cfg.keys.master_key_file), master, 0600));
  }
  // The master key must open the keys before a database is touched.
  {
    core::SystemClock clock;
    CARTORIO_TRY(auto ring, open_data_key_ring(cfg, clock, false));
    if (cfg.keys.backend == "software") {
      CARTORIO_TRY(auto ko, software_key_options(cfg, cfg.keys.software_dir, clock, false));
      CARTORIO_TRY(auto ks, keys::SoftwareKeyStore::open(std::move(ko)));
    }
  }

  if (result.store_backend == "postgres") {
    const std::string dump = work + "/postgres.dump";
    if (!fs::exists(dump, ec)) return core::Error{Errc::backup_invalid, "the backup has no database dump"};
    CARTORIO_TRY_VOID(restore_postgres(cfg, manifest, o, dump, work, result));
    if (!o.database_url.empty()) cfg.store.postgres_url = o.database_url;
  } else {
    const std::string db = work + "/cartorio.db";
    if (!fs::exists(db, ec)) return core::Error{Errc::backup_invalid, "the backup has no database snapshot"};
    const std::string to = cfg.path(cfg.store.sqlite_path);
    CARTORIO_TRY_VOID(core::make_dirs(fs::path(to).parent_path().string(), 0700));
    fs::rename(db, to, ec);
    if (ec) return core::Error{Errc::io_error, "cannot put the database in place: " + ec.message()};
  }
  fs::remove_all(work, ec);

  // Opened once, as the server will: keys, store (migrations), object store. The restore is
  // an audit event of the restored installation.
  {
    CARTORIO_TRY(auto rt, open_runtime(cfg, "cli:restore", OpenMode::existing));
    store::AuditEvent e;
    e.time = core::to_unix(rt.clock->now());
    e.actor = rt.actor;
    e.action = "backup.restore";
    e.target = result.created;
    e.result = "success";
    e.source = "local";
    e.details = json{{"key_id", key.id}, {"store", result.store_backend}}.dump();
    if (auto a = rt.store->append_audit_event(e); !a) result.warnings.push_back("audit: " + a.error().to_string());
  }

  if (fs::exists(target_str, ec)) fs::remove(target_str, ec);  // the empty directory given
  fs::rename(tmp, target_str, ec);
  if (ec) return core::Error{Errc::io_error, "cannot rename " + tmp + " to " + target_str + ": " + ec.message()};
  staging.keep = true;
  result.data_dir = target_str;
  core::log::info("backup.restored", {{"data_dir", target_str}, {"created", result.created}, {"key_id", key.id}});
  return result;
}

}  // namespace cartorio::app
