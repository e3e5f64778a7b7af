#include "app/jobs.h"

#include "core/log.h"
#include "crl/crl_generator.h"
#include "ocsp/presigner.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace cartorio::app {

JobRunner::JobRunner(const core::Clock& clock, std::chrono::seconds retry_after)
    : m_clock(clock), m_retry_after(retry_after) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::add(Job job) {
  const auto due = job.first_due.value_or(m_clock.now());
  m_entries.push_back({std::move(job), due});
}

std::vector<std::string> JobRunner::run_due() {
  std::vector<std::string> ran;
  for (auto& e : m_entries) {
    const auto now = m_clock.now();
    if (now < e.due && !(e.job.due_early && e.job.due_early())) continue;
    const auto started = std::chrono::steady_clock::now();
    auto r = e.job.run();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (r) {
      core::log::info("job.done", {{"job", e.job.name}, {"ms", static_cast<std::int64_t>(ms.count())}});
      e.due = now + e.job.interval;
    } else {
      core::log::error("job.failed", {{"job", e.job.name}, {"error", r.error().to_string()}});
      e.due = now + std::min<std::chrono::seconds>(e.job.interval, m_retry_after);
    }
    if (m_audit) {
      store::AuditEvent event;
      event.time = core::to_unix(m_clock.now());
      event.actor = "job:" + e.job.name;
      event.action = "job.run";
      event.result = r ? "success" : std::string(core::errc_name(r.error().code));
      event.source = "local";
      event.details = nlohmann::json{{"ms", ms.count()}}.dump();
      if (auto a = m_audit->append_audit_event(event); !a)
        core::log::error("audit.write_failed", {{"job", e.job.name}, {"error", a.error().to_string()}});
    }
    ran.push_back(e.job.name);
  }
  return ran;
}

void JobRunner::start(std::chrono::milliseconds tick) {
  m_thread = std::thread([this, tick] {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
      lock.unlock();
      run_due();
      lock.lock();
      m_wake.wait_for(lock, tick, [this] { return m_stopping; });
    }
  });
}

void JobRunner::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

namespace {

// When the CRL published for `ca` was written, if it was.
std::optional<core::TimePoint> published_at(const Runtime& rt, const std::string& ca) {
  auto info = rt.objects->head(crl::crl_key(ca));
  if (!info) return std::nullopt;
  return info->last_modified;
}

}  // namespace

void add_standard_jobs(JobRunner& runner, const Runtime& rt, const ocsp::CachedSources* sources) {
  const auto crl_interval = std::chrono::hours(rt.config.jobs.crl_interval_hours);
  for (const std::string ca : {pki::kTlsCa, pki::kDocumentCa}) {
    Job job;
    job.name = "crl." + ca;
    job.interval = crl_interval;
    if (auto at = published_at(rt, ca)) job.first_due = *at + crl_interval;
    job.run = [&rt, ca]() -> core::Result<void> {
      CARTORIO_TRY(auto crl, rt.publish_crl(ca));
      (void)crl;
      return core::ok();
    };
    runner.add(std::move(job));
  }
  if (!rt.object_tiers.lifecycle_rules.empty()) {
    Job job;
    job.name = "object-lifecycle";
    job.interval = std::chrono::hours(rt.config.jobs.lifecycle_interval_hours);
    job.run = [&rt]() -> core::Result<void> {
      CARTORIO_TRY(auto report, run_object_lifecycle(rt, false));
      if (!report.failures.empty())
        return core::Error{core::Errc::store_error, std::to_string(report.failures.size()) +
                                                        " objects failed their lifecycle rules, first: " +
                                                        report.failures.front()};
      return core::ok();
    };
    runner.add(std::move(job));
  }
  if (!rt.config.ocsp.presign || !sources) return;
  for (const auto& [ca, source] : sources->cached) {
    Job job;
    job.name = "ocsp.presign." + ca;
    job.interval = std::chrono::seconds(rt.config.ocsp.presign_interval_seconds);
    auto seen = std::make_shared<std::uint64_t>(rt.revocation_epoch->load());
    if (!rt.cache_is_shared())
      job.due_early = [&rt, seen] { return rt.revocation_epoch->load() != *seen; };
    job.run = [&rt, seen, source = source]() -> core::Result<void> {
      *seen = rt.revocation_epoch->load();
      CARTORIO_TRY(auto report, ocsp::presign_live(*source, *rt.store, *rt.clock));
      core::log::info("ocsp.presigned", {{"ca", source->ca()}, {"certificates", report.certificates},
                                         {"failed", report.failed}});
      if (report.failed > 0) return core::Error{core::Errc::store_unavailable, "some answers were not pre-signed"};
      return core::ok();
    };
    runner.add(std::move(job));
  }
}

core::Result<objectstore::LifecycleReport> run_object_lifecycle(const Runtime& rt, bool dry_run) {
  using Kind = objectstore::LifecycleAction::Kind;
  const auto& tiers = rt.object_tiers;
  objectstore::Lifecycle lifecycle(*tiers.hot, tiers.cold, tiers.lifecycle_rules, *rt.clock);
  CARTORIO_TRY(auto report, lifecycle.run(dry_run));
  auto n = [](std::size_t v) { return static_cast<std::int64_t>(v); };
  core::log::info("objects.lifecycle",
                  {{"dry_run", dry_run},
                   {"keys", n(report.keys_examined)},
                   {"moved_to_cold", n(report.count(Kind::move_to_cold))},
                   {"expired", n(report.count(Kind::expire) + report.count(Kind::expire_cold))},
                   {"expired_noncurrent", n(report.count(Kind::expire_noncurrent))},
                   {"failures", n(report.failures.size())}});
  return report;
}

}  // namespace cartorio::app
