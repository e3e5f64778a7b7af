#include "audit/async_audit_writer.h"

#include "core/log.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace cartorio::audit {

AsyncAuditWriter::AsyncAuditWriter(store::AuditLog& log, AsyncAuditWriterOptions options)
    : m_log(log), m_options(options), m_thread([this] { run(); }) {}

AsyncAuditWriter::~AsyncAuditWriter() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_work.notify_all();
  m_thread.join();
}

void AsyncAuditWriter::record(store::AuditEvent event) {
  std::unique_lock lock(m_mutex);
  m_progress.wait(lock, [this] { return m_queue.size() < m_options.max_queued; });
  m_queue.push_back(std::move(event));
  ++m_recorded;
  // The writer only needs waking for a first event (it sleeps on an empty queue) or a full
  // batch (it lingers until one fills); a wake-up per event was a context switch per call.
  const bool wake = m_queue.size() == 1 || m_queue.size() == m_options.max_batch;
  lock.unlock();
  if (wake) m_work.notify_one();
}

void AsyncAuditWriter::flush() {
  std::unique_lock lock(m_mutex);
  const std::uint64_t target = m_recorded;
  m_flush_to = std::max(m_flush_to, target);
  m_work.notify_one();
  m_progress.wait(lock, [&] { return m_done >= target; });
}

void AsyncAuditWriter::run() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_work.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
    if (m_queue.empty()) return;  // stopping, nothing left
    // Let the batch fill, unless it is full or someone waits for it.
    m_work.wait_for(lock, m_options.linger, [this] {
      return m_stopping || m_queue.size() >= m_options.max_batch || m_flush_to > m_done;
    });
    const auto n = std::min(m_queue.size(), m_options.max_batch);
    std::vector<store::AuditEvent> batch(std::make_move_iterator(m_queue.begin()),
                                         std::make_move_iterator(m_queue.begin() + static_cast<std::ptrdiff_t>(n)));
    m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
    const bool last_chance = m_stopping;
    lock.unlock();
    auto written = m_log.append_audit_events(batch);
    lock.lock();
    if (written || last_chance) {
      if (!written)
        core::log::error("audit.write_failed", {{"events", static_cast<std::int64_t>(n)},
                                                {"error", written.error().to_string()}, {"final", true}});
      m_done += n;
      m_progress.notify_all();
      continue;
    }
    // Keep the batch, in order, and try again later (sooner if asked to stop).
    core::log::error("audit.write_failed", {{"events", static_cast<std::int64_t>(n)},
                                            {"error", written.error().to_string()}});
    m_queue.insert(m_queue.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    m_work.wait_for(lock, m_options.retry_after, [this] { return m_stopping; });
  }
}

}  // namespace cartorio::audit
