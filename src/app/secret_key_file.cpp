#include "app/secret_key_file.h"

#include "core/files.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cartorio::app {

namespace fs = std::filesystem;
using core::Errc;
using core::Error;

namespace {

constexpr std::size_t kKeyBytes = 32;

core::Result<crypto::SecretBytes> parse_key(const SecretKeyFile& file, const std::string& text) {
  std::string hex = text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  auto bytes = crypto::from_hex(hex);
  std::fill(hex.begin(), hex.end(), '\0');
  if (!bytes || bytes->size() != kKeyBytes)
    return Error(Errc::config_invalid, file.path + ": the " + file.name + " must be 64 hex digits");
  crypto::SecretBytes key(*bytes);
  std::fill(bytes->begin(), bytes->end(), std::uint8_t{0});
  return key;
}

core::Result<void> create_key_file(const SecretKeyFile& file) {
  const std::string& path = file.path;
  CARTORIO_TRY_VOID(core::make_dirs(fs::path(path).parent_path().string(), 0700));
  auto fresh = crypto::random_bytes(kKeyBytes);
  const std::string tmp = path + ".new." + crypto::to_hex(crypto::random_bytes(8));
  auto written = core::write_file_atomic(tmp, crypto::to_hex(fresh) + "\n", 0600);
  std::fill(fresh.begin(), fresh.end(), std::uint8_t{0});
  CARTORIO_TRY_VOID(written);
  const bool published = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  // EEXIST: another process published first; its key is the one everybody reads.
  if (!published && link_errno != EEXIST)
    return Error(Errc::io_error, path + ": cannot create the " + file.name + ": " + std::strerror(link_errno));
  // The new name must survive a crash as well as the bytes did.
  core::UniqueFd dir(::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return core::ok();
}

}  // namespace

core::Result<crypto::SecretBytes> read_secret_key_file(const SecretKeyFile& file, bool create) {
  const std::string& path = file.path;
  auto existing = core::read_file(path);
  if (!existing && existing.error().code != Errc::not_found) return existing.error();
  if (!existing && !create)
    return Error(Errc::not_initialized,
                 path + " (" + file.config_key + ") is missing: every instance needs the file `init` made; copy it "
                        "from the installation (an installation older than the file: `openssl rand -hex 32 > " +
                     path + " && chmod 600 " + path + "`" + file.older_installation_note + ")");
  if (!existing) {
    CARTORIO_TRY_VOID(create_key_file(file));
    CARTORIO_TRY(existing, core::read_file(path));  // ours, or the one another process published first
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error(Errc::io_error, path + ": " + std::strerror(errno));
  if ((st.st_mode & 077) != 0)
    return Error(Errc::config_invalid,
                 path + ": the " + file.name + " must not be readable by group or others (chmod 600)");
  return parse_key(file, *existing);
}

}  // namespace cartorio::app
