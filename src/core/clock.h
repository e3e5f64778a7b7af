// Injected time: domain code asks a Clock, so expiry, rotation and TTL logic is testable
// without sleeping. SystemClock for production, ManualClock for tests.
#pragma once

#include <atomic>
#include <chrono>

namespace cartorio::core {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// Thread-safe; starts at the given time and moves only when told.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : m_now(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(m_now.load())); }
  void set(TimePoint t) { m_now.store(t.time_since_epoch().count()); }
  void advance(TimePoint::duration d) { m_now.fetch_add(d.count()); }

 private:
  std::atomic<TimePoint::duration::rep> m_now;
};

// Seconds since the Unix epoch, the unit the store and the X.509 code exchange.
inline long long to_unix(TimePoint t) {
  return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count();
}
inline TimePoint from_unix(long long s) { return TimePoint(Seconds(s)); }

}  // namespace cartorio::core
