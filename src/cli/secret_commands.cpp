// `cartorio secrets list|versions|get|put|rotate`: the versioned secret store
// (docs/secrets.md). `get` prints a value and is an audit event naming the operating-system
// user; `put` reads the value from standard input (an argument would show in `ps`).
#include "app/identity_setup.h"
#include "app/secrets_setup.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "secrets/secret_json.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <optional>

namespace cartorio::cli {
namespace {

using secrets::info_json;

// The secrets of an open installation; the identity service too when a JWT key may be
// rotated.
struct Session {
  app::Runtime rt;
  std::unique_ptr<identity::IdentityService> identity;
  std::unique_ptr<secrets::SecretManager> manager;
};

core::Result<std::unique_ptr<Session>> open_session(const CommandContext& ctx, bool with_identity) {
  CARTORIO_TRY(auto cfg, load_cli_config(resolve_data_dir(ctx.data_dir_flag)));
  auto s = std::make_unique<Session>();
  CARTORIO_TRY(s->rt, app::open_runtime(cfg, "cli", app::OpenMode::existing));
  if (with_identity) {
    CARTORIO_TRY(s->identity, app::open_identity(s->rt));
  }
  s->manager = app::open_secret_manager(s->rt, s->identity.get());
  return s;
}

secrets::Caller cli_caller() { return {operator_name(), "local", ""}; }

int print_infos(const core::Result<std::vector<secrets::SecretInfo>>& infos) {
  if (!infos) return fail(infos.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : *infos) out.push_back(info_json(i));
  std::cout << out.dump(2) << "\n";
  return kOk;
}

int run_list(const CommandContext& ctx) {
  auto s = open_session(ctx, false);
  if (!s) return fail(s.error());
  return print_infos((*s)->manager->list());
}

int run_versions(const CommandContext& ctx, const std::string& name) {
  auto s = open_session(ctx, false);
  if (!s) return fail(s.error());
  return print_infos((*s)->manager->versions(name));
}

int run_get(const CommandContext& ctx, const std::string& name, std::int64_t version, bool json) {
  auto s = open_session(ctx, false);
  if (!s) return fail(s.error());
  auto secret = (*s)->manager->reveal(name, version > 0 ? std::optional(version) : std::nullopt, cli_caller());
  if (!secret) return fail(secret.error());
  if (json) {
    auto j = info_json(secret->info);
    j["value"] = secret->value;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << secret->value << "\n";
  }
  return kOk;
}

int run_put(const CommandContext& ctx, const std::string& name, std::optional<int> days) {
  auto value = read_input("-", secrets::SecretStore::kMaxValueBytes + 2, core::Errc::invalid_argument);
  if (!value) return fail(value.error());
  if (!value->empty() && value->back() == '\n') value->pop_back();  // `echo` and here-strings add one
  if (!value->empty() && value->back() == '\r') value->pop_back();
  auto s = open_session(ctx, false);
  if (!s) return fail(s.error());
  auto info = (*s)->manager->put(name, *value, days, cli_caller());
  if (!info) return fail(info.error());
  std::cout << info_json(*info).dump(2) << "\n";
  return kOk;
}

int run_rotate(const CommandContext& ctx, const std::string& name, bool due, const std::string& kind) {
  auto s = open_session(ctx, true);
  if (!s) return fail(s.error());
  if (due) {
    auto report = (*s)->manager->rotate_due(cli_caller());
    if (!report) return fail(report.error());
    nlohmann::json rotated = nlohmann::json::array();
    for (const auto& i : report->rotated) rotated.push_back(info_json(i));
    std::cout << nlohmann::json{{"rotated", rotated}, {"failures", report->failures}}.dump(2) << "\n";
    return report->failures.empty() ? kOk : kFailure;
  }
  std::optional<secrets::Kind> create;
  if (!kind.empty()) {
    create = secrets::parse_kind(kind);
    if (!create) return fail(core::Error(core::Errc::invalid_argument, "--kind: generic or service-certificate"));
  }
  auto info = (*s)->manager->rotate(name, cli_caller(), "rotate", create);
  if (!info) return fail(info.error());
  std::cout << info_json(*info).dump(2) << "\n";
  return kOk;
}

}  // namespace

void add_secret_commands(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("secrets", "the versioned secret store: list, read (audited), put, rotate");
  cmd->require_subcommand(1);

  auto* l = cmd->add_subcommand("list", "every secret's latest version: name, kind, dates (no values; JSON)");
  l->callback([&ctx] { ctx.exit_code = run_list(ctx); });

  auto name = std::make_shared<std::string>();
  auto* v = cmd->add_subcommand("versions", "a secret's versions, newest first (no values; JSON)");
  v->add_option("name", *name, "secret name")->required();
  v->callback([&ctx, name] { ctx.exit_code = run_versions(ctx, *name); });

  auto version = std::make_shared<std::int64_t>(0);
  auto json = std::make_shared<bool>(false);
  auto* g = cmd->add_subcommand("get", "print a secret's value (recorded in the audit trail)");
  g->add_option("name", *name, "secret name")->required();
  g->add_option("--version", *version, "an older version (default: the latest)")->check(CLI::PositiveNumber);
  g->add_flag("--json", *json, "the value with its metadata, as JSON");
  g->callback([&ctx, name, version, json] { ctx.exit_code = run_get(ctx, *name, *version, *json); });

  auto days = std::make_shared<int>(-1);
  auto* p = cmd->add_subcommand("put", "store a new version of a generic secret, its value read from standard input");
  p->add_option("name", *name, "secret name")->required();
  p->add_option("--rotation-days", *days, "rotate it every N days (0: never; default: as before, else secrets.rotation_days)")
      ->check(CLI::Range(0, 3660));
  p->callback([&ctx, name, days] {
    ctx.exit_code = run_put(ctx, *name, *days >= 0 ? std::optional(*days) : std::nullopt);
  });

  auto due = std::make_shared<bool>(false);
  auto* r = cmd->add_subcommand("rotate", "rotate a secret now (a database password is set on the role)");
  r->add_option("name", *name, "secret name");
  r->add_flag("--due", *due, "instead: rotate every secret whose period has passed (what the worker does)");
  auto kind = std::make_shared<std::string>();
  r->add_option("--kind", *kind,
                "create the secret when it is new: generic (32 random bytes) or service-certificate "
                "(a key and tls-client certificate for CN=NAME)");
  r->callback([&ctx, name, due, kind] {
    if (name->empty() != *due) {
      ctx.exit_code = fail(core::Error(core::Errc::invalid_argument, "give a secret name, or --due"));
      return;
    }
    ctx.exit_code = run_rotate(ctx, *name, *due, *kind);
  });
}

}  // namespace cartorio::cli
