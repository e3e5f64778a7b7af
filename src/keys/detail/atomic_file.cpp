#include "keys/detail/atomic_file.h"

#include "core/files.h"
#include "crypto/primitives.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cartorio::keys::detail {

namespace fs = std::filesystem;
using core::Errc;

namespace {

std::string errno_text(const std::string& what, const fs::path& p, int err) {
  return what + " " + p.string() + ": " + std::strerror(err);
}


core::Result<void> sync_directory(const fs::path& dir) {
  core::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return {Errc::io_error, errno_text("cannot open directory", dir, errno)};
  if (::fsync(fd.get()) != 0) return {Errc::io_error, errno_text("cannot sync directory", dir, errno)};
  return core::ok();
}

// Writes a fresh 0600 temp file beside `path` and returns its name.
core::Result<fs::path> write_temp(const fs::path& path, crypto::ByteView content) {
  fs::path tmp = path;
  tmp += ".tmp-" + crypto::to_hex(crypto::random_bytes(8));
  core::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return {Errc::io_error, errno_text("cannot create", tmp, errno)};
  const std::uint8_t* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return {Errc::io_error, errno_text("cannot write", tmp, err)};
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return {Errc::io_error, errno_text("cannot sync", tmp, err)};
  }
  return tmp;
}

fs::path parent_of(const fs::path& p) {
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

}  // namespace

core::Result<void> write_file_atomic(const fs::path& path, crypto::ByteView content) {
  const std::string_view text(reinterpret_cast<const char*>(content.data()), content.size());
  return core::write_file_atomic(path.string(), text, 0600);
}

core::Result<void> write_file_exclusive(const fs::path& path, crypto::ByteView content) {
  CARTORIO_TRY(fs::path tmp, write_temp(path, content));
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) return {Errc::already_exists, path.string() + " already exists; not overwriting"};
    return {Errc::io_error, errno_text("cannot create", path, err)};
  }
  return sync_directory(parent_of(path));
}

core::Result<std::string> read_file(const fs::path& path) { return core::read_file(path.string()); }

core::Result<void> remove_file_durable(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {Errc::not_found, path.string() + " does not exist"};
    return {Errc::io_error, errno_text("cannot remove", path, errno)};
  }
  return sync_directory(parent_of(path));
}

core::Result<void> ensure_private_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return core::ok();
  if (fs::exists(dir, ec)) return {Errc::io_error, dir.string() + " exists and is not a directory"};
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    CARTORIO_TRY_VOID(ensure_private_directory(dir.parent_path()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return {Errc::io_error, errno_text("cannot create directory", dir, errno)};
  return sync_directory(parent_of(dir));
}

core::Result<FileLock> FileLock::acquire(const fs::path& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {Errc::io_error, errno_text("cannot open lock file", lock_file, errno)};
  FileLock lock(fd);  // owns fd from here on
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return {Errc::io_error, errno_text("cannot lock", lock_file, errno)};
  }
  return lock;
}

FileLock::~FileLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing the descriptor releases the flock
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = other.m_fd;
    other.m_fd = -1;
  }
  return *this;
}

}  // namespace cartorio::keys::detail
