#include "store/sql/connection_pool.h"

#include <utility>

namespace cartorio::store::sql {

PooledConnection::~PooledConnection() {
  if (m_pool && m_conn) m_pool->release(std::move(m_conn));
}

ConnectionPool::ConnectionPool(std::unique_ptr<SqlConnection> first, Factory factory, int max_size,
                               std::chrono::milliseconds acquire_timeout)
    : m_factory(std::move(factory)), m_max_size(max_size < 1 ? 1 : max_size),
      m_acquire_timeout(acquire_timeout) {
  if (first) {
    m_idle.push_back(std::move(first));
    m_open = 1;
  }
}

core::Result<PooledConnection> ConnectionPool::acquire() {
  std::unique_lock lock(m_mutex);
  const auto deadline = std::chrono::steady_clock::now() + m_acquire_timeout;
  for (;;) {
    if (!m_idle.empty()) {
      auto conn = std::move(m_idle.back());
      m_idle.pop_back();
      return PooledConnection(*this, std::move(conn));
    }
    if (m_open < m_max_size) {
      ++m_open;  // reserve the slot, then connect without holding the lock
      lock.unlock();
      auto conn = m_factory ? m_factory()
                            : core::Result<std::unique_ptr<SqlConnection>>(
                                  core::Errc::store_unavailable, "no connection factory");
      if (!conn) {
        lock.lock();
        --m_open;
        m_freed.notify_one();
        return std::move(conn).error();
      }
      return PooledConnection(*this, std::move(conn).value());
    }
    if (m_freed.wait_until(lock, deadline) == std::cv_status::timeout && m_idle.empty() &&
        m_open >= m_max_size)
      return core::Error(core::Errc::store_unavailable,
                         "no database connection became free within " +
                             std::to_string(m_acquire_timeout.count()) + " ms");
  }
}

void ConnectionPool::release(std::unique_ptr<SqlConnection> conn) noexcept {
  std::unique_ptr<SqlConnection> dropped;  // declared first: closed after the lock is released
  std::lock_guard lock(m_mutex);
  if (conn->healthy()) {
    m_idle.push_back(std::move(conn));
  } else {
    dropped = std::move(conn);
    --m_open;  // the next acquire opens a fresh one
  }
  m_freed.notify_one();
}

}  // namespace cartorio::store::sql
