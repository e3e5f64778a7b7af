// Files written so that a crash leaves either the old or the new content, never half:
// write to a temp file in the same directory, fsync, rename over, fsync the directory.
#pragma once

#include "core/error.h"

#include <string>
#include <string_view>

namespace cartorio::core {

// Owns a file descriptor: closed on every path out of a scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : m_fd(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;  // two owners would close it twice
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const noexcept { return m_fd; }
  // Closes now, reporting close(2)'s result (a failed close can mean lost writes).
  int close() noexcept;

 private:
  int m_fd;
};

// mode applies to the new file (e.g. 0600 for key material). Errc::io_error;
// Errc::invalid_argument when `path` exists and is not a regular file (a device, a FIFO).
Result<void> write_file_atomic(const std::string& path, std::string_view content, unsigned mode = 0644);
// Errc::io_error naming the path; Errc::not_found when it does not exist.
Result<std::string> read_file(const std::string& path);
// mkdir -p with the given mode for newly created directories.
Result<void> make_dirs(const std::string& path, unsigned mode = 0755);

}  // namespace cartorio::core
