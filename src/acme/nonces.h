// Replay nonces (RFC 8555 6.5) that cost nothing until used: a nonce is its issue time, 64
// random bits and an HMAC over both under a key shared through the cache, so handing one out
// writes nothing, and only a nonce presented in a verified request is recorded ("used", in
// the cache with set-if-absent) — a flood of newNonce requests cannot fill the cache.
#pragma once

#include "cache/cache.h"
#include "core/clock.h"
#include "core/error.h"

#include <chrono>
#include <string>
#include <string_view>

namespace cartorio::acme {

class NonceIssuer {
 public:
  // `cache` and `clock` must outlive it. A nonce is good for `lifetime` after its issue.
  NonceIssuer(cache::Cache& cache, const core::Clock& clock, std::chrono::seconds lifetime)
      : m_cache(cache), m_clock(clock), m_lifetime(lifetime) {}

  // A fresh nonce (43 base64url characters). Errc::store_unavailable when the cache is down.
  core::Result<std::string> issue();
  // True the first time a nonce this installation issued, still within its lifetime, is
  // redeemed; false when it is forged, malformed, expired or used already (badNonce).
  core::Result<bool> redeem(std::string_view nonce);

 private:
  // The HMAC key: created once in the cache (set-if-absent), shared by every instance on it.
  core::Result<std::string> key();

  cache::Cache& m_cache;
  const core::Clock& m_clock;
  std::chrono::seconds m_lifetime;
};

}  // namespace cartorio::acme
