#include "app/backup.h"

#include "app/backup_layout.h"
#include "app/secret_key_file.h"
#include "app/secrets_setup.h"
#include "backup/archive.h"
#include "backup/postgres_tools.h"
#include "backup/sqlite_snapshot.h"
#include "core/files.h"
#include "core/log.h"
#include "crypto/primitives.h"
#include "objectstore/lifecycle.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace cartorio::app {

namespace fs = std::filesystem;
using core::Errc;
using nlohmann::json;

namespace {

std::string utc_stamp(core::TimePoint t) {
  const std::time_t s = static_cast<std::time_t>(core::to_unix(t));
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<core::TimePoint> parse_stamp(const std::string& name) {
  if (name.size() < 16) return std::nullopt;
  std::tm tm{};
  const std::string stamp = name.substr(0, 16);  // kept alive: `end` points into it
  const char* end = strptime(stamp.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return core::from_unix(static_cast<long long>(timegm(&tm)));
}

std::string normal(const fs::path& p) { return p.lexically_normal().string(); }

// Removes a directory tree on every path out of a scope.
struct ScopedDir {
  std::string path;
  ~ScopedDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};
struct ScopedFile {
  std::string path;
  ~ScopedFile() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

// Walks the data dir into the archive, skipping what must not (or need not) be copied.
class DataDirCollector {
 public:
  DataDirCollector(const core::Config& c, backup::ArchiveWriter& out) : m_c(c), m_out(out) {}

  std::set<std::string> excluded_paths;  // files and directories, absolute
  std::vector<std::string> object_roots;  // filesystem object tiers inside the data dir

  // Copies files not copied yet for which `want(path)` holds.
  core::Result<void> copy(const std::function<bool(const std::string&)>& want) {
    std::error_code ec;
    fs::recursive_directory_iterator it(m_c.data_dir, fs::directory_options::none, ec), end;
    if (ec) return core::Error{Errc::io_error, "cannot list " + m_c.data_dir + ": " + ec.message()};
    for (; it != end; it.increment(ec)) {
      if (ec) return core::Error{Errc::io_error, "cannot list " + m_c.data_dir + ": " + ec.message()};
      const std::string path = normal(it->path());
      if (excluded_paths.count(path)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      const auto name = it->path().filename().string();
      // The object store's own lock and staging files (objectstore/fs).
      if (name.find("#lock") != std::string::npos || name.find("#tmp.") != std::string::npos) continue;
      if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      const std::string rel = fs::path(path).lexically_relative(m_c.data_dir).generic_string();
      if (m_added.count(rel) || !want(path)) continue;
      auto r = m_out.add_file("data/" + rel, path);
      if (!r && r.error().code == Errc::not_found) continue;  // renamed away meanwhile
      if (!r) return r;
      m_added.insert(rel);
    }
    return core::ok();
  }

  bool in_audit_logs(const std::string& path) const {
    for (const auto& root : object_roots)
      if (path_within(path, root + "/audit-logs")) return true;
    return false;
  }
  std::size_t count() const { return m_added.size(); }

 private:
  const core::Config& m_c;
  backup::ArchiveWriter& m_out;
  std::set<std::string> m_added;
};

core::Result<void> add_tree(backup::ArchiveWriter& out, const std::string& entry, const std::string& source,
                            std::uint64_t& files) {
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    CARTORIO_TRY_VOID(out.add_file(entry, source));
    ++files;
    return core::ok();
  }
  for (fs::recursive_directory_iterator it(source, ec), end; it != end; it.increment(ec)) {
    if (ec) return core::Error{Errc::io_error, "cannot list " + source + ": " + ec.message()};
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    CARTORIO_TRY_VOID(out.add_file(entry + "/" + it->path().lexically_relative(source).generic_string(),
                                   it->path().string()));
    ++files;
  }
  return core::ok();
}

// Backups must outlive the lifecycle rules' expiry, or they would vanish before retention.
std::optional<std::string> lifecycle_conflict(const Runtime& rt) {
  const objectstore::LifecycleRule* best = nullptr;
  for (const auto& r : rt.object_tiers.lifecycle_rules)
    if (std::string_view(kBackupPrefix).substr(0, std::min(r.prefix.size(), std::strlen(kBackupPrefix))) == r.prefix &&
        (!best || r.prefix.size() > best->prefix.size()))
      best = &r;
  if (best && best->expire_after && best->expire_after->count() < rt.config.backup.retention_days)
    return "objects.lifecycle_rules expires backups/ after " + std::to_string(best->expire_after->count()) +
           " days, before backup.retention_days (" + std::to_string(rt.config.backup.retention_days) +
           "): add a rule \"backups/=\" or one with a longer expiry";
  return std::nullopt;
}

core::Result<std::vector<std::string>> upload(objectstore::ObjectStore& hot, const std::string& file,
                                              const std::string& name, const std::string& key_id) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return core::Error{Errc::io_error, "cannot read " + file};
  std::vector<std::string> keys;
  std::string part(kBackupPartBytes, '\0');
  for (int n = 1;; ++n) {
    in.read(part.data(), static_cast<std::streamsize>(part.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0 && n > 1) break;
    const std::string key = kBackupPrefix + name + (n == 1 ? "" : "." + std::to_string(n));
    objectstore::PutOptions o;
    o.metadata["backup-key-id"] = key_id;
    o.metadata["backup-part"] = std::to_string(n);
    CARTORIO_TRY_VOID(hot.put(key, std::string_view(part.data(), got), o));
    keys.push_back(key);
    if (got < part.size()) break;
  }
  return keys;
}

// "20260102T030405Z.cbk" and "20260102T030405Z.cbk.2" both belong to the first.
std::optional<std::pair<std::string, int>> backup_of(const std::string& key) {
  if (key.rfind(kBackupPrefix, 0) != 0) return std::nullopt;
  std::string rest = key.substr(std::strlen(kBackupPrefix));
  const auto ext = rest.find(kBackupExtension);
  if (ext == std::string::npos || !parse_stamp(rest)) return std::nullopt;
  const std::string name = rest.substr(0, ext + std::strlen(kBackupExtension));
  const std::string tail = rest.substr(name.size());
  if (tail.empty()) return std::make_pair(name, 1);
  if (tail.size() < 2 || tail[0] != '.' || tail.find_first_not_of("0123456789", 1) != std::string::npos)
    return std::nullopt;
  return std::make_pair(name, std::stoi(tail.substr(1)));
}

core::Result<void> erase_all_versions(objectstore::ObjectStore& store, const std::string& key) {
  for (;;) {
    CARTORIO_TRY(auto page, store.list_versions(key));
    if (page.entries.empty()) return core::ok();
    for (const auto& v : page.entries) {
      CARTORIO_TRY_VOID(store.erase_version(key, v.version_id));
    }
  }
}

}  // namespace

core::Result<backup::BackupKey> read_backup_key(const std::string& key_file) {
  if (key_file.empty())
    return core::Error{Errc::config_invalid,
                       "backup.key_file is not set (CARTORIO_BACKUP_KEY_FILE): make one with "
                       "`openssl rand -hex 32 > FILE && chmod 600 FILE` and keep it outside the data dir"};
  CARTORIO_TRY(auto raw, read_secret_key_file({key_file, "backup.key_file", "backup key", ""}, false));
  return backup::make_backup_key(std::move(raw));
}

core::Result<BackupResult> create_backup(const Runtime& rt, const BackupOptions& options) {
  const auto& c = rt.config;
  CARTORIO_TRY(auto key, read_backup_key(c.backup.key_file));
  BackupResult result;
  result.key_id = key.id;
  const auto now = rt.clock->now();
  result.name = utc_stamp(now) + kBackupExtension;
  if (options.upload && rt.object_tiers.hot) {
    if (auto h = rt.object_tiers.hot->head(kBackupPrefix + result.name); h)
      result.name = utc_stamp(now) + "-" + crypto::to_hex(crypto::random_bytes(2)) + kBackupExtension;
  }
  if (auto conflict = lifecycle_conflict(rt)) {
    result.warnings.push_back(*conflict);
    core::log::warn("backup.lifecycle_conflict", {{"detail", *conflict}});
  }

  // Staged beside its destination (or in run/), renamed when complete.
  const std::string work = normal(fs::path(c.path("run")) / ("backup-" + crypto::to_hex(crypto::random_bytes(6))));
  CARTORIO_TRY_VOID(core::make_dirs(work, 0700));
  ScopedDir work_guard{work};
  const std::string staged = options.out_file.empty()
                                 ? work + "/" + result.name
                                 : normal(fs::absolute(options.out_file)) + ".tmp-" + crypto::to_hex(crypto::random_bytes(4));
  ScopedFile staged_guard{staged};
  CARTORIO_TRY(auto out, backup::ArchiveWriter::create(staged, key));

  // The store: where it is and, for PostgreSQL, which schema and with which password.
  const bool postgres = c.store.backend == "postgres";
  backup::PgTarget pg;
  if (postgres) {
    CARTORIO_TRY(pg, backup::resolve_pg_target(c.store.postgres_url, postgres_password_candidates(*rt.secrets)()));
    if (pg.schema.empty()) return core::Error{Errc::store_error, "the database's search_path names no schema"};
  }
  const std::string sqlite_db = normal(c.path(c.store.sqlite_path));
  const std::string hot_root = normal(c.path(c.objects.filesystem_root));
  const std::string cold_root = normal(c.path(c.objects.cold_filesystem_root));
  const bool fs_objects = c.objects.backend == "filesystem";
  result.objects_included = fs_objects && path_within(hot_root, c.data_dir);

  json manifest = {
      {"format", kBackupFormat},
      {"created", utc_stamp(now)},
      {"key_id", key.id},
      {"source_data_dir", c.data_dir},
      {"store", postgres ? json{{"backend", "postgres"}, {"schema", pg.schema}, {"entry", kPostgresEntry}}
                         : json{{"backend", "sqlite"}, {"entry", kSqliteEntry}}},
      {"keys", {{"backend", c.keys.backend}, {"master_key_included", c.backup.include_master_key && c.keys.master_passphrase.empty()}}},
  };
  if (result.objects_included) {
    manifest["objects"] = {{"backend", "filesystem"}, {"included", true}};
  } else {
    const std::string why = fs_objects ? "objects.filesystem_root is outside the data dir: back it up with it"
                                       : "objects are on S3 (versioned bucket " + c.objects.s3_bucket +
                                             "), which outlives this machine: not copied";
    manifest["objects"] = {{"backend", c.objects.backend}, {"included", false}, {"note", why}};
    result.warnings.push_back(why);
  }
  if (fs_objects && c.objects.cold_tier && result.objects_included && !path_within(cold_root, c.data_dir))
    result.warnings.push_back("objects.cold_filesystem_root is outside the data dir: not copied");
  if (c.keys.backend == "pkcs11")
    result.warnings.push_back("keys.backend = pkcs11: the CA keys stay in the token; back it up with the HSM's tools");

  // Key material outside the data dir travels as external/<config key>.
  json external = json::array();
  std::vector<std::pair<std::string, std::string>> external_sources;
  for (const auto& k : backup_key_paths(c, c.backup.include_master_key)) {
    const std::string resolved = normal(c.path(k.value));
    if (path_within(resolved, c.data_dir)) continue;
    external.push_back({{"config_key", k.config_key}, {"restore_to", k.default_value}, {"directory", k.directory}});
    external_sources.emplace_back("external/" + k.config_key, resolved);
  }
  manifest["external"] = external;
  manifest["warnings"] = result.warnings;
  CARTORIO_TRY_VOID(out->add(kManifestEntry, manifest.dump(2)));

  DataDirCollector data(c, *out);
  data.excluded_paths = {normal(c.path("run")), sqlite_db, sqlite_db + "-wal", sqlite_db + "-shm",
                         sqlite_db + "-journal", normal(staged)};
  if (!options.out_file.empty()) data.excluded_paths.insert(normal(fs::absolute(options.out_file)));
  if (!c.backup.include_master_key) data.excluded_paths.insert(normal(c.path(c.keys.master_key_file)));
  for (const auto& root : {hot_root, cold_root}) {
    // Only the filesystem backend's directories are objects; its backups/ are not copied
    // into the next backup.
    data.excluded_paths.insert(root + "/backups");
    if (fs_objects && path_within(root, c.data_dir)) data.object_roots.push_back(root);
  }
  if (!result.objects_included) {
    for (const auto& root : {hot_root, cold_root}) data.excluded_paths.insert(root);
  }

  // 1. The audit logs' heads and leaf bundles, before the store: no head beyond the snapshot.
  CARTORIO_TRY_VOID(data.copy([&](const std::string& p) { return data.in_audit_logs(p); }));
  // 2. The store, as of one transaction.
  if (postgres) {
    const std::string dump = work + "/postgres.dump";
    CARTORIO_TRY_VOID(backup::pg_dump_schema(pg, pg.schema, dump));
    CARTORIO_TRY_VOID(out->add_file(kPostgresEntry, dump));
  } else {
    const std::string snapshot = work + "/cartorio.db";
    CARTORIO_TRY_VOID(backup::sqlite_snapshot(sqlite_db, snapshot));
    CARTORIO_TRY_VOID(out->add_file(kSqliteEntry, snapshot));
  }
  // 3. Everything else: config, keys (new ones included), documents, CRLs, secrets.
  CARTORIO_TRY_VOID(data.copy([&](const std::string& p) { return !data.in_audit_logs(p); }));
  result.files = data.count();
  for (const auto& [entry, source] : external_sources) {
    CARTORIO_TRY_VOID(add_tree(*out, entry, source, result.files));
  }
  CARTORIO_TRY_VOID(out->finish());

  std::error_code ec;
  result.bytes = fs::file_size(staged, ec);
  if (options.upload) {
    if (!rt.object_tiers.hot) return core::Error{Errc::internal, "no object store to upload the backup to"};
    CARTORIO_TRY(result.object_keys, upload(*rt.object_tiers.hot, staged, result.name, key.id));
  }
  if (!options.out_file.empty()) {
    const std::string final_path = normal(fs::absolute(options.out_file));
    fs::rename(staged, final_path, ec);
    if (ec) return core::Error{Errc::io_error, "cannot write " + final_path + ": " + ec.message()};
    staged_guard.path.clear();
    result.file = final_path;
  }

  store::AuditEvent e;
  e.time = core::to_unix(now);
  e.actor = rt.actor;
  e.action = "backup.create";
  e.target = result.name;
  e.result = "success";
  e.source = "local";
  e.details = json{{"key_id", key.id},
                   {"bytes", result.bytes},
                   {"objects_included", result.objects_included},
                   {"uploaded", !result.object_keys.empty()}}
                  .dump();
  if (auto a = rt.store->append_audit_event(e); !a) result.warnings.push_back("audit: " + a.error().to_string());
  core::log::info("backup.created", {{"name", result.name},
                                     {"bytes", static_cast<std::int64_t>(result.bytes)},
                                     {"key_id", key.id},
                                     {"objects_included", result.objects_included}});
  return result;
}

core::Result<std::vector<StoredBackup>> list_backups(objectstore::ObjectStore& hot, objectstore::ObjectStore* cold) {
  std::map<std::string, StoredBackup> found;
  std::map<std::string, std::map<int, std::string>> parts;
  for (auto* store : {&hot, cold}) {
    if (!store) continue;
    std::string after;
    for (;;) {
      CARTORIO_TRY(auto page, store->list(kBackupPrefix, objectstore::kMaxListLimit, after));
      for (const auto& e : page.entries) {
        auto b = backup_of(e.key);
        if (!b) continue;
        auto& s = found[b->first];
        s.name = b->first;
        s.created = *parse_stamp(b->first);
        s.bytes += e.size;
        parts[b->first][b->second] = e.key;
      }
      if (!page.truncated) break;
      after = page.next_start_after;
    }
  }
  std::vector<StoredBackup> out;
  for (auto& [name, s] : found) {
    for (const auto& [n, key] : parts[name]) s.keys.push_back(key);
    out.push_back(std::move(s));
  }
  return out;  // names start with the UTC time: byte order is age order
}

core::Result<std::vector<std::string>> prune_backups(objectstore::ObjectStore& hot, objectstore::ObjectStore* cold,
                                                     const core::Clock& clock, std::chrono::days retention) {
  const auto cutoff = clock.now() - retention;
  std::set<std::string> pruned;
  for (auto* store : {&hot, cold}) {
    if (!store) continue;
    std::string after;
    for (;;) {
      // Erased keys too: their noncurrent versions are the same backup's bytes.
      CARTORIO_TRY(auto page, store->list_versioned_keys(kBackupPrefix, objectstore::kMaxListLimit, after));
      for (const auto& e : page.entries) {
        auto b = backup_of(e.key);
        if (!b || *parse_stamp(b->first) >= cutoff) continue;
        CARTORIO_TRY_VOID(erase_all_versions(*store, e.key));
        pruned.insert(b->first);
      }
      if (!page.truncated) break;
      after = page.next_start_after;
    }
  }
  for (const auto& name : pruned) core::log::info("backup.pruned", {{"name", name}});
  return std::vector<std::string>(pruned.begin(), pruned.end());
}

void add_backup_job(JobRunner& runner, const Runtime& rt) {
  if (rt.config.backup.key_file.empty()) {
    core::log::warn("backup.disabled", {{"detail", "backup.key_file is not set: no scheduled backups"}});
    return;
  }
  Job job;
  job.name = "backup";
  job.interval = std::chrono::hours(rt.config.backup.interval_hours);
  job.run = [&rt]() -> core::Result<void> {
    CARTORIO_TRY(auto made, create_backup(rt, BackupOptions{}));
    (void)made;
    CARTORIO_TRY(auto pruned, prune_backups(*rt.object_tiers.hot, rt.object_tiers.cold, *rt.clock,
                                            std::chrono::days(rt.config.backup.retention_days)));
    (void)pruned;
    return core::ok();
  };
  runner.add(std::move(job));
}

}  // namespace cartorio::app
