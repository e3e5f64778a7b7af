#include "api/rate_limiter.h"

#include "core/log.h"
#include "metrics/metrics.h"

namespace cartorio::api {

std::optional<http::Response> RateLimiter::check_ip(const std::string& address) {
  return take("ip", "rl:ip:" + address, m_limits.per_ip);
}

std::optional<http::Response> RateLimiter::check_client(const std::string& subject) {
  return take("client", "rl:client:" + subject, m_limits.per_client);
}

std::optional<http::Response> RateLimiter::take(const std::string& scope, const std::string& bucket,
                                                const cache::TokenBucket& spec) {
  auto grant = m_cache.take_token(bucket, spec);
  if (!grant) {
    core::log::warn("rate_limit.cache_failed", {{"scope", scope}, {"error", grant.error().to_string()}});
    return std::nullopt;
  }
  if (grant->allowed) return std::nullopt;
  metrics::count_rate_limited(scope);
  // Round up: "Retry-After: 0" would invite an immediate retry that fails again.
  const auto seconds = std::max<long long>(1, (grant->retry_after.count() + 999) / 1000);
  auto r = http::Response::problem(429, "rate_limit.exceeded", "Too many requests",
                                   "slow down: retry after " + std::to_string(seconds) + " s");
  r.set_header("Retry-After", std::to_string(seconds));
  return r;
}

}  // namespace cartorio::api
