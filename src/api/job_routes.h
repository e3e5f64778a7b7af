// The scheduled jobs (docs/jobs.md), read-only (job:read: admins and auditors):
//   GET /api/v1/jobs                  every job that ever ran: its latest run and last
//                                     success (from job_runs, whichever instance ran it),
//                                     plus schedule and next fire time for the jobs this
//                                     process runs
//   GET /api/v1/jobs/{name}/runs      ?limit=&before_id= — its runs, newest first
#pragma once

#include "api/secured_router.h"
#include "core/clock.h"
#include "store/store.h"

#include <nlohmann/json_fwd.hpp>

#include <functional>

namespace cartorio::api {

// A job this process schedules (app::JobRunner::status()).
struct ScheduledJob {
  std::string name;
  std::string schedule;
  bool per_process = false;
  std::optional<core::TimePoint> next_due;
  bool running = false;
};

// A recorded run as the API and `cartorio jobs runs` show it.
nlohmann::json job_run_json(const store::JobRunRecord& r);
// Every job that ever ran with its latest run and last success, plus `scheduled` (this
// process's jobs: schedule, next fire time), by name. What GET /api/v1/jobs answers.
core::Result<nlohmann::json> jobs_json(store::JobRunRepository& runs, const std::vector<ScheduledJob>& scheduled);

// `runs` must outlive the router; `scheduled` (may be empty: this process runs no jobs) too.
core::Result<void> add_job_routes(SecuredRouter& router, store::JobRunRepository* runs,
                                  std::function<std::vector<ScheduledJob>()> scheduled);

}  // namespace cartorio::api
