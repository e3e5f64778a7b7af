// JobRunner: when jobs run by an injected clock (no sleeping), how failures retry and time
// out, and how runners sharing one store run each fire time once.
#include "app/jobs.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>

namespace cartorio::app {
namespace {

using namespace std::chrono_literals;

// Midnight UTC, so daily and hourly fire times fall on the clock's start.
constexpr std::int64_t kMidnight = 1'800'057'600;

core::Result<void> ok_job() { return core::ok(); }

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = store::open_sqlite_store((m_dir.path() / "store.db").string());
    ASSERT_TRUE(st) << st.error().to_string();
    m_store = std::move(*st);
  }
  JobRunnerOptions options(std::string instance = "test:1") {
    JobRunnerOptions o;
    o.runs = m_store.get();
    o.audit = m_store.get();
    o.instance = std::move(instance);
    o.jitter = 0s;
    o.retry_base = 60s;
    o.seed = 1;
    return o;
  }
  std::vector<store::JobRunRecord> runs(const std::string& job) {
    store::JobRunFilter f;
    f.job = job;
    auto r = m_store->list_job_runs(f);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::vector<store::JobRunRecord>{};
  }

  core::ManualClock m_clock{core::from_unix(kMidnight)};
  testing::TempDir m_dir;
  std::unique_ptr<store::Store> m_store;
};

TEST_F(JobRunnerTest, RunsAtOnceThenAtEachFireTime) {
  JobRunner runner(m_clock, options());
  int count = 0;
  runner.add({.name = "crl.tls", .interval = 24h, .run = [&]() -> core::Result<void> {
                ++count;
                return core::ok();
              }});
  EXPECT_EQ(runner.run_due(), std::vector<std::string>{"crl.tls"});
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(24h - 1s);
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(1s);
  EXPECT_EQ(runner.run_due().size(), 1u);
  EXPECT_EQ(count, 2);
  const auto recorded = runs("crl.tls");
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].scheduled_at, kMidnight + 86400);
  EXPECT_EQ(recorded[1].scheduled_at, kMidnight);
  EXPECT_EQ(recorded[0].result, "success");
  EXPECT_EQ(recorded[0].trigger, "schedule");
  EXPECT_EQ(recorded[0].instance, "test:1");
}

TEST_F(JobRunnerTest, FollowsACronScheduleFromTheConfig) {
  auto o = options();
  o.schedules.insert_or_assign("backup", *core::Schedule::parse("17 * * * *"));
  JobRunner runner(m_clock, o);
  runner.add({.name = "backup", .interval = 24h, .run = ok_job});
  // The last fire time (23:17 yesterday) was never run: it is owed at once.
  EXPECT_EQ(runner.run_due().size(), 1u);
  m_clock.advance(16min);
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(1min);
  EXPECT_EQ(runner.run_due().size(), 1u);
  const auto recorded = runs("backup");
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].scheduled_at, kMidnight + 17 * 60);
  EXPECT_EQ(recorded[1].scheduled_at, kMidnight - 3600 + 17 * 60);
  ASSERT_EQ(runner.status().size(), 1u);
  EXPECT_EQ(runner.status()[0].schedule, "17 * * * *");
  EXPECT_EQ(runner.status()[0].next_due, core::from_unix(kMidnight + 3600 + 17 * 60));
}

TEST_F(JobRunnerTest, MissedFireTimesRunOnceNotOncePerMiss) {
  JobRunner runner(m_clock, options());
  int count = 0;
  runner.add({.name = "j", .interval = 1h, .run = [&]() -> core::Result<void> {
                ++count;
                return core::ok();
              }});
  runner.run_due();
  m_clock.advance(5h + 30min);  // the process was stopped (or the clock jumped)
  runner.run_due();
  runner.run_due();
  EXPECT_EQ(count, 2);
  EXPECT_EQ(runs("j")[0].scheduled_at, kMidnight + 5 * 3600);
}

TEST_F(JobRunnerTest, WorkDoneSinceTheLastFireTimeDelaysTheFirstRunToTheNext) {
  m_clock.advance(30min);
  JobRunner runner(m_clock, options());
  // Done at 00:10 (say the CRL init published): the 00:00 fire time counts as served.
  runner.add({.name = "j", .interval = 1h, .run = ok_job, .last_done = core::from_unix(kMidnight + 600)});
  // Done yesterday: 00:00 is still owed.
  runner.add({.name = "k", .interval = 1h, .run = ok_job, .last_done = core::from_unix(kMidnight - 600)});
  EXPECT_EQ(runner.run_due(), std::vector<std::string>{"k"});
  m_clock.advance(30min);
  EXPECT_EQ(runner.run_due(), (std::vector<std::string>{"j", "k"}));
}

TEST_F(JobRunnerTest, AFailedRunIsRetriedWithBackoff_ThenGivesUpUntilTheNextFireTime) {
  JobRunner runner(m_clock, options());
  int count = 0;
  runner.add({.name = "crl.document", .interval = 24h, .run = [&]() -> core::Result<void> {
                ++count;
                return core::Error{core::Errc::store_unavailable, "database down"};
              }});
  runner.run_due();  // attempt 0
  m_clock.advance(59s);
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(1s);
  EXPECT_EQ(runner.run_due().size(), 1u);  // attempt 1, 60 s later
  m_clock.advance(119s);
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(1s);
  EXPECT_EQ(runner.run_due().size(), 1u);  // attempt 2, 120 s later: the last of 3
  m_clock.advance(1h);
  EXPECT_TRUE(runner.run_due().empty()) << "gave up until the next fire time";
  EXPECT_EQ(count, 3);
  const auto recorded = runs("crl.document");
  ASSERT_EQ(recorded.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(recorded[static_cast<std::size_t>(2 - i)].attempt, i);
    EXPECT_EQ(recorded[static_cast<std::size_t>(2 - i)].result, "failure");
    EXPECT_EQ(recorded[static_cast<std::size_t>(2 - i)].error, "store.unavailable: database down");
  }
  m_clock.set(core::from_unix(kMidnight + 86400));
  EXPECT_EQ(runner.run_due().size(), 1u);
}

TEST_F(JobRunnerTest, ARunPastItsTimeLimitIsRecordedAsTimedOut_AndNotStartedAgainWhileItRuns) {
  auto o = options();
  o.timeout = 1s;
  JobRunner runner(m_clock, o);
  std::latch release(1);
  std::atomic<int> started{0};
  runner.add({.name = "slow", .interval = 1min, .run = [&]() -> core::Result<void> {
                ++started;
                release.wait();
                return core::ok();
              }});
  EXPECT_EQ(runner.run_due().size(), 1u);  // waits 1 s, then records the timeout
  auto recorded = runs("slow");
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].result, "timeout");
  EXPECT_EQ(recorded[0].error, "operation.timed_out: the job ran past its time limit");
  m_clock.advance(5min);
  EXPECT_TRUE(runner.run_due().empty()) << "still running: not started twice";
  EXPECT_EQ(started.load(), 1);
  // Another runner on the same store cannot take it either: the lock is still held.
  JobRunner other(m_clock, options("test:2"));
  other.add({.name = "slow", .interval = 1min, .run = ok_job});
  EXPECT_TRUE(other.run_due().empty());
  release.count_down();
  runner.stop();  // waits for the thread; the run stays recorded as timed out
  EXPECT_EQ(runs("slow").size(), 1u);
  m_clock.advance(10s);  // the other runner looks again after busy_retry
  EXPECT_EQ(other.run_due().size(), 1u);
}

TEST_F(JobRunnerTest, TwoRunnersOnOneStoreRunEachFireTimeOnce) {
  std::atomic<int> count{0};
  auto job = [&]() -> core::Result<void> {
    ++count;
    return core::ok();
  };
  JobRunner a(m_clock, options("host-a:1"));
  JobRunner b(m_clock, options("host-b:2"));
  a.add({.name = "backup", .interval = 1h, .run = job});
  b.add({.name = "backup", .interval = 1h, .run = job});
  for (int hour = 0; hour < 6; ++hour) {
    // Whichever looks first runs it; the other finds the fire time claimed.
    if (hour % 2) {
      b.run_due();
      a.run_due();
    } else {
      a.run_due();
      b.run_due();
    }
    m_clock.advance(1h);
  }
  EXPECT_EQ(count.load(), 6);
  const auto recorded = runs("backup");
  ASSERT_EQ(recorded.size(), 6u);
  for (std::size_t i = 0; i < recorded.size(); ++i)
    EXPECT_EQ(recorded[i].scheduled_at, kMidnight + static_cast<std::int64_t>(5 - i) * 3600);
}

TEST_F(JobRunnerTest, RunNowIsAManualRun_RefusedWhileTheJobIsLockedElsewhere) {
  JobRunner runner(m_clock, options());
  runner.add({.name = "backup", .interval = 1h, .run = ok_job});
  runner.add({.name = "broken", .interval = 1h, .run = []() -> core::Result<void> {
                return core::Error{core::Errc::ca_offline, "no key"};
              }});
  ASSERT_TRUE(runner.run_now("backup"));
  EXPECT_EQ(runs("backup")[0].trigger, "manual");
  auto failed = runner.run_now("broken");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, core::Errc::ca_offline);
  EXPECT_EQ(runner.run_now("nope").error().code, core::Errc::not_found);
  auto held = m_store->try_lock_job("backup");
  ASSERT_TRUE(held && *held);
  EXPECT_EQ(runner.run_now("backup").error().code, core::Errc::conflict);
}

TEST_F(JobRunnerTest, DueEarlyRunsAJobBeforeItsTime) {
  JobRunner runner(m_clock, options());
  bool moved = false;
  int count = 0;
  runner.add({.name = "ocsp.presign.tls",
              .interval = 150s,
              .run = [&]() -> core::Result<void> {
                ++count;
                moved = false;
                return core::ok();
              },
              .due_early = [&] { return moved; }});
  runner.run_due();
  EXPECT_TRUE(runner.run_due().empty());
  moved = true;
  EXPECT_EQ(runner.run_due().size(), 1u);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(runs("ocsp.presign.tls")[0].trigger, "event");
}

TEST_F(JobRunnerTest, PerProcessJobsAreNeitherLockedNorRecorded) {
  JobRunner a(m_clock, options("host-a:1"));
  JobRunner b(m_clock, options("host-b:2"));
  int count = 0;
  for (auto* r : {&a, &b})
    r->add({.name = "tls.reload", .interval = 1min, .run = [&]() -> core::Result<void> {
              ++count;
              return core::ok();
            },
            .per_process = true});
  a.run_due();
  b.run_due();
  EXPECT_EQ(count, 2);
  EXPECT_TRUE(runs("tls.reload").empty());
}

TEST_F(JobRunnerTest, ThreadRunsJobsAndStopsPromptly) {
  JobRunner runner(m_clock, options());
  std::atomic<int> count{0};
  runner.add({.name = "j", .interval = 1s, .run = [&]() -> core::Result<void> {
                ++count;
                return core::ok();
              }});
  runner.start(5ms);
  for (int i = 0; i < 400 && count.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  runner.stop();
  EXPECT_EQ(count.load(), 1) << "the manual clock did not move: one run";
}

TEST_F(JobRunnerTest, EveryRun_IsAnAuditEvent_WithItsResult) {
  JobRunner runner(m_clock, options());
  bool fail = false;
  runner.add({.name = "crl.tls", .interval = 1h, .run = [&]() -> core::Result<void> {
                if (fail) return core::Error{core::Errc::ca_offline, "no key"};
                return core::ok();
              }});
  runner.run_due();
  fail = true;
  m_clock.advance(1h);
  runner.run_due();
  store::AuditFilter f;
  f.action = "job.run";
  auto events = m_store->list_audit_events(f);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].actor, "job:crl.tls");
  EXPECT_EQ((*events)[0].result, "success");
  EXPECT_EQ((*events)[0].time, kMidnight);
  EXPECT_EQ((*events)[1].result, "pki.ca_offline");
}

TEST(JobRunnerOptionsTest, ParsesScheduleOverrides) {
  Runtime rt;
  rt.config.jobs.schedules = " backup = 17 * * * * ;cert-expiry-check=@daily; ";
  auto o = job_runner_options(rt);
  ASSERT_TRUE(o) << o.error().to_string();
  ASSERT_EQ(o->schedules.size(), 2u);
  EXPECT_EQ(o->schedules.at("backup").text(), "17 * * * *");
  EXPECT_EQ(o->schedules.at("cert-expiry-check").text(), "@daily");
  rt.config.jobs.schedules = "backup";
  EXPECT_EQ(job_runner_options(rt).error().code, core::Errc::config_invalid);
  rt.config.jobs.schedules = "backup = 61 * * * *";
  EXPECT_EQ(job_runner_options(rt).error().code, core::Errc::config_invalid);
}

}  // namespace
}  // namespace cartorio::app
