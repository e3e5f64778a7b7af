#include "cache/cache.h"

#include <cmath>

namespace cartorio::cache {

using core::Errc;

std::string_view to_string(CacheState s) {
  switch (s) {
    case CacheState::ok: return "ok";
    case CacheState::degraded: return "degraded";
    case CacheState::unavailable: return "unavailable";
  }
  return "unavailable";
}

CacheHealth Cache::health() {
  auto r = check();
  if (r) return {CacheState::ok, {}};
  return {CacheState::unavailable, r.error().to_string()};
}

core::Result<void> check_key(std::string_view key) {
  if (key.empty()) return core::Error(Errc::invalid_argument, "cache key is empty");
  if (key.size() > kMaxKeyBytes)
    return core::Error(Errc::invalid_argument,
                       "cache key is " + std::to_string(key.size()) + " bytes, the limit is " +
                           std::to_string(kMaxKeyBytes));
  return core::ok();
}

core::Result<void> check_ttl(Ttl ttl) {
  if (ttl <= Ttl::zero())
    return core::Error(Errc::invalid_argument, "cache TTL must be positive (got " + std::to_string(ttl.count()) + " ms)");
  if (ttl > kMaxTtl)
    return core::Error(Errc::invalid_argument, "cache TTL exceeds the limit of " +
                                                   std::to_string(kMaxTtl.count()) + " ms");
  return core::ok();
}

core::Result<void> check_bucket(std::string_view bucket, const TokenBucket& spec, std::int64_t cost) {
  CARTORIO_TRY_VOID(check_key(bucket));
  if (spec.capacity < 1)
    return core::Error(Errc::invalid_argument, "token bucket capacity must be at least 1");
  // Refill slower than one token per ~10 years would overflow the bucket's lifetime.
  if (!std::isfinite(spec.refill_per_second) || spec.refill_per_second <= 0 ||
      spec.refill_per_second > 1e9 || static_cast<double>(spec.capacity) / spec.refill_per_second > 3e8)
    return core::Error(Errc::invalid_argument,
                       "token bucket refill_per_second must be positive and finite, and refill the "
                       "bucket within about ten years");
  if (cost < 1 || cost > spec.capacity)
    return core::Error(Errc::invalid_argument, "token cost must be between 1 and the bucket capacity");
  return core::ok();
}

}  // namespace cartorio::cache
