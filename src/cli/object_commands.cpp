// `cartorio objects lifecycle|versions|rotate-data-key|reencrypt`: the object store's
// retention rules, version history and encryption keys (docs/objectstore.md,
// docs/encryption.md).
#include "app/jobs.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace cartorio::cli {
namespace {

core::Result<app::Runtime> open_existing(const CommandContext& ctx) {
  CARTORIO_TRY(auto cfg, load_cli_config(resolve_data_dir(ctx.data_dir_flag)));
  return app::open_runtime(cfg, "cli", app::OpenMode::existing);
}

int run_lifecycle(const CommandContext& ctx, bool dry_run, bool json) {
  auto rt = open_existing(ctx);
  if (!rt) return fail(rt.error());
  auto report = app::run_object_lifecycle(*rt, dry_run);
  if (!report) return fail(report.error());
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& a : report->actions)
    actions.push_back({{"action", objectstore::to_string(a.kind)}, {"key", a.key}, {"version", a.version_id}});
  if (json) {
    std::cout << nlohmann::json{{"dry_run", dry_run},
                                {"keys_examined", report->keys_examined},
                                {"actions", actions},
                                {"failures", report->failures}}
                     .dump(2)
              << "\n";
  } else {
    for (const auto& a : report->actions)
      std::cout << (dry_run ? "would " : "") << objectstore::to_string(a.kind) << " " << a.key << " (version "
                << a.version_id << ")\n";
    for (const auto& f : report->failures) std::cout << "failed: " << f << "\n";
    std::cout << report->keys_examined << " keys examined, " << report->actions.size() << " actions"
              << (dry_run ? " (dry run: nothing changed)" : "") << "\n";
  }
  return report->failures.empty() ? kOk : kFailure;
}

int run_versions(const CommandContext& ctx, const std::string& key) {
  auto rt = open_existing(ctx);
  if (!rt) return fail(rt.error());
  nlohmann::json out = nlohmann::json::array();
  std::string after;
  for (;;) {
    auto page = rt->objects->list_versions(key, objectstore::kMaxListLimit, after);
    if (!page) return fail(page.error());
    for (const auto& v : page->entries)
      out.push_back({{"version", v.version_id},
                     {"size", v.size},
                     {"last_modified", core::to_unix(v.last_modified)},
                     {"latest", v.is_latest},
                     {"delete_marker", v.delete_marker}});
    if (!page->truncated) break;
    after = page->next_after_version;
  }
  std::cout << out.dump(2) << "\n";
  return kOk;
}

int run_rotate_data_key(const CommandContext& ctx) {
  auto rt = open_existing(ctx);
  if (!rt) return fail(rt.error());
  auto id = rt->data_keys->rotate_data_key();
  if (!id) return fail(id.error());
  store::AuditEvent e;
  e.time = core::to_unix(rt->clock->now());
  e.actor = "cli";
  e.action = "objects.data-key.rotate";
  e.target = *id;
  e.result = "success";
  if (auto a = rt->store->append_audit_event(e); !a) return fail(a.error());
  std::cout << *id << "\n";
  return kOk;
}

int run_reencrypt(const CommandContext& ctx, const std::string& prefix) {
  auto rt = open_existing(ctx);
  if (!rt) return fail(rt.error());
  if (!rt->object_tiers.encrypted) return fail({core::Errc::config_invalid, "objects.encryption is off"});
  auto n = rt->object_tiers.encrypted->reencrypt(prefix);
  if (!n) return fail(n.error());
  std::cout << *n << " objects re-encrypted under the active data key\n";
  return kOk;
}

}  // namespace

void add_object_commands(CLI::App& app, CommandContext& ctx) {
  auto* objects = app.add_subcommand("objects", "the object store: retention, versions, encryption keys");
  objects->require_subcommand(1);

  auto dry_run = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  auto* l = objects->add_subcommand("lifecycle", "apply objects.lifecycle_rules now (move to the cold tier, expire)");
  l->add_flag("--dry-run", *dry_run, "only say what would be done");
  l->add_flag("--json", *json, "the report as JSON");
  l->callback([&ctx, dry_run, json] { ctx.exit_code = run_lifecycle(ctx, *dry_run, *json); });

  auto key = std::make_shared<std::string>();
  auto* v = objects->add_subcommand("versions", "list an object's versions and delete markers, newest first (JSON)");
  v->add_option("key", *key, "object key, e.g. crl/tls.crl")->required();
  v->callback([&ctx, key] { ctx.exit_code = run_versions(ctx, *key); });

  auto* r = objects->add_subcommand("rotate-data-key", "make a new data key for new objects; print its id");
  r->callback([&ctx] { ctx.exit_code = run_rotate_data_key(ctx); });

  auto prefix = std::make_shared<std::string>();
  auto* e = objects->add_subcommand("reencrypt", "re-wrap every object's key under the active data key");
  e->add_option("--prefix", *prefix, "only keys starting with this");
  e->callback([&ctx, prefix] { ctx.exit_code = run_reencrypt(ctx, *prefix); });
}

}  // namespace cartorio::cli
