// `cartorio audit checkpoint|verify`: sign tree heads of the audit and transparency logs
// now, and hold the store to every head published (docs/audit.md); `audit ship|verify-archive`:
// the audit archive of signed JSON Lines batches.
#include "app/audit_logs.h"
#include "app/audit_shipping.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace cartorio::cli {
namespace {

int run_checkpoint(const CommandContext& ctx) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto logs = app::open_audit_logs(*rt);
  if (!logs) return fail(logs.error());
  nlohmann::json out = nlohmann::json::object();
  // The transparency log first: its head's key use is then part of the audit head.
  for (auto* heads : {(*logs)->transparency_heads.get(), (*logs)->audit_heads.get()}) {
    auto head = heads->publish();
    if (!head) return fail(head.error());
    out[heads->log().name()] = nlohmann::json::parse(head->to_json());
  }
  std::cout << out.dump(2) << "\n";
  return kOk;
}

int run_verify(const CommandContext& ctx, bool json) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto reports = app::verify_audit_logs(*rt);
  if (!reports) return fail(reports.error());
  bool ok = true;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *reports) {
    ok = ok && r.ok();
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : r.findings) findings.push_back({{"problem", f.problem}, {"id", f.id}, {"message", f.message}});
    out.push_back({{"log", r.log},
                   {"ok", r.ok()},
                   {"store_entries", r.store_entries},
                   {"checkpoints", r.checkpoints},
                   {"covered", r.covered},
                   {"published_leaves", r.published_leaves},
                   {"findings", findings}});
    if (json) continue;
    std::cout << r.log << ": " << (r.ok() ? "ok" : "TAMPERED") << " (" << r.store_entries << " entries, "
              << r.checkpoints << " signed heads checked, " << r.covered << " covered)\n";
    for (const auto& f : r.findings) std::cout << "  " << f.problem << ": " << f.message << "\n";
  }
  if (json) std::cout << out.dump(2) << "\n";
  return ok ? kOk : kTampered;
}

int run_ship(const CommandContext& ctx, bool json) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto shipper = app::open_archive_shipper(*rt, rt->actor);
  if (!shipper) return fail(shipper.error());
  auto shipped = (*shipper)->ship(/*all=*/true);
  if (!shipped) return fail(shipped.error());
  nlohmann::json batches = nlohmann::json::array();
  std::int64_t events = 0;
  for (const auto& b : shipped->batches) {
    events += b.count;
    if (json)
      batches.push_back({{"key", b.key}, {"first", b.first}, {"last", b.last}, {"count", b.count}});
    else
      std::cout << b.key << "  ids " << b.first << ".." << b.last << " (" << b.count << " events)\n";
  }
  if (json)
    std::cout << nlohmann::json{{"batches", batches},
                                {"events", events},
                                {"lost_races", shipped->lost_races},
                                {"archived_through", shipped->archived_through}}
                     .dump(2)
              << "\n";
  else
    std::cout << "shipped " << shipped->batches.size() << " batches (" << events
              << " events); the archive ends at id " << shipped->archived_through << "\n";
  return kOk;
}

int run_verify_archive(const CommandContext& ctx, bool json) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto report = app::verify_audit_archive(*rt);
  if (!report) return fail(report.error());
  const auto& r = *report;
  if (json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : r.findings)
      findings.push_back({{"problem", f.problem}, {"batch", f.batch}, {"id", f.id}, {"message", f.message}});
    std::cout << nlohmann::json{{"ok", r.ok()},
                                {"batches", r.batches},
                                {"events", r.events},
                                {"first_id", r.first_id},
                                {"last_id", r.last_id},
                                {"store_events", r.store_events},
                                {"pending", r.pending},
                                {"findings_total", r.findings_total},
                                {"findings", findings}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "archive: " << (r.ok() ? "ok" : "TAMPERED") << " (" << r.batches << " batches, " << r.events
              << " events, ids " << r.first_id << ".." << r.last_id << "; " << r.pending
              << " store events pending)\n";
    for (const auto& f : r.findings) std::cout << "  " << f.problem << ": " << f.message << "\n";
    if (r.findings_total > r.findings.size())
      std::cout << "  ... and " << (r.findings_total - r.findings.size()) << " more\n";
  }
  return r.ok() ? kOk : kTampered;
}

}  // namespace

void add_audit_commands(CLI::App& app, CommandContext& ctx) {
  auto* audit = app.add_subcommand("audit", "the tamper-evident audit trail and the public transparency log");
  audit->require_subcommand(1);
  auto* c = audit->add_subcommand("checkpoint", "sign and publish a tree head of both logs now (JSON)");
  c->callback([&ctx] { ctx.exit_code = run_checkpoint(ctx); });
  auto json = std::make_shared<bool>(false);
  auto* v = audit->add_subcommand(
      "verify", "recompute both logs from the store and check them against every published tree head; "
                "exit 11 naming each changed, removed or inserted entry");
  v->add_flag("--json", *json, "the report as JSON");
  v->callback([&ctx, json] { ctx.exit_code = run_verify(ctx, *json); });
  auto ship_json = std::make_shared<bool>(false);
  auto* s = audit->add_subcommand(
      "ship", "ship the pending audit events to the audit archive now, as signed batches (audit_shipping.*)");
  s->add_flag("--json", *ship_json, "the batches written as JSON");
  s->callback([&ctx, ship_json] { ctx.exit_code = run_ship(ctx, *ship_json); });
  auto archive_json = std::make_shared<bool>(false);
  auto* a = audit->add_subcommand(
      "verify-archive", "check every archive batch's signature, the chain, and every event once against the store; "
                        "exit 11 naming each problem");
  a->add_flag("--json", *archive_json, "the report as JSON");
  a->callback([&ctx, archive_json] { ctx.exit_code = run_verify_archive(ctx, *archive_json); });
}

}  // namespace cartorio::cli
