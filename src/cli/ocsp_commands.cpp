// `cartorio ocsp presign-root`: the root's OCSP responses, signed during a ceremony.
#include "cli/ocsp_commands.h"

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "crypto/x509.h"
#include "ocsp/ocsp_sources.h"
#include "ocsp/root_presigner.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

namespace cartorio::cli {

namespace {

struct PresignOptions {
  std::string root_key;
  std::string passphrase_file;
  std::string validity = "30d";
};

int run_presign_root(const CommandContext& ctx, const PresignOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto validity = parse_duration(o.validity);
  if (!validity) return fail(validity.error());
  if (*validity <= 0) return fail({core::Errc::invalid_argument, "--validity must be positive"});
  auto root_key = load_root_key(o.root_key, o.passphrase_file);
  if (!root_key) return fail(root_key.error());
  auto rt = app::open_runtime(*cfg, "cli:ceremony", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto h = rt->hierarchy();
  if (!h) return fail(h.error());
  auto root = h->get("root");
  if (!root) return fail(root.error());
  auto n = presign_root_ocsp(*rt, (*root)->cert.get(), root_key->get(), std::chrono::seconds(*validity));
  if (!n) return fail(n.error());
  std::fprintf(stderr, "pre-signed root OCSP responses for %zu certificate(s) in %s, valid %s\n", *n,
               ocsp::presigned_root_dir(cfg->data_dir).c_str(), o.validity.c_str());
  return kOk;
}

}  // namespace

core::Result<std::size_t> presign_root_ocsp(app::Runtime& rt, X509* root_cert, EVP_PKEY* root_key,
                                            std::chrono::seconds validity) {
  // Audited before the key is used, like every other root signature of the ceremony.
  store::AuditEvent e;
  e.time = core::to_unix(rt.clock->now());
  e.actor = rt.actor;
  e.action = "key.use";
  e.target = "offline:root";
  e.result = "success";
  e.source = "local";
  e.details = R"({"purpose":"sign-ocsp","target":"root"})";
  CARTORIO_TRY(auto id, rt.store->append_audit_event(e));
  (void)id;
  return ocsp::presign_root_to_dir(root_cert, root_key, *rt.store, *rt.clock,
                                   ocsp::presigned_root_dir(rt.config.data_dir), validity);
}

void add_ocsp_commands(CLI::App& app, CommandContext& ctx) {
  auto* ocsp_cmd = app.add_subcommand("ocsp", "OCSP responder operations");
  ocsp_cmd->require_subcommand(1);
  auto o = std::make_shared<PresignOptions>();
  auto* p = ocsp_cmd->add_subcommand("presign-root",
                                     "pre-sign the root's OCSP responses (the intermediates' status) with the offline root key");
  p->add_option("--root-key", o->root_key, "the sealed root key file from `cartorio init`")->required();
  p->add_option("--root-passphrase-file", o->passphrase_file, "its passphrase (else $CARTORIO_ROOT_PASSPHRASE)");
  p->add_option("--validity", o->validity, "how long the responses stay valid (default 30d)");
  p->callback([&ctx, o] { ctx.exit_code = run_presign_root(ctx, *o); });
}

}  // namespace cartorio::cli
