// `cartorio acme eab create`: an External Account Binding key for one ACME client
// (docs/acme.md). The HMAC key is shown once; it stays sealed in the secret store.
#include "app/acme_setup.h"
#include "app/runtime.h"
#include "app/secrets_setup.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace cartorio::cli {

namespace {

int create_eab(const CommandContext& ctx) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto manager = app::open_secret_manager(*rt, nullptr);
  auto key = app::create_eab_key(*manager, {"cli", "local", ""});
  if (!key) return fail(key.error());
  std::cout << nlohmann::json{{"kid", key->kid}, {"hmac_key", key->hmac_key}}.dump(2) << "\n";
  return kOk;
}

}  // namespace

void add_acme_commands(CLI::App& app, CommandContext& ctx) {
  auto* acme = app.add_subcommand("acme", "the ACME server's accounts (docs/acme.md)");
  acme->require_subcommand(1);
  auto* eab = acme->add_subcommand("eab", "External Account Binding keys");
  eab->require_subcommand(1);
  auto* create = eab->add_subcommand("create", "a new key for one client's registration: {kid, hmac_key} (JSON)");
  create->callback([&ctx] { ctx.exit_code = create_eab(ctx); });
}

}  // namespace cartorio::cli
