// `cartorio pii reencrypt`: after `cartorio objects rotate-data-key` (one data-key ring for
// objects and personal fields), moves every personal-data token still under an older data key
// to the active one (docs/personal-data.md, "Rotation and re-encryption").
#include "app/personal_data_setup.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "documents/personal_data.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace cartorio::cli {
namespace {

struct ReencryptOptions {
  std::size_t page_size = 200;
  std::size_t max_rows = 0;
  std::string start_after;
  bool json = false;
};

int run_reencrypt(const CommandContext& ctx, const ReencryptOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  // Re-sealing needs only the ring: blind indexes do not change with the data key.
  const pii::FieldCipher cipher = app::open_field_cipher(*rt);
  auto active = cipher.active_key_id();
  if (!active) return fail(active.error());
  pii::ReencryptOptions options;
  options.page_size = o.page_size;
  options.max_rows = o.max_rows;
  options.start_after = o.start_after;
  auto stats = documents::reencrypt_documents(cipher, *rt->store, options);
  if (!stats) return fail(stats.error());

  const nlohmann::json report = {{"table", documents::kPersonalDataTable},
                                 {"active_key", *active},
                                 {"rows_scanned", stats->rows_scanned},
                                 {"rows_updated", stats->rows_updated},
                                 {"tokens_resealed", stats->tokens_resealed},
                                 {"rows_changed_concurrently", stats->rows_changed_concurrently},
                                 {"tokens_unreadable", stats->tokens_unreadable},
                                 {"first_unreadable", stats->first_unreadable},
                                 {"last_row_id", stats->last_row_id},
                                 {"complete", stats->complete}};
  // The pass used the data keys: the trail says so, with its counts (no personal data).
  store::AuditEvent e;
  e.time = core::to_unix(rt->clock->now());
  e.actor = "cli";
  e.action = "pii.reencrypt";
  e.target = std::string(documents::kPersonalDataTable);
  e.result = stats->tokens_unreadable == 0 ? "success" : "partial";
  e.details = nlohmann::json{{"active_key", *active},
                             {"rows_scanned", stats->rows_scanned},
                             {"tokens_resealed", stats->tokens_resealed},
                             {"tokens_unreadable", stats->tokens_unreadable}}
                  .dump();
  if (auto a = rt->store->append_audit_event(e); !a) return fail(a.error());

  if (o.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    std::cout << documents::kPersonalDataTable << ": " << stats->rows_scanned << " rows with personal data scanned, "
              << stats->rows_updated << " re-sealed (" << stats->tokens_resealed << " tokens) under " << *active
              << ", " << stats->rows_changed_concurrently << " changed meanwhile, " << stats->tokens_unreadable
              << " tokens unreadable" << (stats->complete ? "" : " (stopped at --max-rows; resume with --start-after " +
                                                                     stats->last_row_id + ")")
              << "\n";
    if (!stats->first_unreadable.empty()) std::cout << "first unreadable: " << stats->first_unreadable << "\n";
  }
  // An unreadable token pins its data key: the operator must look before retiring any key.
  return stats->tokens_unreadable == 0 ? kOk : kFailure;
}

}  // namespace

void add_pii_commands(CLI::App& app, CommandContext& ctx) {
  auto* pii = app.add_subcommand("pii", "personal data (CPF, names, e-mail) sealed field by field");
  pii->require_subcommand(1);

  auto o = std::make_shared<ReencryptOptions>();
  auto* r = pii->add_subcommand("reencrypt", "re-seal every personal-data token under the active data key");
  r->add_option("--page-size", o->page_size, "rows per page (default 200)")->check(CLI::Range(1, 10000));
  r->add_option("--max-rows", o->max_rows, "stop after this many rows (0: all)");
  r->add_option("--start-after", o->start_after, "resume after this document id (a bounded run's last_row_id)");
  r->add_flag("--json", o->json, "the counts as JSON");
  r->callback([&ctx, o] { ctx.exit_code = run_reencrypt(ctx, *o); });
}

}  // namespace cartorio::cli
