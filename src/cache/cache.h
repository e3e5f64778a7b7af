// Cache: short-lived shared state (the ElastiCache role): OCSP responses, sessions,
// idempotency keys and locks, shared rate-limit buckets. One contract, two backends:
// in-process (cache/memory/memory_cache.h, the embedded default) and Redis
// (cache/redis/redis_cache.h, production, shared by every instance), plus the
// FallbackCache decorator (cache/fallback_cache.h). docs/cache.md has the details.
//
// A cache is not a system of record: an entry may vanish before its TTL (eviction, a Redis
// restart), so callers must be able to rebuild what they read from it.
//
// Keys are non-empty byte strings of at most kMaxKeyBytes; values are arbitrary bytes
// (NUL included). Every entry has a TTL: there is no "forever". Values and token buckets
// live in separate namespaces, so a key and a bucket of the same name never collide.
//
// Thread-safety: a Cache is safe to share between threads. Each call is atomic on its own.
//
// Errors: every call can return Errc::invalid_argument for a bad key, TTL or bucket spec
// (nothing is changed), Errc::store_unavailable when the backend cannot be reached or
// refuses the login (retrying later may work; calls never hang: backends bound their
// waits), and Errc::store_error for an unexpected answer from the backend.
#pragma once

#include "core/error.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartorio::cache {

using Ttl = std::chrono::milliseconds;

inline constexpr std::size_t kMaxKeyBytes = 1024;
// About ten years: long enough for any cached fact, short enough that now + ttl never
// overflows a clock's time_point.
inline constexpr Ttl kMaxTtl = std::chrono::hours(24 * 3650);

// A token bucket: holds up to `capacity` tokens, starts full, gains `refill_per_second`
// tokens per second (fractions accumulate). Shared by every instance on a shared backend.
struct TokenBucket {
  std::int64_t capacity = 1;       // >= 1
  double refill_per_second = 1.0;  // > 0, finite
};

struct TokenGrant {
  bool allowed = false;
  std::int64_t remaining = 0;             // whole tokens left after this call
  std::chrono::milliseconds retry_after{0};  // when denied: wait this long for `cost` tokens
};

enum class CacheState { ok, degraded, unavailable };
std::string_view to_string(CacheState s);

struct CacheHealth {
  CacheState state = CacheState::ok;
  std::string detail;  // why it is degraded or unavailable; never holds credentials
};

class Cache {
 public:
  virtual ~Cache() = default;

  // nullopt when absent or expired.
  virtual core::Result<std::optional<std::string>> get(std::string_view key) = 0;
  // Stores (or replaces) the value; it expires after ttl (1 ms .. kMaxTtl).
  virtual core::Result<void> set(std::string_view key, std::string_view value, Ttl ttl) = 0;
  // true when an entry was removed, false when there was none.
  virtual core::Result<bool> erase(std::string_view key) = 0;
  // Stores the value only when the key is absent (or expired): true when this call stored
  // it. Of concurrent callers on the same backend exactly one wins (locks, idempotency keys).
  virtual core::Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) = 0;
  // Takes `cost` tokens (1 .. capacity) from the named bucket if it holds that many,
  // atomically: concurrent takers never get more than the bucket holds. The time that
  // refills buckets is the backend's (the injected clock in memory, the Redis server's
  // clock in Redis, so every instance agrees). A bucket unused until it is full again may
  // be forgotten (it is then indistinguishable from a new, full one). Callers should use
  // the same spec for a given bucket name.
  virtual core::Result<TokenGrant> take_token(std::string_view bucket, const TokenBucket& spec,
                                              std::int64_t cost = 1) = 0;
  // Reachability for /readyz.
  virtual core::Result<void> check() = 0;
  // For /readyz: ok when check() succeeds, unavailable otherwise; a decorator with a
  // fallback reports degraded while it serves from the fallback.
  virtual CacheHealth health();
  // "memory", "redis", "fallback(redis,memory)".
  virtual std::string backend_name() const = 0;
};

// Shared argument checks, so every backend rejects the same input with the same message.
core::Result<void> check_key(std::string_view key);
core::Result<void> check_ttl(Ttl ttl);
core::Result<void> check_bucket(std::string_view bucket, const TokenBucket& spec, std::int64_t cost);

}  // namespace cartorio::cache
