// AsyncAuditWriter: events reach the log in order, in batches, survive a store outage (kept
// and retried, never dropped), flush() waits for them, and the destructor writes the rest.
#include "audit/async_audit_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace cartorio;

class FlakyLog final : public store::AuditLog {
 public:
  core::Result<std::int64_t> append_audit_event(const store::AuditEvent& e) override {
    auto ids = append_audit_events({e});
    if (!ids) return ids.error();
    return ids->front();
  }
  core::Result<std::vector<std::int64_t>> append_audit_events(const std::vector<store::AuditEvent>& batch) override {
    std::lock_guard lock(m_mutex);
    if (down) return core::Error{core::Errc::store_unavailable, "database down"};
    batches.push_back(batch.size());
    std::vector<std::int64_t> ids;
    for (const auto& e : batch) {
      written.push_back(e.target);
      ids.push_back(static_cast<std::int64_t>(written.size()));
    }
    return ids;
  }
  core::Result<std::vector<store::AuditEvent>> list_audit_events(const store::AuditFilter&) override {
    return std::vector<store::AuditEvent>{};
  }

  std::vector<std::string> snapshot() {
    std::lock_guard lock(m_mutex);
    return written;
  }

  std::atomic<bool> down{false};
  std::vector<std::string> written;
  std::vector<std::size_t> batches;

 private:
  std::mutex m_mutex;
};

store::AuditEvent event(int i) {
  store::AuditEvent e;
  e.actor = "user:alice";
  e.action = "GET /api/v1/me";
  e.target = std::to_string(i);
  return e;
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(std::to_string(i));
  return out;
}

TEST(AsyncAuditWriter, WritesInOrder_InBatches_AndFlushWaits) {
  FlakyLog log;
  audit::AsyncAuditWriter writer(log, {.max_batch = 10, .max_queued = 1000, .linger = std::chrono::milliseconds(20)});
  for (int i = 0; i < 95; ++i) writer.record(event(i));
  writer.flush();
  EXPECT_EQ(log.snapshot(), numbers(0, 95));
  for (auto n : log.batches) EXPECT_LE(n, 10u);
  EXPECT_LT(log.batches.size(), 95u) << "events were batched";
}

// Whether `log` holds n events within 10 s, without anyone calling flush().
bool written_soon(FlakyLog& log, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (log.snapshot().size() < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return log.snapshot().size() >= n;
}

// record() wakes the writer only for a first event or a full batch: both are still written
// without a flush(), the full batch without waiting out the linger.
TEST(AsyncAuditWriter, WritesAFullBatchAtOnce_AndALoneEventAfterTheLinger) {
  FlakyLog log;
  audit::AsyncAuditWriter writer(log, {.max_batch = 4, .max_queued = 1000, .linger = std::chrono::seconds(30)});
  for (int i = 0; i < 4; ++i) writer.record(event(i));
  EXPECT_TRUE(written_soon(log, 4)) << "the full batch waited for the linger";
  EXPECT_EQ(log.snapshot(), numbers(0, 4));

  FlakyLog lone_log;
  audit::AsyncAuditWriter lone(lone_log, {.max_batch = 4, .max_queued = 1000, .linger = std::chrono::milliseconds(5)});
  lone.record(event(7));
  EXPECT_TRUE(written_soon(lone_log, 1));
  EXPECT_EQ(lone_log.snapshot(), numbers(7, 8));
}

TEST(AsyncAuditWriter, KeepsEventsThroughAnOutage_AndRetries) {
  FlakyLog log;
  log.down = true;
  audit::AsyncAuditWriter writer(log, {.max_batch = 8, .max_queued = 1000, .linger = std::chrono::milliseconds(1),
                                       .retry_after = std::chrono::milliseconds(20)});
  for (int i = 0; i < 20; ++i) writer.record(event(i));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(log.snapshot().empty());
  log.down = false;
  writer.flush();
  EXPECT_EQ(log.snapshot(), numbers(0, 20));
}

TEST(AsyncAuditWriter, ManyThreads_EveryEventOnce_AndTheDestructorWritesTheRest) {
  FlakyLog log;
  {
    audit::AsyncAuditWriter writer(log, {.max_batch = 64, .max_queued = 16, .linger = std::chrono::milliseconds(5)});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&writer, t] {
        for (int i = 0; i < 250; ++i) writer.record(event(t * 1000 + i));
      });
    for (auto& th : threads) th.join();
  }  // no flush: the destructor writes what is queued
  auto written = log.snapshot();
  ASSERT_EQ(written.size(), 1000u);
  std::sort(written.begin(), written.end());
  EXPECT_EQ(std::adjacent_find(written.begin(), written.end()), written.end());
}

}  // namespace
