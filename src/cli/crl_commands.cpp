// `cartorio crl generate|show`.
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "crl/crl_generator.h"
#include "crypto/x509.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace cartorio::cli {

namespace {

struct GenerateOptions {
  std::string ca;
  std::string out;
  bool der = false;
  std::string root_key;
  std::string passphrase_file;
};

int run_generate(const CommandContext& ctx, const GenerateOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());

  crypto::X509Crl crl;
  if (o.ca == "root") {
    // The root key is offline: the operator brings the sealed export to this ceremony.
    if (o.root_key.empty())
      return fail({core::Errc::ca_offline, "the root CRL is signed with the offline root key: pass --root-key FILE"});
    auto root_key = load_root_key(o.root_key, o.passphrase_file);
    if (!root_key) return fail(root_key.error());
    pki::Ceremony ceremony(*rt->keys, *rt->store, *rt->clock, rt->hierarchy_options());
    auto r = ceremony.sign_root_crl(root_key->get());
    if (!r) return fail(r.error());
    crl = std::move(*r);
    if (auto published = crl::publish_crl(*rt->objects, o.ca, crl.get()); !published) return fail(published.error());
  } else {
    auto r = rt->publish_crl(o.ca);
    if (!r) return fail(r.error());
    crl = std::move(*r);
  }
  const std::string out = o.der ? crypto::to_string(crypto::crl_to_der(crl.get())) : crypto::crl_to_pem(crl.get());
  if (auto r = write_output(o.out, out); !r) return fail(r.error());
  return kOk;
}

struct ShowOptions {
  std::string ca;
  std::string out;
  bool der = false;
};

// The CRL as published (what the distribution point serves), without signing anything.
int run_show(const CommandContext& ctx, const ShowOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto object = rt->objects->get(crl::crl_key(o.ca));
  if (!object) return fail(object.error());
  auto parsed = crypto::parse_crl(crypto::as_bytes(object->data));
  if (!parsed) return fail(parsed.error());
  const std::string out = o.der ? object->data : crypto::crl_to_pem(parsed->get());
  if (auto r = write_output(o.out, out); !r) return fail(r.error());
  return kOk;
}

}  // namespace

void add_crl_commands(CLI::App& app, CommandContext& ctx) {
  auto* crl = app.add_subcommand("crl", "certificate revocation lists");
  crl->require_subcommand(1);
  auto o = std::make_shared<GenerateOptions>();
  auto* g = crl->add_subcommand("generate", "sign a new CRL, publish it, print it (PEM)");
  g->add_option("--ca", o->ca, "tls | document | root")->required()->check(CLI::IsMember({"root", "tls", "document"}));
  g->add_option("--out,-o", o->out, "file to write (default stdout)");
  g->add_flag("--der", o->der, "DER instead of PEM");
  g->add_option("--root-key", o->root_key, "sealed root key (for --ca root)");
  g->add_option("--root-passphrase-file", o->passphrase_file, "its passphrase (else $CARTORIO_ROOT_PASSPHRASE)");
  g->callback([&ctx, o] { ctx.exit_code = run_generate(ctx, *o); });

  auto so = std::make_shared<ShowOptions>();
  auto* s = crl->add_subcommand("show", "print the published CRL (PEM)");
  s->add_option("--ca", so->ca, "tls | document | root")->required()->check(CLI::IsMember({"root", "tls", "document"}));
  s->add_option("--out,-o", so->out, "file to write (default stdout)");
  s->add_flag("--der", so->der, "DER instead of PEM");
  s->callback([&ctx, so] { ctx.exit_code = run_show(ctx, *so); });
}

}  // namespace cartorio::cli
