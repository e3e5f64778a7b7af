// A bounded set of SqlConnections shared by threads. acquire() hands out a connection for
// exclusive use; the PooledConnection gives it back when it dies. Connections beyond the
// first are opened lazily, up to max_size; an unhealthy connection is dropped on return
// and replaced on demand. With max_size 1 (SQLite) the pool is simply a mutex.
//
// retire_all() (after a password change) starts a new generation: idle connections are
// closed at once, leased ones when they come back (never while in use), so every later
// acquire gets a connection opened after the call.
#pragma once

#include "store/sql/sql_connection.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace cartorio::store::sql {

class ConnectionPool;

// Move-only lease on one connection.
class PooledConnection {
 public:
  // `generation`: the pool's generation when the connection was opened.
  PooledConnection(ConnectionPool& pool, std::unique_ptr<SqlConnection> conn, std::uint64_t generation)
      : m_pool(&pool), m_conn(std::move(conn)), m_generation(generation) {}
  PooledConnection(PooledConnection&& other) noexcept
      : m_pool(std::exchange(other.m_pool, nullptr)), m_conn(std::move(other.m_conn)),
        m_generation(other.m_generation) {}
  PooledConnection& operator=(PooledConnection&&) = delete;
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;
  ~PooledConnection();

  SqlConnection& operator*() { return *m_conn; }
  SqlConnection* operator->() { return m_conn.get(); }

 private:
  ConnectionPool* m_pool;
  std::unique_ptr<SqlConnection> m_conn;
  std::uint64_t m_generation;
};

class ConnectionPool {
 public:
  using Factory = std::function<core::Result<std::unique_ptr<SqlConnection>>()>;

  // `first` is already open (so a bad location fails at open time, not at first use).
  ConnectionPool(std::unique_ptr<SqlConnection> first, Factory factory, int max_size,
                 std::chrono::milliseconds acquire_timeout);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Errc::store_unavailable when no connection frees up within the acquire timeout or a
  // new one cannot be opened.
  core::Result<PooledConnection> acquire();

  // A new connection outside the pool (not counted in max_size), for a session that must
  // stay open while its holder also uses the pool: a job's advisory lock held during the
  // job. Errc::store_unavailable when it cannot be opened.
  core::Result<std::unique_ptr<SqlConnection>> open_dedicated();

  // Retires every connection opened before this call: idle ones are closed now, leased
  // ones when released (their current use is not disturbed). Later acquires open new
  // connections through the factory. Safe to call from any thread, also while holding a lease.
  void retire_all() noexcept;

 private:
  friend class PooledConnection;
  void release(std::unique_ptr<SqlConnection> conn, std::uint64_t generation) noexcept;

  struct Idle {
    std::unique_ptr<SqlConnection> conn;
    std::uint64_t generation;
  };

  Factory m_factory;
  const int m_max_size;
  const std::chrono::milliseconds m_acquire_timeout;
  std::mutex m_mutex;
  std::condition_variable m_freed;
  std::vector<Idle> m_idle;      // guarded by m_mutex
  int m_open = 0;                // idle + leased + being opened; guarded by m_mutex
  std::uint64_t m_generation = 0;  // bumped by retire_all; guarded by m_mutex
};

}  // namespace cartorio::store::sql
