#include "store/sql/connection_pool.h"

#include <utility>

namespace cartorio::store::sql {

PooledConnection::~PooledConnection() {
  if (m_pool && m_conn) m_pool->release(std::move(m_conn), m_generation);
}

ConnectionPool::ConnectionPool(std::unique_ptr<SqlConnection> first, Factory factory, int max_size,
                               std::chrono::milliseconds acquire_timeout)
    : m_factory(std::move(factory)), m_max_size(max_size < 1 ? 1 : max_size),
      m_acquire_timeout(acquire_timeout) {
  if (first) {
    m_idle.push_back(Idle{std::move(first), m_generation});
    m_open = 1;
  }
}

core::Result<std::unique_ptr<SqlConnection>> ConnectionPool::open_dedicated() {
  if (!m_factory) return core::Error(core::Errc::store_unavailable, "no connection factory");
  return m_factory();
}

core::Result<PooledConnection> ConnectionPool::acquire() {
  std::unique_lock lock(m_mutex);
  const auto deadline = std::chrono::steady_clock::now() + m_acquire_timeout;
  for (;;) {
    if (!m_idle.empty()) {
      // Idle connections are always of the current generation: retire_all closes the others.
      Idle idle = std::move(m_idle.back());
      m_idle.pop_back();
      return PooledConnection(*this, std::move(idle.conn), idle.generation);
    }
    if (m_open < m_max_size) {
      ++m_open;  // reserve the slot, then connect without holding the lock
      // A retire_all while this one opens makes it old: it is then closed on release, since
      // it may have logged in with what the caller of retire_all meant to replace.
      const std::uint64_t generation = m_generation;
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
      return PooledConnection(*this, std::move(conn).value(), generation);
    }
    if (m_freed.wait_until(lock, deadline) == std::cv_status::timeout && m_idle.empty() &&
        m_open >= m_max_size)
      return core::Error(core::Errc::store_unavailable,
                         "no database connection became free within " +
                             std::to_string(m_acquire_timeout.count()) + " ms");
  }
}

void ConnectionPool::retire_all() noexcept {
  std::vector<Idle> retired;  // declared first: closed after the lock is released
  std::lock_guard lock(m_mutex);
  ++m_generation;
  retired.swap(m_idle);
  m_open -= static_cast<int>(retired.size());
  // Freed slots: waiters may now open new connections.
  m_freed.notify_all();
}

void ConnectionPool::release(std::unique_ptr<SqlConnection> conn, std::uint64_t generation) noexcept {
  std::unique_ptr<SqlConnection> dropped;  // declared first: closed after the lock is released
  std::lock_guard lock(m_mutex);
  if (conn->healthy() && generation == m_generation) {
    m_idle.push_back(Idle{std::move(conn), generation});
  } else {
    dropped = std::move(conn);
    --m_open;  // the next acquire opens a fresh one
  }
  m_freed.notify_one();
}

}  // namespace cartorio::store::sql
