// The job-run repository and job locks on every backend: a period's run can be claimed
// once, a lock is held by one runner at a time across stores (processes) on one database.
#include "store/store.h"

#include "store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace {

using cartorio::core::Errc;
using cartorio::store::JobRunFilter;
using cartorio::store::JobRunRecord;
using cartorio::store::Store;
using cartorio::store_test::PostgresBackend;
using cartorio::store_test::SqliteBackend;

JobRunRecord run_of(const std::string& job, std::int64_t scheduled_at, int attempt = 0,
                    const std::string& instance = "host-a:1") {
  JobRunRecord r;
  r.job = job;
  r.scheduled_at = scheduled_at;
  r.attempt = attempt;
  r.instance = instance;
  r.started_at = scheduled_at + 3;
  return r;
}

template <class Backend>
class JobStoreConformance : public cartorio::store_test::StoreFixture<Backend> {};

}  // namespace

class Sqlite : public SqliteBackend {};
class Postgres : public PostgresBackend {};

namespace {

// NOTE: tests/store/CMakeLists.txt selects the PostgreSQL cases as JobStoreConformance/1.*.
using Backends = ::testing::Types<Sqlite, Postgres>;
TYPED_TEST_SUITE(JobStoreConformance, Backends);

TYPED_TEST(JobStoreConformance, ClaimsEachFireTimeOnce_AcrossStores) {
  auto other = this->second_store();
  ASSERT_TRUE(other);
  auto first = this->store().claim_job_run(run_of("backup", 3600));
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  // Another instance (its own connection) loses the same fire time and attempt...
  auto again = other->claim_job_run(run_of("backup", 3600, 0, "host-b:2"));
  ASSERT_OK(again);
  EXPECT_FALSE(again->has_value());
  // ... but a retry, another fire time or another job is a new claim.
  // A manual or event run at the same second is recorded, not refused (the lock alone
  // keeps runs apart).
  auto manual = run_of("backup", 3600);
  manual.trigger = "manual";
  auto recorded = other->claim_job_run(manual);
  ASSERT_OK(recorded);
  EXPECT_TRUE(recorded->has_value());
  for (const auto& r : {run_of("backup", 3600, 1), run_of("backup", 7200), run_of("crl.tls", 3600)}) {
    auto claimed = other->claim_job_run(r);
    ASSERT_OK(claimed);
    EXPECT_TRUE(claimed->has_value()) << r.job << " " << r.scheduled_at << " " << r.attempt;
  }
}

TYPED_TEST(JobStoreConformance, RecordsTheEndOfARun_AndListsNewestFirst) {
  auto a = this->store().claim_job_run(run_of("backup", 3600));
  ASSERT_OK(a);
  ASSERT_OK(this->store().finish_job_run(**a, 3700, "success", ""));
  auto b = this->store().claim_job_run(run_of("backup", 7200));
  ASSERT_OK(b);
  ASSERT_OK(this->store().finish_job_run(**b, 7300, "failure", "store.unavailable: down"));
  auto c = this->store().claim_job_run(run_of("crl.tls", 7200));
  ASSERT_OK(c);

  JobRunFilter f;
  f.job = "backup";
  auto runs = this->store().list_job_runs(f);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].scheduled_at, 7200);
  EXPECT_EQ((*runs)[0].result, "failure");
  EXPECT_EQ((*runs)[0].error, "store.unavailable: down");
  EXPECT_EQ((*runs)[0].ended_at, 7300);
  EXPECT_EQ((*runs)[1].result, "success");
  EXPECT_EQ((*runs)[1].instance, "host-a:1");
  EXPECT_EQ((*runs)[1].started_at, 3603);

  JobRunFilter page;
  page.limit = 1;
  auto newest = this->store().list_job_runs(page);
  ASSERT_OK(newest);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].job, "crl.tls");
  EXPECT_EQ((*newest)[0].result, "running");
  EXPECT_FALSE((*newest)[0].ended_at);
  page.before_id = (*newest)[0].id;
  auto next = this->store().list_job_runs(page);
  ASSERT_OK(next);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].id, **b);

  auto summaries = this->store().job_summaries();
  ASSERT_OK(summaries);
  ASSERT_EQ(summaries->size(), 2u);
  EXPECT_EQ((*summaries)[0].job, "backup");
  EXPECT_EQ((*summaries)[0].last_run.result, "failure");  // the latest run failed...
  EXPECT_EQ((*summaries)[0].last_success_at, 3700);       // ... the last success stays known
  EXPECT_EQ((*summaries)[1].job, "crl.tls");
  EXPECT_FALSE((*summaries)[1].last_success_at);
}

TYPED_TEST(JobStoreConformance, RejectsBadRuns) {
  EXPECT_ERRC(this->store().claim_job_run(run_of("Bad Name", 1)), Errc::invalid_argument);
  EXPECT_ERRC(this->store().claim_job_run(run_of("", 1)), Errc::invalid_argument);
  EXPECT_ERRC(this->store().claim_job_run(run_of("backup", 1, -1)), Errc::invalid_argument);
  auto bad_trigger = run_of("backup", 1);
  bad_trigger.trigger = "cron";
  EXPECT_ERRC(this->store().claim_job_run(bad_trigger), Errc::invalid_argument);
  EXPECT_ERRC(this->store().finish_job_run(12345, 1, "success", ""), Errc::not_found);
  auto a = this->store().claim_job_run(run_of("backup", 1));
  ASSERT_OK(a);
  EXPECT_ERRC(this->store().finish_job_run(**a, 2, "running", ""), Errc::invalid_argument);
  EXPECT_ERRC(this->store().try_lock_job("../etc"), Errc::invalid_argument);
}

TYPED_TEST(JobStoreConformance, LocksAJobForOneHolderAtATime_AcrossStores) {
  auto other = this->second_store();
  ASSERT_TRUE(other);
  auto held = this->store().try_lock_job("backup");
  ASSERT_OK(held);
  ASSERT_TRUE(*held);
  // Another process (store) and this same store are both refused while it is held.
  auto refused = other->try_lock_job("backup");
  ASSERT_OK(refused);
  EXPECT_FALSE(*refused);
  auto refused_here = this->store().try_lock_job("backup");
  ASSERT_OK(refused_here);
  EXPECT_FALSE(*refused_here);
  // Other jobs are independent.
  auto other_job = other->try_lock_job("crl.tls");
  ASSERT_OK(other_job);
  EXPECT_TRUE(*other_job);
  // Released: the other store can take it.
  held->reset();
  auto taken = other->try_lock_job("backup");
  ASSERT_OK(taken);
  EXPECT_TRUE(*taken);
}

}  // namespace

namespace {

TYPED_TEST(JobStoreConformance, PrunesOldRuns_KeepingEachJobsLatestRunAndSuccess) {
  auto finish = [&](const std::string& job, std::int64_t at, const std::string& result) {
    auto id = this->store().claim_job_run(run_of(job, at));
    ASSERT_OK(id);
    ASSERT_OK(this->store().finish_job_run(**id, at + 10, result, result == "success" ? "" : "io.error: x"));
  };
  auto running = this->store().claim_job_run(run_of("backup", 500, 1));  // unfinished: never pruned
  ASSERT_OK(running);
  finish("backup", 1000, "success");
  finish("backup", 2000, "success");  // backup's latest success
  finish("backup", 3000, "failure");  // backup's latest run
  finish("crl.tls", 1000, "failure");
  finish("crl.tls", 2000, "failure");  // crl.tls's latest run; it never succeeded

  auto pruned = this->store().prune_job_runs(100000);
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 2);  // backup@1000 and crl.tls@1000
  JobRunFilter all;
  auto left = this->store().list_job_runs(all);
  ASSERT_OK(left);
  std::vector<std::pair<std::string, std::int64_t>> kept;
  for (const auto& r : *left) kept.emplace_back(r.job, r.scheduled_at);
  EXPECT_EQ(kept, (std::vector<std::pair<std::string, std::int64_t>>{
                      {"crl.tls", 2000}, {"backup", 3000}, {"backup", 2000}, {"backup", 500}}));
  auto summaries = this->store().job_summaries();
  ASSERT_OK(summaries);
  ASSERT_EQ(summaries->size(), 2u);
  EXPECT_EQ((*summaries)[0].last_success_at, 2010);

  // Nothing ended before the cut-off: nothing goes.
  auto none = this->store().prune_job_runs(1500);
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0);
}

}  // namespace
