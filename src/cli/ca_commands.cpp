// `cartorio ca chain|sign-intermediate`.
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "crypto/x509.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

namespace cartorio::cli {

namespace {

struct ChainOptions {
  std::string ca;
  std::string out;
};

struct SignIntermediateOptions {
  std::string ca;
  std::string root_key;
  std::string passphrase_file;
  bool new_key = false;
};

int run_chain(const CommandContext& ctx, const ChainOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto h = rt->hierarchy();
  if (!h) return fail(h.error());
  auto chain = h->chain_pem(o.ca);
  if (!chain) return fail(chain.error());
  if (auto r = write_output(o.out, *chain); !r) return fail(r.error());
  return kOk;
}

int run_sign_intermediate(const CommandContext& ctx, const SignIntermediateOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto root_key = load_root_key(o.root_key, o.passphrase_file);
  if (!root_key) return fail(root_key.error());
  auto rt = app::open_runtime(*cfg, "cli:ceremony", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  pki::Ceremony ceremony(*rt->keys, *rt->store, *rt->clock, rt->hierarchy_options());
  auto cert = ceremony.sign_intermediate(o.ca, root_key->get(), o.new_key);
  if (!cert) return fail(cert.error());
  std::fprintf(stderr, "re-issued the %s CA certificate (serial %s)%s\n", o.ca.c_str(),
               crypto::serial_hex(cert->get()).c_str(), o.new_key ? " with a new key" : "");
  if (auto r = write_output("-", crypto::to_pem(cert->get())); !r) return fail(r.error());
  return kOk;
}

}  // namespace

void add_ca_commands(CLI::App& app, CommandContext& ctx) {
  auto* ca = app.add_subcommand("ca", "the CA hierarchy");
  ca->require_subcommand(1);

  auto chain = std::make_shared<ChainOptions>();
  auto* c = ca->add_subcommand("chain", "PEM chain of a CA, from it up to the root");
  c->add_option("--ca", chain->ca, "root | tls | document")->required()->check(CLI::IsMember({"root", "tls", "document"}));
  c->add_option("--out,-o", chain->out, "file to write (default stdout)");
  c->callback([&ctx, chain] { ctx.exit_code = run_chain(ctx, *chain); });

  auto si = std::make_shared<SignIntermediateOptions>();
  auto* s = ca->add_subcommand("sign-intermediate", "renew or re-key an intermediate with the offline root key");
  s->add_option("--ca", si->ca, "tls | document")->required()->check(CLI::IsMember({"tls", "document"}));
  s->add_option("--root-key", si->root_key, "the sealed root key file from `cartorio init`")->required();
  s->add_option("--root-passphrase-file", si->passphrase_file, "its passphrase (else $CARTORIO_ROOT_PASSPHRASE)");
  s->add_flag("--new-key", si->new_key, "generate a new CA key (re-key) instead of renewing the current one");
  s->callback([&ctx, si] { ctx.exit_code = run_sign_intermediate(ctx, *si); });
}

}  // namespace cartorio::cli
