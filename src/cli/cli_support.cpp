#include "cli/cli_support.h"

#include "core/files.h"
#include "core/log.h"
#include "keys/sealed_key.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <vector>

namespace cartorio::cli {

using core::Errc;

int exit_code_for(Errc code) {
  switch (code) {
    case Errc::wrong_passphrase:
    case Errc::permission_denied:
    case Errc::unauthenticated:
    case Errc::backup_wrong_key:
      return kDenied;
    case Errc::not_found:
    case Errc::key_not_found:
    case Errc::ca_not_found:
      return kNotFound;
    case Errc::already_exists:
    case Errc::already_revoked:
    case Errc::already_initialized:
    case Errc::conflict:
      return kConflict;
    case Errc::store_unavailable:
    case Errc::key_backend:
    case Errc::key_sealed:
    case Errc::ca_offline:
    case Errc::tsa_unavailable:
      return kUnavailable;
    case Errc::audit_tampered:
      return kTampered;
    case Errc::config_invalid:
    case Errc::not_initialized:
    case Errc::migration_failed:
      return kNotReady;
    default:
      break;
  }
  const int n = static_cast<int>(code);
  if (n >= 100 && n < 200) return kBadInput;
  return kFailure;
}

int fail(const core::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.to_string().c_str());
  return exit_code_for(e.code);
}

std::string operator_name() {
  const uid_t uid = geteuid();
  const long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_name)
    return std::string("cli:") + found->pw_name;
  return "cli:" + std::to_string(uid);
}

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (auto env = core::process_env()("CARTORIO_DATA_DIR"); env && !env->empty()) return *env;
  return "./cartorio-data";
}

core::Result<core::Config> load_cli_config(const std::string& data_dir) {
  CARTORIO_TRY(auto cfg, core::load_config(data_dir));
  core::log::Level level = core::log::Level::info;
  core::log::parse_level(cfg.log.level, level);
  core::log::init(level, core::log::Sink::stderr_sink);
  return cfg;
}

core::Result<std::string> read_input(const std::string& path, std::size_t max_bytes, core::Errc too_large) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return core::Error{Errc::io_error, "cannot open " + path};
  std::string out;
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out.size() <= max_bytes) out.append(buf, n);
  if (f != stdin) std::fclose(f);
  if (out.size() > max_bytes)
    return core::Error{too_large, path + " is larger than " + std::to_string(max_bytes) + " bytes"};
  return out;
}

core::Result<void> write_output(const std::string& path, const std::string& content, unsigned mode) {
  if (path.empty() || path == "-") {
    std::fwrite(content.data(), 1, content.size(), stdout);
    std::fflush(stdout);
    return core::ok();
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    // A device or a pipe (/dev/null, a process substitution): write through, never replace it.
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return core::Error{Errc::io_error, "cannot open " + path};
    const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    if (std::fclose(f) != 0 || !ok) return core::Error{Errc::io_error, "cannot write " + path};
    return core::ok();
  }
  return core::write_file_atomic(path, content, mode);
}

core::Result<long long> parse_duration(const std::string& text) {
  if (text.empty()) return {Errc::invalid_argument, "empty duration"};
  long long mult = 1;
  std::string num = text;
  switch (text.back()) {
    case 'd': mult = 86400; num.pop_back(); break;
    case 'h': mult = 3600; num.pop_back(); break;
    case 'm': mult = 60; num.pop_back(); break;
    case 's': num.pop_back(); break;
    default: break;
  }
  if (num.empty() || num.size() > 9 || num.find_first_not_of("0123456789") != std::string::npos)
    return {Errc::invalid_argument, "invalid duration \"" + text + "\" (e.g. 30d, 12h, 90m)"};
  return std::stoll(num) * mult;
}

core::Result<std::string> root_passphrase(const std::string& file_flag) {
  if (!file_flag.empty()) {
    CARTORIO_TRY(auto text, core::read_file(file_flag));
    auto nl = text.find('\n');
    if (nl != std::string::npos) text.resize(nl);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
  }
  if (auto env = core::process_env()("CARTORIO_ROOT_PASSPHRASE"); env && !env->empty()) return *env;
  return core::Error{Errc::invalid_argument,
                     "the root passphrase is needed: --root-passphrase-file FILE or CARTORIO_ROOT_PASSPHRASE"};
}

core::Result<crypto::PKey> load_root_key(const std::string& sealed_file, const std::string& passphrase_file) {
  CARTORIO_TRY(auto sealed, read_input(sealed_file));
  CARTORIO_TRY(auto pass, root_passphrase(passphrase_file));
  return keys::unseal_private_key(sealed, pass);
}

}  // namespace cartorio::cli
