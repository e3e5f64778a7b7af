// The scheduler end to end (issue 7), through the real binary: two `cartorio worker`
// processes on one installation (one SQLite file, or one PostgreSQL schema with
// CARTORIO_TEST_BACKENDS=postgres) for several schedule periods. Every fire time of every
// job is run exactly once: job_runs (read with `cartorio jobs runs`) holds one successful
// run per fire time with no period skipped and no two runs of a job overlapping, and the
// work itself happened once per run — the TLS CA's CRL number grew by exactly the number
// of crl.tls runs. `worker --once` runs a job by hand, recorded as a manual run (the lock
// that refuses it while the job runs elsewhere: tests/app/jobs_test.cpp, store conformance).
#include "fixtures/postgres_test_schema.h"
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::postgres_mode;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kPeriodSeconds = 3;
const std::vector<std::string> kJobs = {"crl.tls", "crl.document", "secret-rotation", "audit.checkpoint.audit"};

class CliWorker : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path d = m_dir.path();
    std::string schedules;
    for (const auto& j : kJobs) schedules += j + " = @every " + std::to_string(kPeriodSeconds) + "s; ";
    m_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='worker test passphrase 2026' CARTORIO_JOBS_JITTER_SECONDS=0"
            " CARTORIO_JOBS_SCHEDULES=" + shell_quote(schedules) + " ";
    if (postgres_mode()) {
      auto schema = cartorio::testing::PostgresTestSchema::create();
      ASSERT_TRUE(schema) << schema.error().to_string();
      m_schema.emplace(std::move(*schema));
      m_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(m_schema->conninfo()) + " ";
    }
    auto r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }

  void TearDown() override {
    for (const auto& pid : m_pids) run("kill -9 " + pid + " 2>/dev/null || true");
  }

  CommandResult cli(const std::string& args) { return run(m_env + CARTORIO_BIN " " + args); }

  // A worker in the background; waits for its "worker.started" line.
  std::string start_worker(const std::string& name) {
    const auto log = m_dir.path() / (name + ".log");
    auto r = run(m_env + CARTORIO_BIN " worker >" + shell_quote(log.string()) + " 2>&1 & echo $!");
    EXPECT_EQ(r.exit_code, 0);
    const std::string pid = r.out.substr(0, r.out.find('\n'));
    m_pids.push_back(pid);
    for (int i = 0; i < 400 && read_file(log).find("worker.started") == std::string::npos; ++i) run("sleep 0.05");
    EXPECT_NE(read_file(log).find("worker.started"), std::string::npos) << read_file(log);
    return pid;
  }

  // SIGTERM, then wait for a graceful exit (runs in flight finish).
  void stop_worker(const std::string& pid) {
    run("kill -TERM " + pid);
    for (int i = 0; i < 400 && run("kill -0 " + pid + " 2>/dev/null").exit_code == 0; ++i) run("sleep 0.05");
    EXPECT_NE(run("kill -0 " + pid + " 2>/dev/null").exit_code, 0) << "worker " << pid << " did not stop";
  }

  long long tls_crl_number() {
    const auto out = m_dir.path() / "tls.crl";
    auto r = cli("crl show --ca tls --out " + shell_quote(out.string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto text = run("openssl crl -noout -crlnumber -in " + shell_quote(out.string())).out;
    return std::stoll(text.substr(text.find('=') + 1), nullptr, 16);
  }

  json runs_of(const std::string& job) {
    auto r = cli("jobs runs --limit 10000 --job " + job);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["runs"];
  }

  TempDir m_dir;
  std::string m_env;
  std::optional<cartorio::testing::PostgresTestSchema> m_schema;  // dropped after TearDown killed the workers
  std::vector<std::string> m_pids;
};

TEST_F(CliWorker, TwoWorkersRunEveryFireTimeOfEveryJobExactlyOnce) {
  const long long crl_before = tls_crl_number();
  const auto a = start_worker("worker-a");
  const auto b = start_worker("worker-b");
  std::this_thread::sleep_for(std::chrono::seconds(5 * kPeriodSeconds + 1));
  stop_worker(a);
  stop_worker(b);
  m_pids.clear();

  std::set<std::string> instances;
  for (const auto& job : kJobs) {
    SCOPED_TRACE(job);
    const json runs = runs_of(job);
    // Oldest first, scheduled runs only.
    std::vector<json> scheduled;
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
      if ((*it)["trigger"] == "schedule") scheduled.push_back(*it);
    ASSERT_GE(scheduled.size(), 4u) << runs.dump(1);
    std::set<long long> fire_times;
    for (std::size_t i = 0; i < scheduled.size(); ++i) {
      const auto& r = scheduled[i];
      EXPECT_EQ(r["result"], "success") << r.dump();
      EXPECT_EQ(r["attempt"], 0) << r.dump();
      const long long fire = r["scheduled_at"].get<long long>();
      EXPECT_TRUE(fire_times.insert(fire).second) << "fire time " << fire << " ran twice";
      EXPECT_EQ(fire % kPeriodSeconds, 0);
      instances.insert(r["instance"].get<std::string>());
      if (i == 0) continue;
      const auto& prev = scheduled[i - 1];
      // Every period between the first and the last run, none skipped...
      EXPECT_EQ(fire - prev["scheduled_at"].get<long long>(), kPeriodSeconds) << runs.dump(1);
      // ... and a run never starts before the previous one ended.
      EXPECT_LE(prev["ended_at"].get<long long>(), r["started_at"].get<long long>()) << runs.dump(1);
    }
  }
  EXPECT_LE(instances.size(), 2u);
  // The work ran once per recorded run: one CRL per crl.tls run, whichever worker ran it.
  const json crl_runs = runs_of("crl.tls");
  EXPECT_EQ(tls_crl_number() - crl_before, static_cast<long long>(crl_runs.size()));
}

TEST_F(CliWorker, OnceRunsAJobByHand) {
  auto r = cli("worker --once crl.tls");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json runs = runs_of("crl.tls");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["trigger"], "manual");
  EXPECT_EQ(runs[0]["result"], "success");

  r = cli("worker --once no-such-job");
  EXPECT_EQ(r.exit_code, 5) << r.err;  // not found
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;

}

}  // namespace
