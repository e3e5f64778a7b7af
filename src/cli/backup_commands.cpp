// `cartorio backup [create] [--out FILE]`, `backup list`, `backup prune` and
// `cartorio restore FILE --data-dir NEW` (docs/operations.md, "Backup and restore").
#include "app/backup.h"
#include "app/restore.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace cartorio::cli {
namespace {

using nlohmann::json;

struct CreateFlags {
  std::string out;
  bool no_upload = false;
  bool json = false;
};

int run_create(const CommandContext& ctx, const CreateFlags& f) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  if (f.no_upload && f.out.empty()) return fail({core::Errc::invalid_argument, "--no-upload needs --out FILE"});
  auto made = app::create_backup(*rt, app::BackupOptions{f.out, !f.no_upload});
  if (!made) return fail(made.error());
  if (f.json) {
    std::cout << json{{"name", made->name},
                      {"file", made->file},
                      {"objects", made->object_keys},
                      {"bytes", made->bytes},
                      {"key_id", made->key_id},
                      {"files", made->files},
                      {"objects_included", made->objects_included},
                      {"warnings", made->warnings}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "backup " << made->name << " (" << made->bytes << " bytes, key " << made->key_id << ")";
    if (!made->file.empty()) std::cout << " written to " << made->file;
    if (!made->object_keys.empty()) std::cout << " and to the object store as " << made->object_keys.front();
    std::cout << "\n";
    for (const auto& w : made->warnings) std::cerr << "warning: " << w << "\n";
  }
  return kOk;
}

int run_list(const CommandContext& ctx, bool prune) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  if (prune) {
    auto pruned = app::prune_backups(*rt->object_tiers.hot, rt->object_tiers.cold, *rt->clock,
                                     std::chrono::days(rt->config.backup.retention_days));
    if (!pruned) return fail(pruned.error());
    std::cout << json(*pruned).dump(2) << "\n";
    return kOk;
  }
  auto list = app::list_backups(*rt->object_tiers.hot, rt->object_tiers.cold);
  if (!list) return fail(list.error());
  json out = json::array();
  for (const auto& b : *list)
    out.push_back({{"name", b.name}, {"created", core::to_unix(b.created)}, {"bytes", b.bytes}, {"objects", b.keys}});
  std::cout << out.dump(2) << "\n";
  return kOk;
}

int run_restore(const CommandContext& ctx, app::RestoreOptions o, bool as_json) {
  o.target_dir = resolve_data_dir(ctx.data_dir_flag);
  // Logs on stderr, like every CLI command; the new data dir has no config yet.
  if (auto cfg = load_cli_config(o.target_dir + "/.no-config-yet"); !cfg) return fail(cfg.error());
  auto r = app::restore_backup(o);
  if (!r) return fail(r.error());
  if (as_json) {
    std::cout << json{{"data_dir", r->data_dir},
                      {"created", r->created},
                      {"key_id", r->key_id},
                      {"store", r->store_backend},
                      {"postgres_schema", r->postgres_schema},
                      {"objects_included", r->objects_included},
                      {"files", r->files},
                      {"warnings", r->warnings}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "restored the backup of " << r->created << " into " << r->data_dir << "\n";
    for (const auto& w : r->warnings) std::cerr << "note: " << w << "\n";
    if (!o.database_url.empty())
      std::cout << "start it with CARTORIO_STORE_POSTGRES_URL set to the --database-url given\n";
  }
  return kOk;
}

}  // namespace

void add_backup_commands(CLI::App& app, CommandContext& ctx) {
  auto* b = app.add_subcommand("backup", "encrypted backups of the installation (to the object store and a file)");
  b->require_subcommand(0, 1);
  auto plain = std::make_shared<CreateFlags>();
  b->add_option("--out", plain->out, "also write the backup to this file");
  b->add_flag("--no-upload", plain->no_upload, "only write --out, not the object store");
  b->add_flag("--json", plain->json, "print the result as JSON");
  b->callback([&ctx, b, plain] {
    if (b->get_subcommands().empty()) ctx.exit_code = run_create(ctx, *plain);
  });

  auto flags = std::make_shared<CreateFlags>();
  auto* c = b->add_subcommand("create", "make a backup now");
  c->add_option("--out", flags->out, "also write the backup to this file");
  c->add_flag("--no-upload", flags->no_upload, "only write --out, not the object store");
  c->add_flag("--json", flags->json, "print the result as JSON");
  c->callback([&ctx, flags] { ctx.exit_code = run_create(ctx, *flags); });

  auto* l = b->add_subcommand("list", "the backups in the object store, oldest first (JSON)");
  l->callback([&ctx] { ctx.exit_code = run_list(ctx, false); });
  auto* p = b->add_subcommand("prune", "delete the backups older than backup.retention_days now (JSON: their names)");
  p->callback([&ctx] { ctx.exit_code = run_list(ctx, true); });

  auto o = std::make_shared<app::RestoreOptions>();
  auto as_json = std::make_shared<bool>(false);
  auto* r = app.add_subcommand("restore", "a working installation in --data-dir NEW (absent or empty) from a backup FILE");
  r->add_option("file", o->file, "the backup file")->required();
  r->add_option("--key-file", o->key_file, "the backup key (default $CARTORIO_BACKUP_KEY_FILE)");
  r->add_option("--master-key-file", o->master_key_file, "the master key, when the backup does not carry it");
  r->add_option("--database-url", o->database_url,
                "PostgreSQL to restore into (default $CARTORIO_STORE_POSTGRES_URL); prefer the environment: "
                "a password here shows in ps");
  r->add_flag("--clean-database", o->clean_database, "drop what the target schema holds first");
  r->add_flag("--json", *as_json, "print the result as JSON");
  r->callback([&ctx, o, as_json] { ctx.exit_code = run_restore(ctx, *o, *as_json); });
}

}  // namespace cartorio::cli
