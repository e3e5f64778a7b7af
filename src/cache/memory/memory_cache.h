// The in-process cache, the embedded default: one process, nothing shared between
// instances (use Redis for that). Time comes from the injected core::Clock, so expiry and
// token refill are testable without sleeping.
//
// Bounded: at most max_entries entries (values and token buckets together). Inserting
// into a full cache first drops every expired entry, then the least recently used one.
// Dropping a token bucket refunds it (it comes back full): the bound is a memory guard,
// size it above the number of live buckets.
//
// Thread-safety: one mutex around the whole state; every call holds it for O(log n).
// Never returns Errc::store_unavailable.
#pragma once

#include "cache/cache.h"
#include "core/clock.h"
#include "core/guarded.h"

#include <cstddef>
#include <list>
#include <map>
#include <unordered_map>
#include <variant>

namespace cartorio::cache {

struct MemoryCacheOptions {
  std::size_t max_entries = 100'000;  // >= 1; values and buckets together
};

class MemoryCache final : public Cache {
 public:
  // The clock must outlive the cache. max_entries == 0 is treated as 1.
  MemoryCache(MemoryCacheOptions options, const core::Clock& clock);
  MemoryCache(const MemoryCache&) = delete;  // owns a mutex-guarded state; share by reference
  MemoryCache& operator=(const MemoryCache&) = delete;

  core::Result<std::optional<std::string>> get(std::string_view key) override;
  core::Result<void> set(std::string_view key, std::string_view value, Ttl ttl) override;
  core::Result<bool> erase(std::string_view key) override;
  core::Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) override;
  core::Result<TokenGrant> take_token(std::string_view bucket, const TokenBucket& spec,
                                      std::int64_t cost = 1) override;
  core::Result<void> check() override;
  std::string backend_name() const override { return "memory"; }

  // Live and not-yet-purged entries (for tests and metrics).
  std::size_t size();

 private:
  struct BucketState {
    double tokens = 0;
    core::TimePoint last;
  };
  struct Entry;
  using Lru = std::list<const std::string*>;  // front: most recently used
  using ByExpiry = std::multimap<core::TimePoint, const std::string*>;
  struct Entry {
    std::variant<std::string, BucketState> data;
    core::TimePoint expires;
    Lru::iterator lru;
    ByExpiry::iterator expiry;
  };
  // Keys in `entries` are stable (node-based map), so the list and the multimap point at them.
  struct State {
    std::unordered_map<std::string, Entry> entries;
    Lru lru;
    ByExpiry by_expiry;
  };

  static Entry* find_live(State& s, const std::string& key, core::TimePoint now);
  static void remove(State& s, std::unordered_map<std::string, Entry>::iterator it);
  static void purge_expired(State& s, core::TimePoint now);
  void make_room(State& s, core::TimePoint now) const;
  static void store(State& s, const std::string& key, std::variant<std::string, BucketState> data,
                    core::TimePoint expires);

  const std::size_t m_max_entries;
  const core::Clock& m_clock;
  core::Guarded<State> m_state;
};

}  // namespace cartorio::cache
