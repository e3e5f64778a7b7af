#include "api/job_routes.h"

#include "api/error_response.h"
#include "api/json_body.h"

#include <nlohmann/json.hpp>

#include <map>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::Permission;
using identity::Principal;

nlohmann::json job_run_json(const store::JobRunRecord& r) {
  nlohmann::json j{{"id", r.id},           {"job", r.job},         {"scheduled_at", r.scheduled_at},
                   {"attempt", r.attempt}, {"trigger", r.trigger}, {"instance", r.instance},
                   {"started_at", r.started_at}, {"result", r.result}};
  j["ended_at"] = r.ended_at ? nlohmann::json(*r.ended_at) : nlohmann::json(nullptr);
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

core::Result<nlohmann::json> jobs_json(store::JobRunRepository& runs, const std::vector<ScheduledJob>& scheduled) {
  CARTORIO_TRY(auto summaries, runs.job_summaries());
  std::map<std::string, nlohmann::json> jobs;
  for (const auto& s : summaries) {
    auto& j = jobs[s.job];
    j["name"] = s.job;
    j["last_run"] = job_run_json(s.last_run);
    j["last_success_at"] = s.last_success_at ? nlohmann::json(*s.last_success_at) : nlohmann::json(nullptr);
  }
  for (const auto& st : scheduled) {
    auto& j = jobs[st.name];
    j["name"] = st.name;
    j["schedule"] = st.schedule;
    j["per_process"] = st.per_process;
    j["running"] = st.running;
    j["next_due"] = st.next_due ? nlohmann::json(core::to_unix(*st.next_due)) : nlohmann::json(nullptr);
    if (!j.contains("last_run")) {
      j["last_run"] = nullptr;
      j["last_success_at"] = nullptr;
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (auto& [name, j] : jobs) out.push_back(std::move(j));
  return nlohmann::json{{"jobs", out}};
}

namespace {

Response list(store::JobRunRepository& runs, const std::function<std::vector<ScheduledJob>()>& scheduled) {
  auto body = jobs_json(runs, scheduled ? scheduled() : std::vector<ScheduledJob>{});
  if (!body) return error_response(body.error());
  return Response::json(body->dump());
}

Response job_runs(store::JobRunRepository& runs, const Request& req) {
  auto limit = int_query(req, "limit", 1, 1000, 100);
  if (!limit) return bad_request("request.invalid_field", "limit must be an integer from 1 to 1000");
  auto before = int_query(req, "before_id", 1, 2'000'000'000, 0);
  if (!before) return bad_request("request.invalid_field", "before_id must be a positive integer");
  store::JobRunFilter f;
  f.job = req.param("name");
  f.limit = *limit;
  f.before_id = *before;
  auto found = runs.list_job_runs(f);
  if (!found) return error_response(found.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *found) out.push_back(job_run_json(r));
  return Response::json(nlohmann::json{{"job", req.param("name")}, {"runs", out}}.dump());
}

}  // namespace

core::Result<void> add_job_routes(SecuredRouter& router, store::JobRunRepository* runs,
                                  std::function<std::vector<ScheduledJob>()> scheduled) {
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/jobs", Permission::job_read,
                               [runs, scheduled = std::move(scheduled)](const Request&, const Principal&) {
                                 return list(*runs, scheduled);
                               }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/jobs/{name}/runs", Permission::job_read,
                               [runs](const Request& r, const Principal&) { return job_runs(*runs, r); }));
  return core::ok();
}

}  // namespace cartorio::api
