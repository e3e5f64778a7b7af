// `cartorio jobs list|runs`: what the scheduled jobs did, on every instance (job_runs;
// docs/jobs.md). Read-only; the jobs themselves run in `serve` or `worker`.
#include "api/job_routes.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace cartorio::cli {

namespace {

struct RunsOptions {
  std::string job;
  int limit = 100;
};

core::Result<app::Runtime> open(const CommandContext& ctx) {
  CARTORIO_TRY(auto cfg, load_cli_config(resolve_data_dir(ctx.data_dir_flag)));
  return app::open_runtime(cfg, "cli", app::OpenMode::existing);
}

int list_jobs(const CommandContext& ctx) {
  auto rt = open(ctx);
  if (!rt) return fail(rt.error());
  auto body = api::jobs_json(*rt->store, {});
  if (!body) return fail(body.error());
  std::cout << body->dump(2) << "\n";
  return kOk;
}

int list_runs(const CommandContext& ctx, const RunsOptions& o) {
  auto rt = open(ctx);
  if (!rt) return fail(rt.error());
  store::JobRunFilter f;
  if (!o.job.empty()) f.job = o.job;
  f.limit = o.limit;
  auto runs = rt->store->list_job_runs(f);
  if (!runs) return fail(runs.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *runs) out.push_back(api::job_run_json(r));
  std::cout << nlohmann::json{{"runs", out}}.dump(2) << "\n";
  return kOk;
}

}  // namespace

void add_job_commands(CLI::App& app, CommandContext& ctx) {
  auto* jobs = app.add_subcommand("jobs", "what the scheduled jobs did (docs/jobs.md)");
  jobs->require_subcommand(1);
  auto* list = jobs->add_subcommand("list", "every job that ran: its latest run and last success (JSON)");
  list->callback([&ctx] { ctx.exit_code = list_jobs(ctx); });
  auto o = std::make_shared<RunsOptions>();
  auto* runs = jobs->add_subcommand("runs", "recorded runs, newest first (JSON)");
  runs->add_option("--job", o->job, "only this job");
  runs->add_option("--limit", o->limit, "at most this many (1..10000)")->check(CLI::Range(1, 10000));
  runs->callback([&ctx, o] { ctx.exit_code = list_runs(ctx, *o); });
}

}  // namespace cartorio::cli
