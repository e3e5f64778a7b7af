// SqlStore: runs of the scheduled jobs and the locks that keep one runner per job.
#include "store/sql/sql_store.h"

#include "store/sql/sql_helpers.h"

#include <fcntl.h>
#include <sys/file.h>

#include <array>
#include <mutex>
#include <set>

namespace cartorio::store::sql {
namespace {

using core::Errc;
using core::Error;

constexpr std::string_view kRunColumns =
    "id, job, scheduled_at, attempt, trig, instance, started_at, ended_at, result, error";
constexpr std::array<std::string_view, 3> kTriggers = {"schedule", "manual", "event"};
constexpr std::array<std::string_view, 3> kEndResults = {"success", "failure", "timeout"};

// Job names become lock file names and metric labels: keep them plain.
core::Result<void> check_job_name(std::string_view op, const std::string& job) {
  const bool ok = !job.empty() && job.size() <= 64 && std::all_of(job.begin(), job.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
  if (!ok) return Error(Errc::invalid_argument, std::string(op) + ": a job name is 1-64 of [a-z0-9._-]");
  return core::ok();
}

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

JobRunRecord run_from_row(const SqlRow& row) {
  JobRunRecord r;
  r.id = row.int64(0);
  r.job = row.text(1);
  r.scheduled_at = row.int64(2);
  r.attempt = static_cast<int>(row.int64(3));
  r.trigger = row.text(4);
  r.instance = row.text(5);
  r.started_at = row.int64(6);
  if (!row.is_null(7)) r.ended_at = row.int64(7);
  r.result = row.text(8);
  r.error = row.text(9);
  return r;
}

// FNV-1a: a stable 32-bit advisory-lock key per job name, the same in every instance.
std::int64_t lock_key(const std::string& job) {
  std::uint32_t h = 0x811c9dc5U;
  for (const char c : "cartorio.job." + job) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x01000193U;
  }
  return static_cast<std::int32_t>(h);
}

// On a connection of its own, not a pooled one: the job holding the lock uses the pool too,
// and a few jobs running at once must not starve it.
class SessionJobLock final : public JobLock {
 public:
  SessionJobLock(std::unique_ptr<SqlConnection> conn, std::string unlock, std::int64_t key)
      : m_conn(std::move(conn)), m_unlock(std::move(unlock)), m_key(key) {}
  ~SessionJobLock() override {
    // Failing here means the connection broke, which released the lock with the session;
    // closing the connection below releases it anyway.
    (void)m_conn->query(m_unlock, {m_key}, StatementKind::write);
  }

 private:
  std::unique_ptr<SqlConnection> m_conn;
  std::string m_unlock;
  std::int64_t m_key;
};

// An flock is released by the kernel when the process dies, however it dies.
class FileJobLock final : public JobLock {
 public:
  explicit FileJobLock(int fd) : m_fd(fd) {}
  ~FileJobLock() override { ::close(m_fd); }
  FileJobLock(const FileJobLock&) = delete;
  FileJobLock& operator=(const FileJobLock&) = delete;

 private:
  int m_fd;
};

// An in-memory database has no other process to exclude.
class ProcessJobLock final : public JobLock {
 public:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& held() {
    static std::set<std::string> s;
    return s;
  }
  explicit ProcessJobLock(std::string job) : m_job(std::move(job)) {}
  ~ProcessJobLock() override {
    std::lock_guard lock(mutex());
    held().erase(m_job);
  }

 private:
  std::string m_job;
};

}  // namespace

core::Result<std::unique_ptr<JobLock>> SqlStore::try_lock_job(const std::string& job) {
  constexpr std::string_view op = "try_lock_job";
  CARTORIO_TRY_VOID(check_job_name(op, job));
  if (!m_dialect.job_try_lock.empty()) {
    auto opened = m_pool->open_dedicated();
    if (!opened) return in(op, opened.error());
    auto conn = std::move(opened).value();
    const std::int64_t key = lock_key(job);
    auto r = conn->query(m_dialect.job_try_lock, {key}, StatementKind::write);
    if (!r) return in(op, r.error());
    const bool taken = !r->rows.empty() && (r->rows[0].text(0) == "t" || r->rows[0].text(0) == "1");
    if (!taken) return std::unique_ptr<JobLock>();
    return std::unique_ptr<JobLock>(std::make_unique<SessionJobLock>(std::move(conn), m_dialect.job_unlock, key));
  }
  if (!m_dialect.job_lock_file_prefix.empty()) {
    const std::string path = m_dialect.job_lock_file_prefix + job + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Error(Errc::store_unavailable, std::string(op) + ": cannot open " + path);
    // Per open file description: two runners in one process exclude each other too.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      if (errno == EWOULDBLOCK) return std::unique_ptr<JobLock>();
      return Error(Errc::store_unavailable, std::string(op) + ": cannot lock " + path);
    }
    return std::unique_ptr<JobLock>(std::make_unique<FileJobLock>(fd));
  }
  std::lock_guard lock(ProcessJobLock::mutex());
  if (!ProcessJobLock::held().insert(job).second) return std::unique_ptr<JobLock>();
  return std::unique_ptr<JobLock>(std::make_unique<ProcessJobLock>(job));
}

core::Result<std::optional<std::int64_t>> SqlStore::claim_job_run(const JobRunRecord& run) {
  constexpr std::string_view op = "claim_job_run";
  CARTORIO_TRY_VOID(check_job_name(op, run.job));
  if (run.attempt < 0) return Error(Errc::invalid_argument, std::string(op) + ": attempt is negative");
  if (!one_of(kTriggers, run.trigger))
    return Error(Errc::invalid_argument, std::string(op) + ": trigger must be schedule, manual or event");
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "INSERT INTO job_runs (job, scheduled_at, attempt, trig, instance, started_at, result, error) "
      "VALUES (?, ?, ?, ?, ?, ?, 'running', '') RETURNING id",
      {run.job, run.scheduled_at, static_cast<std::int64_t>(run.attempt), run.trigger, run.instance, run.started_at},
      StatementKind::write);
  if (!r) {
    if (r.error().code == Errc::already_exists) return std::optional<std::int64_t>();
    return in(op, r.error());
  }
  if (r->rows.empty()) return Error(Errc::store_error, std::string(op) + ": no id returned");
  return std::optional<std::int64_t>(r->rows[0].int64(0));
}

core::Result<void> SqlStore::finish_job_run(std::int64_t id, std::int64_t ended_at, const std::string& result,
                                            const std::string& error) {
  constexpr std::string_view op = "finish_job_run";
  if (!one_of(kEndResults, result))
    return Error(Errc::invalid_argument, std::string(op) + ": result must be success, failure or timeout");
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE job_runs SET ended_at = ?, result = ?, error = ? WHERE id = ?",
                       {ended_at, result, error, id}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->affected_rows == 0) return Error(Errc::not_found, std::string(op) + ": no run " + std::to_string(id));
  return core::ok();
}

core::Result<std::vector<JobRunRecord>> SqlStore::list_job_runs(const JobRunFilter& f) {
  constexpr std::string_view op = "list_job_runs";
  CARTORIO_TRY_VOID(check_limit(op, f.limit));
  std::vector<std::string> where;
  std::vector<SqlValue> params;
  if (f.job) {
    where.push_back("job = ?");
    params.emplace_back(*f.job);
  }
  if (f.before_id > 0) {
    where.push_back("id < ?");
    params.emplace_back(f.before_id);
  }
  params.emplace_back(static_cast<std::int64_t>(f.limit));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kRunColumns) + " FROM job_runs" + where_clause(where) +
                           " ORDER BY id DESC LIMIT ?",
                       params, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<JobRunRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(run_from_row(row));
  return out;
}

core::Result<std::vector<JobSummary>> SqlStore::job_summaries() {
  constexpr std::string_view op = "job_summaries";
  CARTORIO_TRY(auto conn, connection(op));
  // Both subqueries walk job_runs_job_id; the table holds one row per run, a few per hour.
  auto r = conn->query(
      "SELECT " + std::string(kRunColumns) +
          ", (SELECT MAX(s.ended_at) FROM job_runs s WHERE s.job = r.job AND s.result = 'success') "
          "FROM job_runs r WHERE r.id IN (SELECT MAX(id) FROM job_runs GROUP BY job) ORDER BY r.job",
      {}, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<JobSummary> out;
  for (const auto& row : r->rows) {
    JobSummary s;
    s.last_run = run_from_row(row);
    s.job = s.last_run.job;
    if (!row.is_null(10)) s.last_success_at = row.int64(10);
    out.push_back(std::move(s));
  }
  return out;
}

core::Result<std::int64_t> SqlStore::prune_job_runs(std::int64_t ended_before) {
  constexpr std::string_view op = "prune_job_runs";
  CARTORIO_TRY(auto conn, connection(op));
  // Keeps each job's latest run and latest success: job_summaries reads them.
  auto r = conn->query(
      "DELETE FROM job_runs WHERE ended_at IS NOT NULL AND ended_at < ? "
      "AND id NOT IN (SELECT MAX(id) FROM job_runs GROUP BY job) "
      "AND id NOT IN (SELECT MAX(id) FROM job_runs WHERE result = 'success' GROUP BY job)",
      {ended_before}, StatementKind::write);
  if (!r) return in(op, r.error());
  return r->affected_rows;
}

}  // namespace cartorio::store::sql
