#include "backup/sqlite_snapshot.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace cartorio::backup {

using core::Errc;

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using UniqueDb = std::unique_ptr<sqlite3, DbCloser>;

core::Result<UniqueDb> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  UniqueDb db(raw);
  if (rc != SQLITE_OK)
    return core::Error{Errc::store_error, "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  sqlite3_busy_timeout(db.get(), 10'000);
  return db;
}

}  // namespace

core::Result<void> sqlite_snapshot(const std::string& db_path, const std::string& out_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) return core::Error{Errc::not_found, "no database at " + db_path};
  // Created 0600 first: sqlite3_open_v2 would make it with the umask's mode.
  const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return core::Error{Errc::io_error, "cannot create " + out_path};
  ::close(fd);
  CARTORIO_TRY(auto src, open_db(db_path, SQLITE_OPEN_READONLY));
  CARTORIO_TRY(auto dst, open_db(out_path, SQLITE_OPEN_READWRITE));
  sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (!b) return core::Error{Errc::store_error, std::string("sqlite3_backup_init: ") + sqlite3_errmsg(dst.get())};
  int rc = SQLITE_OK;
  // All pages in one step: one read transaction, so one consistent state. BUSY/LOCKED
  // (a checkpoint holding the file) are waited out.
  for (int attempt = 0; attempt < 200; ++attempt) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(50);
  }
  const int finish = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE || finish != SQLITE_OK)
    return core::Error{Errc::store_error, std::string("SQLite online backup failed: ") + sqlite3_errstr(rc)};
  return core::ok();
}

}  // namespace cartorio::backup
