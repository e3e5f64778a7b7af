// Durable, all-or-nothing files for key material: a reader sees the old content or the new,
// never a torn write, and a crash after success keeps the new content (temp file in the same
// directory, fsync, rename, fsync of the directory). Thin over core/files.h, plus what key
// directories need beyond it: create-only-if-absent, durable removal, owner-only directories
// and a cross-process writer lock.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"

#include <filesystem>
#include <string>

namespace cartorio::keys::detail {

// Replaces `path` with `content`, mode 0600 (core::write_file_atomic). Errc::io_error.
core::Result<void> write_file_atomic(const std::filesystem::path& path, crypto::ByteView content);
// Like write_file_atomic but never replaces: Errc::already_exists when `path` exists
// (the temp file is hard-linked into place, which fails atomically on an existing name).
core::Result<void> write_file_exclusive(const std::filesystem::path& path, crypto::ByteView content);
// Errc::not_found when absent, Errc::io_error otherwise.
core::Result<std::string> read_file(const std::filesystem::path& path);
// Removes `path` and syncs its directory. Errc::not_found when absent.
core::Result<void> remove_file_durable(const std::filesystem::path& path);
// Creates the directory (and parents) with mode 0700 when missing; Errc::io_error if it is
// not a directory.
core::Result<void> ensure_private_directory(const std::filesystem::path& dir);

// An exclusive flock(2) on a lock file, held while the object lives: serialises writers of a
// key directory across processes (in-process callers also hold a mutex).
class FileLock {
 public:
  static core::Result<FileLock> acquire(const std::filesystem::path& lock_file);
  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;  // two owners would unlock (close) twice
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

}  // namespace cartorio::keys::detail
