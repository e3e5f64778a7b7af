// Data reachable only under its lock (after PowerDNS's LockGuarded).
#pragma once

#include <mutex>
#include <utility>

namespace cartorio::core {

template <class T>
class Guarded {
 public:
  template <class... Args>
  explicit Guarded(Args&&... args) : m_value(std::forward<Args>(args)...) {}

  class Handle {
   public:
    Handle(std::mutex& m, T& v) : m_lock(m), m_value(v) {}
    T* operator->() { return &m_value; }
    T& operator*() { return m_value; }

   private:
    std::unique_lock<std::mutex> m_lock;
    T& m_value;
  };

  Handle lock() { return Handle(m_mutex, m_value); }

 private:
  std::mutex m_mutex;
  T m_value;
};

}  // namespace cartorio::core
