#include "app/jobs.h"
#include "app/personal_data_setup.h"
#include "documents/personal_data.h"
#include "documents/unfinished_signatures.h"

#include "core/log.h"
#include "crl/crl_generator.h"
#include "metrics/metrics.h"
#include "ocsp/presigner.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>

namespace cartorio::app {

struct JobRunner::Flight {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<core::Result<void>> result;
};

struct JobRunner::Entry {
  Entry(Job j, core::Schedule s) : job(std::move(j)), schedule(std::move(s)) {}
  Job job;
  core::Schedule schedule;
  core::TimePoint fire_time;  // the one being worked on
  int attempt = 0;
  core::TimePoint due;
  // The run in flight, if any.
  std::thread thread;
  std::shared_ptr<Flight> flight;
  std::string trigger;
  std::optional<std::int64_t> run_id;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
};

namespace {

std::int64_t unix_seconds(core::TimePoint t) { return core::to_unix(t); }

core::TimePoint whole_seconds(core::TimePoint t) { return core::from_unix(core::to_unix(t)); }

}  // namespace

std::string this_instance() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(::getpid());
}

JobRunner::JobRunner(const core::Clock& clock, JobRunnerOptions options)
    : m_clock(clock), m_options(std::move(options)) {
  if (m_options.instance.empty()) m_options.instance = this_instance();
  m_options.max_attempts = std::max(1, m_options.max_attempts);
  m_random.seed(m_options.seed ? m_options.seed : std::random_device{}());
}

JobRunner::~JobRunner() { stop(); }

void JobRunner::add(Job job) {
  auto schedule = core::Schedule::every(job.interval);
  if (job.schedule) schedule = *job.schedule;
  if (auto it = m_options.schedules.find(job.name); it != m_options.schedules.end()) schedule = it->second;
  auto e = std::make_unique<Entry>(std::move(job), std::move(schedule));
  // The latest fire time that has passed is owed now (once, however many were missed)...
  const auto now = m_clock.now();
  auto fire = e->schedule.latest_at_or_before(now);
  // ... unless the work was done since.
  if (!fire || (e->job.last_done && *fire <= *e->job.last_done))
    fire = e->schedule.next_after(std::max(now, e->job.last_done.value_or(now)));
  e->fire_time = fire.value_or(core::TimePoint::max());
  e->due = with_jitter(*e, e->fire_time);
  std::lock_guard lock(m_state);
  m_entries.push_back(std::move(e));
}

core::TimePoint JobRunner::with_jitter(const Entry& e, core::TimePoint fire_time) {
  if (fire_time == core::TimePoint::max()) return fire_time;
  const auto next = e.schedule.next_after(fire_time);
  const auto period = next ? std::chrono::duration_cast<std::chrono::seconds>(*next - fire_time) : std::chrono::seconds(0);
  const auto max = std::min(m_options.jitter, period / 10);
  if (max.count() <= 0) return fire_time;
  std::uniform_int_distribution<std::int64_t> d(0, max.count());
  return fire_time + std::chrono::seconds(d(m_random));
}

void JobRunner::advance(Entry& e, core::TimePoint now) {
  const auto latest = e.schedule.latest_at_or_before(now);
  if (latest && *latest > e.fire_time)
    e.fire_time = *latest;  // the run outlasted a period: that period's run is owed
  else
    e.fire_time = e.schedule.next_after(e.fire_time).value_or(core::TimePoint::max());
  e.attempt = 0;
  e.due = with_jitter(e, e.fire_time);
}

// Returns whether the job was launched; when it was not, e.due says when to look again.
bool JobRunner::launch(Entry& e, const std::string& trigger, core::TimePoint fire_time) {
  const auto now = m_clock.now();
  std::unique_ptr<store::JobLock> lease;
  e.run_id.reset();
  if (!e.job.per_process && m_options.runs) {
    auto locked = m_options.runs->try_lock_job(e.job.name);
    if (!locked || !*locked) {
      if (!locked)
        core::log::error("job.lock_failed", {{"job", e.job.name}, {"error", locked.error().to_string()}});
      else
        core::log::debug("job.busy", {{"job", e.job.name}});
      if (trigger == "schedule") e.due = now + m_options.busy_retry;
      return false;
    }
    lease = std::move(*locked);
    store::JobRunRecord run;
    run.job = e.job.name;
    run.scheduled_at = unix_seconds(fire_time);
    run.attempt = trigger == "schedule" ? e.attempt : 0;
    run.trigger = trigger;
    run.instance = m_options.instance;
    run.started_at = unix_seconds(now);
    auto claimed = m_options.runs->claim_job_run(run);
    if (!claimed) {
      core::log::error("job.claim_failed", {{"job", e.job.name}, {"error", claimed.error().to_string()}});
      if (trigger == "schedule") e.due = now + m_options.busy_retry;
      return false;
    }
    if (!*claimed) {
      // Another instance ran (or runs) this fire time.
      if (trigger == "schedule") advance(e, now);
      return false;
    }
    e.run_id = **claimed;
  }
  e.trigger = trigger;
  e.timed_out = false;
  e.started = std::chrono::steady_clock::now();
  e.deadline = e.started + (e.job.timeout.count() > 0 ? e.job.timeout : m_options.timeout);
  e.flight = std::make_shared<Flight>();
  e.thread = std::thread([run = e.job.run, flight = e.flight, lease = std::move(lease)]() mutable {
    core::Result<void> r = core::ok();
    try {
      r = run();
    } catch (const std::exception& ex) {
      r = core::Error(core::Errc::internal, std::string("the job threw: ") + ex.what());
    }
    lease.reset();
    {
      std::lock_guard lock(flight->mutex);
      flight->result = std::move(r);
    }
    flight->done.notify_all();
  });
  return true;
}

void JobRunner::finish(Entry& e, const core::Result<void>& r, bool timed_out) {
  const auto now = m_clock.now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - e.started);
  const std::string result = timed_out ? "timeout" : r ? "success" : "failure";
  const std::string error = r ? "" : r.error().to_string();
  if (e.run_id) {
    if (auto f = m_options.runs->finish_job_run(*e.run_id, unix_seconds(now), result, error); !f)
      core::log::error("job.record_failed", {{"job", e.job.name}, {"error", f.error().to_string()}});
  }
  metrics::count_job_run(e.job.name, result, ms);
  if (r) {
    metrics::set_job_last_success(e.job.name, unix_seconds(now));
    core::log::info("job.done", {{"job", e.job.name}, {"trigger", e.trigger}, {"ms", static_cast<std::int64_t>(ms.count())}});
  } else {
    core::log::error("job.failed", {{"job", e.job.name}, {"trigger", e.trigger}, {"attempt", e.attempt},
                                    {"result", result}, {"error", error}});
  }
  if (m_options.audit && e.job.audited) {
    store::AuditEvent event;
    event.time = unix_seconds(now);
    event.actor = "job:" + e.job.name;
    event.action = "job.run";
    event.result = r ? "success" : std::string(core::errc_name(r.error().code));
    event.source = "local";
    event.details = nlohmann::json{{"ms", ms.count()}, {"trigger", e.trigger}, {"attempt", e.attempt}}.dump();
    if (auto a = m_options.audit->append_audit_event(event); !a)
      core::log::error("audit.write_failed", {{"job", e.job.name}, {"error", a.error().to_string()}});
  }
  if (e.trigger != "schedule") return;  // events and manual runs leave the schedule alone
  if (r || e.attempt + 1 >= m_options.max_attempts) {
    advance(e, now);
    return;
  }
  ++e.attempt;
  const std::chrono::seconds backoff =
      std::min(m_options.retry_max, std::chrono::seconds(m_options.retry_base.count() << std::min(e.attempt - 1, 20)));
  const auto next = e.schedule.next_after(e.fire_time).value_or(core::TimePoint::max());
  e.due = std::min(now + backoff, next);
  if (e.due >= next) advance(e, now);  // no time left for a retry before the next fire time
}

// A run's thread has returned: join it and record the end, unless it was already recorded
// as timed out.
void JobRunner::settle(Entry& e, const core::Result<void>& result) {
  e.thread.join();
  e.flight.reset();
  if (!e.timed_out) finish(e, result, false);
}

void JobRunner::launch_due(std::vector<std::string>* launched) {
  std::lock_guard lock(m_state);
  for (auto& e : m_entries) {
    if (e->flight) continue;
    const auto now = m_clock.now();
    if (now >= e->due) {
      // Fire times missed while nothing ran are owed once: the latest of them.
      if (e->attempt == 0) {
        const auto latest = e->schedule.latest_at_or_before(now);
        if (latest && *latest > e->fire_time) e->fire_time = *latest;
      }
      if (launch(*e, "schedule", e->fire_time) && launched) launched->push_back(e->job.name);
    } else if (e->job.due_early && e->job.due_early()) {
      if (launch(*e, "event", whole_seconds(now)) && launched) launched->push_back(e->job.name);
    }
  }
}

void JobRunner::reap(bool wait) {
  for (auto& e : m_entries) {
    if (!e->flight) continue;
    std::unique_lock flight_lock(e->flight->mutex);
    if (wait) e->flight->done.wait_until(flight_lock, e->deadline, [&] { return e->flight->result.has_value(); });
    const bool ready = e->flight->result.has_value();
    std::optional<core::Result<void>> result;
    if (ready) result = std::move(*e->flight->result);
    flight_lock.unlock();
    std::lock_guard lock(m_state);
    if (ready) {
      settle(*e, *result);
    } else if (!e->timed_out && std::chrono::steady_clock::now() >= e->deadline) {
      // The thread cannot be cancelled: it keeps the job's lock until it returns, so the
      // job is not started again meanwhile; the run is recorded as timed out now.
      e->timed_out = true;
      finish(*e, core::Error(core::Errc::timed_out, "the job ran past its time limit"), true);
    }
  }
}

std::vector<std::string> JobRunner::run_due() {
  std::vector<std::string> launched;
  launch_due(&launched);
  reap(true);
  return launched;
}

core::Result<void> JobRunner::run_now(const std::string& name) {
  Entry* entry = nullptr;
  for (auto& e : m_entries)
    if (e->job.name == name) entry = e.get();
  if (!entry) return core::Error(core::Errc::not_found, "no job named " + name);
  if (entry->flight) return core::Error(core::Errc::conflict, name + " is running in this process");
  {
    std::lock_guard lock(m_state);
    if (!launch(*entry, "manual", whole_seconds(m_clock.now())))
      return core::Error(core::Errc::conflict, name + " is running elsewhere (its lock is held), or could not be recorded");
  }
  auto flight = entry->flight;
  std::unique_lock flight_lock(flight->mutex);
  flight->done.wait_until(flight_lock, entry->deadline, [&] { return flight->result.has_value(); });
  if (!flight->result) {
    flight_lock.unlock();
    std::lock_guard lock(m_state);
    entry->timed_out = true;
    auto timeout = core::Error(core::Errc::timed_out, name + " ran past its time limit");
    finish(*entry, timeout, true);
    return timeout;  // stop() (the destructor) waits for the thread
  }
  auto result = std::move(*flight->result);
  flight_lock.unlock();
  std::lock_guard lock(m_state);
  settle(*entry, result);
  return result;
}

std::vector<JobStatus> JobRunner::status() const {
  std::lock_guard lock(m_state);
  std::vector<JobStatus> out;
  for (const auto& e : m_entries)
    out.push_back({e->job.name, e->schedule.text(), e->job.per_process, e->due, e->flight != nullptr});
  return out;
}

std::vector<std::string> JobRunner::names() const {
  std::lock_guard lock(m_state);
  std::vector<std::string> out;
  for (const auto& e : m_entries) out.push_back(e->job.name);
  return out;
}

void JobRunner::start(std::chrono::milliseconds tick) {
  m_thread = std::thread([this, tick] {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
      lock.unlock();
      launch_due(nullptr);
      reap(false);
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
  // Runs in flight finish (and are recorded) before the process goes.
  for (auto& e : m_entries) {
    if (!e->flight) continue;
    std::unique_lock flight_lock(e->flight->mutex);
    e->flight->done.wait(flight_lock, [&] { return e->flight->result.has_value(); });
    auto result = std::move(*e->flight->result);
    flight_lock.unlock();
    std::lock_guard lock(m_state);
    settle(*e, result);
  }
}

core::Result<JobRunnerOptions> job_runner_options(const Runtime& rt) {
  JobRunnerOptions o;
  o.runs = rt.store.get();
  o.audit = rt.store.get();
  const auto& j = rt.config.jobs;
  o.timeout = std::chrono::minutes(j.timeout_minutes);
  o.max_attempts = j.max_attempts;
  o.jitter = std::chrono::seconds(j.jitter_seconds);
  // "name = expression; name = expression"
  std::string_view rest = j.schedules;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    std::string_view item = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    item = trim(item);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || trim(item.substr(0, eq)).empty())
      return core::Error(core::Errc::config_invalid, "jobs.schedules: \"" + std::string(item) + "\" is not name = schedule");
    CARTORIO_TRY(auto schedule, core::Schedule::parse(trim(item.substr(eq + 1))));
    o.schedules.insert_or_assign(std::string(trim(item.substr(0, eq))), std::move(schedule));
  }
  return o;
}

void refresh_job_metrics(store::JobRunRepository& runs) {
  auto summaries = runs.job_summaries();
  if (!summaries) {
    core::log::warn("metrics.jobs_unavailable", {{"error", summaries.error().to_string()}});
    return;
  }
  for (const auto& s : *summaries)
    if (s.last_success_at) metrics::set_job_last_success(s.job, *s.last_success_at);
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
    job.last_done = published_at(rt, ca);
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
  {
    Job job;
    job.name = "data-key-reencrypt";
    job.interval = std::chrono::hours(24);
    job.run = [&rt]() { return reencrypt_under_active_key(rt, "job:data-key-reencrypt"); };
    runner.add(std::move(job));
  }
  {
    // Per-document certificates left by a signing process that died mid-way.
    Job job;
    job.name = "documents.unfinished";
    job.interval = std::chrono::minutes(15);
    job.run = [&rt]() -> core::Result<void> {
      documents::UnfinishedSignatureDeps deps;
      deps.certificates = rt.store.get();
      deps.objects = rt.objects.get();
      deps.clock = rt.clock.get();
      deps.revoke = [&rt](const std::string& serial) -> core::Result<void> {
        // 5: cessationOfOperation. Revoked meanwhile by someone else is as good.
        auto r = revoke_certificate(rt, serial, 5, "job:documents.unfinished", "local");
        if (!r && r.error().code != core::Errc::already_revoked) return r.error();
        return core::ok();
      };
      CARTORIO_TRY(const auto report, documents::clean_unfinished_signatures(deps));
      core::log::info("documents.unfinished", {{"revoked", static_cast<std::int64_t>(report.revoked.size())},
                                               {"objects_erased", static_cast<std::int64_t>(report.objects_erased)}});
      return core::ok();
    };
    runner.add(std::move(job));
  }
  {
    Job job;
    job.name = "job-runs-prune";
    job.interval = std::chrono::hours(24);
    job.run = [&rt]() -> core::Result<void> {
      const auto before = core::to_unix(rt.clock->now() - kJobRunRetention);
      CARTORIO_TRY(auto pruned, rt.store->prune_job_runs(before));
      core::log::info("jobs.pruned", {{"runs", pruned}});
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
    if (!rt.cache_is_shared()) {
      // Answers go into this process's own cache: every process fills its own.
      job.per_process = true;
      job.due_early = [&rt, seen] { return rt.revocation_epoch->load() != *seen; };
    }
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

core::Result<void> reencrypt_under_active_key(const Runtime& rt, const std::string& actor) {
  std::size_t objects = 0;
  if (rt.object_tiers.encrypted) {
    CARTORIO_TRY(objects, rt.object_tiers.encrypted->reencrypt(""));
  }
  const pii::FieldCipher cipher = open_field_cipher(rt);
  CARTORIO_TRY(auto active, cipher.active_key_id());
  CARTORIO_TRY(auto stats, documents::reencrypt_documents(cipher, *rt.store, pii::ReencryptOptions{}));
  store::AuditEvent e;
  e.time = core::to_unix(rt.clock->now());
  e.actor = actor;
  e.action = "data-key.reencrypt";
  e.target = active;
  e.result = stats.tokens_unreadable == 0 ? "success" : "partial";
  e.source = "local";
  e.details = nlohmann::json{{"objects", objects},
                             {"rows_scanned", stats.rows_scanned},
                             {"tokens_resealed", stats.tokens_resealed},
                             {"tokens_unreadable", stats.tokens_unreadable}}
                  .dump();
  CARTORIO_TRY_VOID(rt.store->append_audit_event(e));
  core::log::info("data_key.reencrypted", {{"active_key", active}, {"objects", static_cast<std::int64_t>(objects)},
                                           {"tokens_resealed", static_cast<std::int64_t>(stats.tokens_resealed)}});
  if (stats.tokens_unreadable > 0)
    return core::Error(core::Errc::crypto_error, std::to_string(stats.tokens_unreadable) +
                                                     " personal-data tokens could not be opened, first: " +
                                                     stats.first_unreadable);
  return core::ok();
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
