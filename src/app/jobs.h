// The scheduler (the worker role, docs/jobs.md). Each job has a schedule (core::Schedule: a
// cron expression or a period, overridable by jobs.schedules) whose fire times every
// instance computes alike. For each fire time, one instance runs the job:
//   1. it takes the job's lock (store::JobRunRepository::try_lock_job: a PostgreSQL
//      advisory lock, an flock beside the SQLite file), so no two runs ever overlap;
//   2. it claims (job, fire time, attempt) in job_runs — a unique row, so the period's run
//      happens once however many workers there are; losing the claim means another
//      instance ran it;
//   3. it runs the job on a thread of its own with a time limit, records the end (success,
//      failure with its error, timeout), the metrics and an audit event;
//   4. a failure is retried with exponential backoff (jobs.max_attempts), never past the
//      next fire time; then the next fire time, plus a random jitter.
// A fire time missed while nothing ran (downtime) is run once at start, not once per miss.
// Per-process jobs (reloading this process's certificate) skip 1 and 2.
//
// Time: schedules follow the injected clock (tests drive run_due() with a ManualClock);
// time limits are real elapsed time.
#pragma once

#include "app/runtime.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/schedule.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cartorio::app {

struct Job {
  std::string name;  // [a-z0-9._-], e.g. "crl.tls"
  // The schedule when none is given below nor in jobs.schedules: "@every <interval>".
  std::chrono::seconds interval{3600};
  std::function<core::Result<void>()> run;
  // When the job's work was last done outside the runner (e.g. the CRL's publication): a
  // fire time at or before it counts as served, so the first run waits for the next one.
  std::optional<core::TimePoint> last_done;
  // Asked at every tick: true runs the job now, outside its schedule (an event: the
  // revocation epoch moved). Its fire time stays due as scheduled.
  std::function<bool()> due_early;
  std::optional<core::Schedule> schedule;
  // Every process runs its own (no lock, no claim, not in job_runs): e.g. reloading this
  // server's certificate. Default: one run per fire time per installation.
  bool per_process = false;
  // Also an audit event per run ("job.run"); off for jobs that poll often.
  bool audited = true;
  std::chrono::seconds timeout{0};  // 0: JobRunnerOptions::timeout
};

struct JobRunnerOptions {
  // Recorded runs and locks; null: this process alone, nothing recorded (tests, tools).
  store::JobRunRepository* runs = nullptr;
  store::AuditLog* audit = nullptr;  // "job.run" events; may be null
  std::string instance;              // "host:pid" (default: this process's)
  std::map<std::string, core::Schedule> schedules;  // jobs.schedules: override by job name
  std::chrono::seconds timeout = std::chrono::minutes(30);
  int max_attempts = 3;  // per fire time, >= 1
  std::chrono::seconds retry_base{30};  // backoff: retry_base * 2^(attempt-1), at most retry_max
  std::chrono::seconds retry_max = std::chrono::minutes(15);
  std::chrono::seconds jitter{30};  // at most this, and at most a tenth of the period
  // How long to wait before looking again when another runner holds a job's lock.
  std::chrono::seconds busy_retry{10};
  std::uint64_t seed = 0;  // jitter randomness; 0: from std::random_device
};

// What a runner knows about one of its jobs (GET /api/v1/jobs, `cartorio jobs list`).
struct JobStatus {
  std::string name;
  std::string schedule;  // the expression in force
  bool per_process = false;
  core::TimePoint next_due;
  bool running = false;
};

class JobRunner {
 public:
  JobRunner(const core::Clock& clock, JobRunnerOptions options = {});
  ~JobRunner();  // stop()s
  JobRunner(const JobRunner&) = delete;  // owns threads
  JobRunner& operator=(const JobRunner&) = delete;

  void add(Job job);  // before start()
  // Launches every due job and waits for them (each up to its time limit); returns the
  // names of those launched, in the order added.
  std::vector<std::string> run_due();
  // `cartorio worker --once JOB`: runs it now as a manual run (locked and recorded like a
  // scheduled one) and waits. Errc::not_found for an unknown job, Errc::conflict when
  // another runner holds it, Errc::timed_out, else the job's own result.
  core::Result<void> run_now(const std::string& name);
  std::vector<JobStatus> status() const;
  std::vector<std::string> names() const;

  // Launches due jobs every `tick` on a thread, each on a thread of its own, until stop().
  void start(std::chrono::milliseconds tick = std::chrono::seconds(1));
  // Stops launching, then waits for the runs in flight (a graceful shutdown).
  void stop();

 private:
  struct Flight;
  struct Entry;
  void launch_due(std::vector<std::string>* launched);
  bool launch(Entry& e, const std::string& trigger, core::TimePoint fire_time);
  void reap(bool wait);
  void finish(Entry& e, const core::Result<void>& result, bool timed_out);
  void settle(Entry& e, const core::Result<void>& result);
  void advance(Entry& e, core::TimePoint now);
  core::TimePoint with_jitter(const Entry& e, core::TimePoint fire_time);

  const core::Clock& m_clock;
  JobRunnerOptions m_options;
  std::vector<std::unique_ptr<Entry>> m_entries;
  mutable std::mutex m_state;  // guards m_entries' scheduling fields against status()
  std::mt19937_64 m_random;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

// "host:pid", who runs a job in job_runs.
std::string this_instance();

// The runner options from jobs.* (schedules, time limit, attempts, jitter), recording into
// rt.store. Errc::config_invalid for a bad jobs.schedules entry.
core::Result<JobRunnerOptions> job_runner_options(const Runtime& rt);

// The installation's jobs: each online CA's CRL every jobs.crl_interval_hours (a fire time
// before the published CRL's date counts as done), the object lifecycle rules every
// jobs.lifecycle_interval_hours, and — with ocsp.presign — every live certificate's OCSP
// answers every ocsp.presign_interval_seconds into `sources` (per process, and again at
// once when the revocation epoch moves, when the cache is this process's own); daily, the
// data-key re-encryption pass (objects and personal-data tokens sealed under a retired data
// key move to the active one) and the pruning of job runs older than kJobRunRetention.
// `rt` and `sources` must outlive the runner.
void add_standard_jobs(JobRunner& runner, const Runtime& rt, const ocsp::CachedSources* sources);

// How long finished job runs are kept (each job's latest run and success are kept always).
inline constexpr std::chrono::hours kJobRunRetention{24 * 90};

// One data-key re-encryption pass (`data-key-reencrypt`): every object under the encrypted
// tier, then every personal-data token, re-sealed under the active data key; audited as
// "data-key.reencrypt" by `actor`. Errc::crypto_error when some could not be read.
core::Result<void> reencrypt_under_active_key(const Runtime& rt, const std::string& actor);

// One pass of objects.lifecycle_rules over the installation's hot and cold tiers (the
// `object-lifecycle` job and `cartorio objects lifecycle`).
core::Result<objectstore::LifecycleReport> run_object_lifecycle(const Runtime& rt, bool dry_run);

// Sets cartorio_job_last_success_timestamp_seconds from job_runs (every instance's runs),
// before /metrics renders.
void refresh_job_metrics(store::JobRunRepository& runs);

}  // namespace cartorio::app
