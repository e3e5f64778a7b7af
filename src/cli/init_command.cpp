// `cartorio init`: a new installation on embedded defaults, and the root key ceremony.
#include "app/documents_setup.h"
#include "app/identity_setup.h"
#include "app/personal_data_setup.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "cli/ocsp_commands.h"
#include "core/files.h"
#include "crl/crl_generator.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"
#include "ocsp/root_presigner.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <sys/stat.h>

namespace cartorio::cli {

namespace fs = std::filesystem;
using core::Errc;

namespace {

struct InitOptions {
  std::string root_key_out;
  std::string passphrase_file;
  std::string public_base_url;
  bool if_needed = false;
  bool json = false;
};

// Unambiguous characters, 24 of them: ~120 bits.
std::string generate_passphrase() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  auto bytes = crypto::random_bytes(24);
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i && i % 6 == 0) out.push_back('-');
    out.push_back(kAlphabet[bytes[i] % 32]);
  }
  return out;
}

int init_in(const std::string& data_dir, const InitOptions& o);

int run_init(const CommandContext& ctx, const InitOptions& o) {
  const std::string data_dir = resolve_data_dir(ctx.data_dir_flag);
  std::error_code ec;
  if (fs::exists(fs::path(data_dir) / "config.toml", ec)) {
    if (o.if_needed) {
      std::fprintf(stderr, "cartorio: %s is already initialised\n", data_dir.c_str());
      return kOk;
    }
    return fail({Errc::already_initialized, data_dir + " already holds an installation (config.toml exists)"});
  }
  // A failed init leaves nothing behind when it created the directory: no half installation.
  const bool fresh = !fs::exists(data_dir, ec) || fs::is_empty(data_dir, ec);
  if (!fresh)
    return fail({Errc::already_exists, data_dir + " is not empty: init needs a new or empty directory"});
  if (!o.root_key_out.empty() && fs::exists(o.root_key_out, ec))
    return fail({Errc::already_exists, o.root_key_out + " exists: never overwrite a sealed root key"});
  if (auto r = core::make_dirs(data_dir, 0700); !r) return fail(r.error());
  ::chmod(data_dir.c_str(), 0700);
  const int code = init_in(data_dir, o);
  if (code != kOk) {
    fs::remove_all(data_dir, ec);
    std::fprintf(stderr, "cartorio: init failed; removed the partial installation in %s\n", data_dir.c_str());
  }
  return code;
}

int init_in(const std::string& data_dir, const InitOptions& o) {

  // The defaults, plus what the operator chose on the command line, become config.toml.
  auto loaded = load_cli_config(data_dir);
  if (!loaded) return fail(loaded.error());
  core::Config cfg = std::move(*loaded);
  if (!o.public_base_url.empty()) cfg.pki.public_base_url = o.public_base_url;

  std::string passphrase;
  bool generated = false;
  if (!o.passphrase_file.empty() || core::process_env()("CARTORIO_ROOT_PASSPHRASE")) {
    auto p = root_passphrase(o.passphrase_file);
    if (!p) return fail(p.error());
    passphrase = *p;
  } else {
    passphrase = generate_passphrase();
    generated = true;
  }

  auto rt = app::open_runtime(cfg, "cli:init", app::OpenMode::create);
  if (!rt) return fail(rt.error());
  pki::Ceremony ceremony(*rt->keys, *rt->store, *rt->clock, rt->hierarchy_options());
  // The root key is only here during the ceremony: pre-sign the root's OCSP responses now.
  auto result = ceremony.init(passphrase, [&rt](X509* root_cert, EVP_PKEY* root_key) -> core::Result<void> {
    CARTORIO_TRY_VOID(presign_root_ocsp(*rt, root_cert, root_key, ocsp::kDefaultPresignedValidity));
    return core::ok();
  });
  if (!result) return fail(result.error());

  const std::string key_out =
      o.root_key_out.empty() ? cfg.path("ceremony/root-key.sealed") : fs::absolute(o.root_key_out).string();
  if (auto r = core::make_dirs(fs::path(key_out).parent_path().string(), 0700); !r) return fail(r.error());
  if (auto r = core::write_file_atomic(key_out, result->sealed_root_key, 0600); !r) return fail(r.error());
  if (auto r = core::make_dirs(cfg.path("ca")); !r) return fail(r.error());
  if (auto r = core::write_file_atomic(cfg.path("ca/root.pem"), result->root_pem); !r) return fail(r.error());
  for (const auto& [name, crl] : result->crls)
    if (auto r = crl::publish_crl(*rt->objects, name, crl.get()); !r) return fail(r.error());
  if (auto r = app::identity_data_key(cfg, /*create=*/true); !r) return fail(r.error());
  if (auto r = app::load_download_links_key(cfg, /*create=*/true); !r) return fail(r.error());
  if (auto r = app::load_pii_index_key(cfg, /*create=*/true); !r) return fail(r.error());
  // Written last: its presence marks a complete installation.
  if (auto r = core::write_file_atomic(cfg.data_dir + "/config.toml", core::render_config_toml(cfg), 0600); !r)
    return fail(r.error());

  auto root = crypto::parse_certificate(crypto::as_bytes(result->root_pem));
  const std::string fingerprint = crypto::to_hex(crypto::sha256(crypto::to_der(root->get())), true);
  if (o.json) {
    nlohmann::json j = {{"data_dir", cfg.data_dir}, {"root_certificate", cfg.path("ca/root.pem")},
                        {"root_sha256", fingerprint}, {"sealed_root_key", key_out}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("Initialised %s\n  root certificate: %s\n  root SHA-256:     %s\n  sealed root key:  %s\n",
                cfg.data_dir.c_str(), cfg.path("ca/root.pem").c_str(), fingerprint.c_str(), key_out.c_str());
  }
  std::fprintf(stderr,
               "\nThe root key is offline: it exists only sealed in %s.\n"
               "Move that file to offline media and delete it from this machine; it is needed to renew the\n"
               "intermediates (`cartorio ca sign-intermediate`) and to sign the root CRL.\n",
               key_out.c_str());
  if (generated)
    std::fprintf(stderr, "Root key passphrase (shown once, write it down): %s\n", passphrase.c_str());
  return kOk;
}

}  // namespace

void add_init_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "create a new installation: config, keys, CA hierarchy");
  cmd->add_option("--root-key-out", o->root_key_out, "where to write the sealed root key (default DATA_DIR/ceremony/root-key.sealed)");
  cmd->add_option("--root-passphrase-file", o->passphrase_file,
                  "passphrase sealing the root key (else $CARTORIO_ROOT_PASSPHRASE, else one is generated and shown)");
  cmd->add_option("--public-base-url", o->public_base_url, "base URL written into AIA/CDP (pki.public_base_url)");
  cmd->add_flag("--if-needed", o->if_needed, "succeed without changes when already initialised");
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] { ctx.exit_code = run_init(ctx, *o); });
}

}  // namespace cartorio::cli
