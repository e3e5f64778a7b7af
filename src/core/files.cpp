#include "core/files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cartorio::core {

namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return {Errc::io_error, what + " " + path + ": " + std::strerror(errno)};
}


}  // namespace

UniqueFd::~UniqueFd() {
  if (m_fd >= 0) ::close(m_fd);
}

int UniqueFd::close() noexcept {
  const int rc = ::close(m_fd);
  m_fd = -1;
  return rc;
}

Result<void> write_file_atomic(const std::string& path, std::string_view content, unsigned mode) {
  const fs::path target(path);
  std::error_code sec;
  // Renaming over a device or FIFO (say /dev/null) would replace the node itself.
  if (fs::exists(target, sec) && !fs::is_regular_file(target, sec))
    return Error{Errc::invalid_argument, "not a regular file, refusing to replace it: " + path};
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmpXXXXXX")).string();
  UniqueFd fd(::mkstemp(tmpl.data()));
  if (fd.get() < 0) return io_error("cannot create a temporary file for", path);
  auto fail = [&](const char* what) {
    Error e = io_error(what, path);
    ::unlink(tmpl.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("cannot chmod");
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("cannot fsync");
  if (fd.close() != 0) return fail("cannot close");
  if (::rename(tmpl.c_str(), path.c_str()) != 0) return fail("cannot rename into");
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return ok();
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Error{Errc::not_found, "no such file: " + path};
    return io_error("cannot open", path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Result<void> make_dirs(const std::string& path, unsigned mode) {
  std::error_code ec;
  fs::path p(path);
  fs::path cur;
  for (const auto& part : p) {
    cur /= part;
    if (fs::exists(cur, ec)) {
      if (!fs::is_directory(cur, ec)) return Error{Errc::io_error, "not a directory: " + cur.string()};
      continue;
    }
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return io_error("cannot create directory", cur.string());
  }
  return ok();
}

}  // namespace cartorio::core
