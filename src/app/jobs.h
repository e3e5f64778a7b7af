// Periodic jobs (the worker role): re-signing CRLs before they age, pre-signing OCSP
// answers. A JobRunner keeps, per job, when it is next due by the injected clock; run_due()
// runs what is due (tests drive it with a ManualClock), start() calls it from a thread.
//
// A job that fails is retried after min(interval, retry_after) instead of waiting a full
// interval: a CRL that could not be signed must not wait a day. Runs are logged and, with
// audit_to(), audit events.
#pragma once

#include "app/runtime.h"
#include "core/clock.h"
#include "core/error.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cartorio::app {

struct Job {
  std::string name;
  std::chrono::seconds interval{3600};
  std::function<core::Result<void>()> run;
  // When it first runs (default: at once).
  std::optional<core::TimePoint> first_due;
  // Asked before each check: true makes the job due now (e.g. the revocation epoch moved).
  std::function<bool()> due_early;
};

class JobRunner {
 public:
  explicit JobRunner(const core::Clock& clock, std::chrono::seconds retry_after = std::chrono::seconds(60));
  ~JobRunner();  // stop()s
  JobRunner(const JobRunner&) = delete;  // owns a thread
  JobRunner& operator=(const JobRunner&) = delete;

  void add(Job job);  // before start()
  // Records every run as an audit event (actor "job:<name>", action "job.run", result
  // "success" or the error's code). Before start().
  void audit_to(store::AuditLog* audit) { m_audit = audit; }
  // Runs every due job once, in the order added; returns the names of those that ran.
  std::vector<std::string> run_due();
  // Calls run_due() every `tick` on a thread until stop().
  void start(std::chrono::milliseconds tick = std::chrono::seconds(1));
  void stop();

 private:
  struct Entry {
    Job job;
    core::TimePoint due;
  };
  const core::Clock& m_clock;
  std::chrono::seconds m_retry_after;
  std::vector<Entry> m_entries;
  store::AuditLog* m_audit = nullptr;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

// The installation's jobs: each online CA's CRL every jobs.crl_interval_hours (first run at
// once when the published CRL is missing or older than that), and — with ocsp.presign —
// every live certificate's OCSP answers every ocsp.presign_interval_seconds into `sources`
// (again at once when the revocation epoch moves, as a revocation empties a process-local
// cache). `rt` and `sources` must outlive the runner.
// ... and the object lifecycle rules every jobs.lifecycle_interval_hours.
void add_standard_jobs(JobRunner& runner, const Runtime& rt, const ocsp::CachedSources* sources);

// One pass of objects.lifecycle_rules over the installation's hot and cold tiers (the
// `object-lifecycle` job and `cartorio objects lifecycle`).
core::Result<objectstore::LifecycleReport> run_object_lifecycle(const Runtime& rt, bool dry_run);

}  // namespace cartorio::app
