// Token-bucket rate limiting per source IP (before routing) and per authenticated client
// (after authentication, in SecuredRouter), over the cache: in-process buckets by default,
// shared by every instance when the cache is Redis. Past the burst: 429 problem
// (rate_limit.exceeded) with Retry-After in whole seconds.
//
// A cache failure lets the request through (fail open) and is logged: an outage of the
// cache must not take the API down; FallbackCache keeps per-instance buckets meanwhile.
#pragma once

#include "cache/cache.h"
#include "http/response.h"

#include <optional>
#include <string>

namespace cartorio::api {

struct RateLimits {
  cache::TokenBucket per_ip{200, 100.0};
  cache::TokenBucket per_client{100, 50.0};
};

class RateLimiter {
 public:
  RateLimiter(cache::Cache& cache, RateLimits limits) : m_cache(cache), m_limits(limits) {}
  std::optional<http::Response> check_ip(const std::string& address);
  std::optional<http::Response> check_client(const std::string& subject);

 private:
  std::optional<http::Response> take(const std::string& scope, const std::string& bucket,
                                     const cache::TokenBucket& spec);
  cache::Cache& m_cache;
  RateLimits m_limits;
};

}  // namespace cartorio::api
