#include "app/identity_setup.h"

#include "core/files.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"

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

core::Result<crypto::SecretBytes> parse_key(const std::string& path, const std::string& text) {
  std::string hex = text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  auto bytes = crypto::from_hex(hex);
  if (!bytes || bytes->size() != 32)
    return Error(Errc::config_invalid, path + ": the identity data key must be 64 hex digits");
  crypto::SecretBytes key(*bytes);
  std::fill(bytes->begin(), bytes->end(), std::uint8_t{0});
  return key;
}

}  // namespace

core::Result<crypto::SecretBytes> identity_data_key(const core::Config& config, bool create) {
  const std::string path = config.path(config.identity.data_key_file);
  auto existing = core::read_file(path);
  if (!existing && existing.error().code != Errc::not_found) return existing.error();
  if (!existing && !create)
    return Error(Errc::not_initialized,
                 path + " (identity.data_key_file) is missing: every instance needs the file `init` made; copy it "
                        "from the installation (an installation older than the file: `openssl rand -hex 32 > " +
                     path + " && chmod 600 " + path + "` before any user enrols MFA)");
  if (!existing) {
    CARTORIO_TRY_VOID(core::make_dirs(fs::path(path).parent_path().string(), 0700));
    auto fresh = crypto::random_bytes(32);
    const std::string tmp = path + ".new." + crypto::to_hex(crypto::random_bytes(8));
    auto written = core::write_file_atomic(tmp, crypto::to_hex(fresh) + "\n", 0600);
    std::fill(fresh.begin(), fresh.end(), std::uint8_t{0});
    CARTORIO_TRY_VOID(written);
    const bool published = ::link(tmp.c_str(), path.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!published && link_errno != EEXIST)
      return Error(Errc::io_error, path + ": cannot create the identity data key: " + std::strerror(link_errno));
    // The new name must survive a crash as well as the bytes did.
    core::UniqueFd dir(::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
    CARTORIO_TRY(existing, core::read_file(path));  // ours, or the one another process published first
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error(Errc::io_error, path + ": " + std::strerror(errno));
  if ((st.st_mode & 077) != 0)
    return Error(Errc::config_invalid, path + ": the identity data key must not be readable by group or others (chmod 600)");
  return parse_key(path, *existing);
}

core::Result<std::unique_ptr<identity::IdentityService>> open_identity(const Runtime& rt) {
  CARTORIO_TRY(auto key, identity_data_key(rt.config));
  identity::IdentityOptions o;
  o.issuer = rt.config.pki.public_base_url;
  o.access_token_ttl = std::chrono::minutes(rt.config.identity.access_token_minutes);
  o.refresh_token_ttl = std::chrono::hours(24 * rt.config.identity.refresh_token_days);
  CARTORIO_TRY(auto service, identity::IdentityService::create(identity::IdentityStores::of(*rt.store), *rt.keys,
                                                                *rt.cache, *rt.clock, std::move(key), o));
  CARTORIO_TRY_VOID(service->ensure_signing_key());
  return service;
}

}  // namespace cartorio::app
