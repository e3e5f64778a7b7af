// AsyncAuditWriter: the access trail off the request path. SecuredRouter records one event
// per API call after the handler has answered; waiting for that commit would add a second
// fsync to every request. Events are queued here and written by one thread, in batches of
// up to max_batch per transaction (AuditLog::append_audit_events), in the order recorded.
//
// Nothing is dropped while the store answers: a failed batch stays at the head of the queue
// and is retried after retry_after; record() blocks while max_queued events wait
// (backpressure instead of loss). The destructor writes what is queued (one last attempt)
// and logs what could not be written. The domain's own events (issuance, key use,
// revocation, signature) are not written here: they commit with the change they record.
#pragma once

#include "store/store.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

namespace cartorio::audit {

struct AsyncAuditWriterOptions {
  std::size_t max_batch = 256;
  std::size_t max_queued = 10'000;
  std::chrono::milliseconds linger{50};
  std::chrono::milliseconds retry_after{1000};
};

class AsyncAuditWriter {
 public:
  explicit AsyncAuditWriter(store::AuditLog& log, AsyncAuditWriterOptions options = {});
  ~AsyncAuditWriter();
  AsyncAuditWriter(const AsyncAuditWriter&) = delete;
  AsyncAuditWriter& operator=(const AsyncAuditWriter&) = delete;

  void record(store::AuditEvent event);
  // Returns once every event recorded before the call is committed.
  void flush();

 private:
  void run();

  store::AuditLog& m_log;
  const AsyncAuditWriterOptions m_options;
  std::mutex m_mutex;
  std::condition_variable m_work;      // the writer: events queued, or stopping
  std::condition_variable m_progress;  // record() and flush(): room freed, batches written
  std::deque<store::AuditEvent> m_queue;
  std::uint64_t m_recorded = 0;  // events ever recorded
  std::uint64_t m_done = 0;      // events written (or given up at shutdown)
  std::uint64_t m_flush_to = 0;  // flush() waits for events up to this count: no lingering
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace cartorio::audit
