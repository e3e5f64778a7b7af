// FallbackCache: answers keep coming when the primary (Redis) is down. Every call goes to
// the primary first; when it fails with Errc::store_unavailable or Errc::store_error the
// call is served by the fallback (an in-process MemoryCache) and the cache is degraded
// until the primary answers again. health() then says `degraded` (for /readyz) and
// check() still succeeds while the fallback answers.
//
// NOTE: what the fallback serves is per instance: while degraded, set_if_absent locks and
// token buckets hold only within this process (a rate limit is then per instance), and
// values written during the outage are not in Redis afterwards. Writes that reach the
// primary also drop the fallback's copy, so a later outage never serves a value older
// than one the primary has since replaced or erased.
//
// Errc::invalid_argument from the primary is returned as is (the fallback would refuse the
// same input). Thread-safe when both caches are.
#pragma once

#include "cache/cache.h"

#include <atomic>
#include <memory>
#include <mutex>

namespace cartorio::cache {

class FallbackCache final : public Cache {
 public:
  // Both must be non-null.
  FallbackCache(std::unique_ptr<Cache> primary, std::unique_ptr<Cache> fallback);

  core::Result<std::optional<std::string>> get(std::string_view key) override;
  core::Result<void> set(std::string_view key, std::string_view value, Ttl ttl) override;
  core::Result<bool> erase(std::string_view key) override;
  core::Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) override;
  core::Result<TokenGrant> take_token(std::string_view bucket, const TokenBucket& spec,
                                      std::int64_t cost = 1) override;
  // Succeeds while either cache answers.
  core::Result<void> check() override;
  // ok: the primary answers; degraded: only the fallback does; unavailable: neither.
  CacheHealth health() override;
  std::string backend_name() const override;

  // True since the last primary failure, until the primary answers again.
  bool degraded() const { return m_degraded.load(); }

 private:
  // Records the outcome of a primary call; true when the fallback must serve it.
  bool primary_failed(const core::Error* error);

  std::unique_ptr<Cache> m_primary;
  std::unique_ptr<Cache> m_fallback;
  std::atomic<bool> m_degraded{false};
  std::mutex m_reason_mutex;
  std::string m_reason;  // the primary's last error; guarded by m_reason_mutex
};

}  // namespace cartorio::cache
