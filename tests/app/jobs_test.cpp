// JobRunner: when jobs run, by an injected clock (no sleeping), and how failures retry.
#include "app/jobs.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace cartorio::app {
namespace {

using namespace std::chrono_literals;

class JobRunnerTest : public ::testing::Test {
 protected:
  core::ManualClock m_clock{core::from_unix(1'800'000'000)};
};

TEST_F(JobRunnerTest, RunsAtOnceThenEveryInterval) {
  JobRunner runner(m_clock);
  int runs = 0;
  runner.add({.name = "crl.tls", .interval = 24h, .run = [&]() -> core::Result<void> {
                ++runs;
                return core::ok();
              }});
  EXPECT_EQ(runner.run_due(), std::vector<std::string>{"crl.tls"});
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(24h - 1s);
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(1s);
  EXPECT_EQ(runner.run_due().size(), 1u);
  EXPECT_EQ(runs, 2);
}

TEST_F(JobRunnerTest, FirstDueDelaysTheFirstRun) {
  JobRunner runner(m_clock);
  runner.add({.name = "j", .interval = 1h, .run = [] { return core::ok(); }, .first_due = m_clock.now() + 10min});
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(10min);
  EXPECT_EQ(runner.run_due().size(), 1u);
}

TEST_F(JobRunnerTest, AFailedJobRetriesSoonerThanItsInterval) {
  JobRunner runner(m_clock, 60s);
  bool fail = true;
  int runs = 0;
  runner.add({.name = "crl.document", .interval = 24h, .run = [&]() -> core::Result<void> {
                ++runs;
                if (fail) return core::Error{core::Errc::store_unavailable, "database down"};
                return core::ok();
              }});
  runner.run_due();
  m_clock.advance(59s);
  EXPECT_TRUE(runner.run_due().empty());
  m_clock.advance(1s);
  fail = false;
  EXPECT_EQ(runner.run_due().size(), 1u);
  m_clock.advance(1h);
  EXPECT_TRUE(runner.run_due().empty()) << "after a success the full interval applies";
  EXPECT_EQ(runs, 2);
}

TEST_F(JobRunnerTest, DueEarlyRunsAJobBeforeItsTime) {
  JobRunner runner(m_clock);
  bool moved = false;
  int runs = 0;
  runner.add({.name = "ocsp.presign.tls",
              .interval = 150s,
              .run = [&]() -> core::Result<void> {
                ++runs;
                moved = false;
                return core::ok();
              },
              .due_early = [&] { return moved; }});
  runner.run_due();
  EXPECT_TRUE(runner.run_due().empty());
  moved = true;
  EXPECT_EQ(runner.run_due().size(), 1u);
  EXPECT_EQ(runs, 2);
}

TEST_F(JobRunnerTest, ThreadRunsJobsAndStopsPromptly) {
  JobRunner runner(m_clock);
  std::atomic<int> runs{0};
  runner.add({.name = "j", .interval = 1s, .run = [&]() -> core::Result<void> {
                ++runs;
                return core::ok();
              }});
  runner.start(5ms);
  for (int i = 0; i < 400 && runs.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  runner.stop();
  EXPECT_EQ(runs.load(), 1) << "the manual clock did not move: one run";
}

TEST_F(JobRunnerTest, EveryRun_IsAnAuditEvent_WithItsResult) {
  testing::TempDir dir;
  auto store = store::open_sqlite_store((dir.path() / "store.db").string());
  ASSERT_TRUE(store) << store.error().to_string();
  JobRunner runner(m_clock);
  runner.audit_to(store->get());
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
  auto events = (*store)->list_audit_events(f);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].actor, "job:crl.tls");
  EXPECT_EQ((*events)[0].result, "success");
  EXPECT_EQ((*events)[0].time, 1'800'000'000);
  EXPECT_EQ((*events)[1].result, "pki.ca_offline");
}

}  // namespace
}  // namespace cartorio::app
