#include "cache/fallback_cache.h"

#include "core/log.h"

#include <cstdlib>

namespace cartorio::cache {

using core::Errc;

FallbackCache::FallbackCache(std::unique_ptr<Cache> primary, std::unique_ptr<Cache> fallback)
    : m_primary(std::move(primary)), m_fallback(std::move(fallback)) {
  if (!m_primary || !m_fallback) {
    core::log::error("FallbackCache needs a primary and a fallback cache");
    std::abort();  // a wiring bug in app/, not a runtime condition
  }
}

bool FallbackCache::primary_failed(const core::Error* error) {
  if (!error) {
    if (m_degraded.exchange(false))
      core::log::info("cache primary answers again", {{"backend", m_primary->backend_name()}});
    return false;
  }
  if (error->code != Errc::store_unavailable && error->code != Errc::store_error) return false;
  {
    std::lock_guard lock(m_reason_mutex);
    m_reason = error->to_string();
  }
  if (!m_degraded.exchange(true))
    core::log::warn("cache degraded: serving from the fallback",
                    {{"backend", m_primary->backend_name()}, {"error", error->to_string()}});
  return true;
}

core::Result<std::optional<std::string>> FallbackCache::get(std::string_view key) {
  auto r = m_primary->get(key);
  if (!primary_failed(r ? nullptr : &r.error())) return r;
  return m_fallback->get(key);
}

core::Result<void> FallbackCache::set(std::string_view key, std::string_view value, Ttl ttl) {
  auto r = m_primary->set(key, value, ttl);
  if (!primary_failed(r ? nullptr : &r.error())) {
    if (r) (void)m_fallback->erase(key);
    return r;
  }
  return m_fallback->set(key, value, ttl);
}

core::Result<bool> FallbackCache::erase(std::string_view key) {
  auto r = m_primary->erase(key);
  const bool failed = primary_failed(r ? nullptr : &r.error());
  if (!failed && !r) return r;
  auto local = m_fallback->erase(key);
  if (failed) return local;
  return r;
}

core::Result<bool> FallbackCache::set_if_absent(std::string_view key, std::string_view value, Ttl ttl) {
  auto r = m_primary->set_if_absent(key, value, ttl);
  if (!primary_failed(r ? nullptr : &r.error())) return r;
  return m_fallback->set_if_absent(key, value, ttl);
}

core::Result<TokenGrant> FallbackCache::take_token(std::string_view bucket, const TokenBucket& spec,
                                                   std::int64_t cost) {
  auto r = m_primary->take_token(bucket, spec, cost);
  if (!primary_failed(r ? nullptr : &r.error())) return r;
  return m_fallback->take_token(bucket, spec, cost);
}

core::Result<void> FallbackCache::check() {
  auto h = health();
  if (h.state == CacheState::unavailable) return core::Error(Errc::store_unavailable, h.detail);
  return core::ok();
}

CacheHealth FallbackCache::health() {
  auto p = m_primary->check();
  if (!primary_failed(p ? nullptr : &p.error())) {
    if (p) return {CacheState::ok, {}};
    return {CacheState::unavailable, p.error().to_string()};
  }
  auto f = m_fallback->check();
  if (!f)
    return {CacheState::unavailable, p.error().to_string() + "; fallback: " + f.error().to_string()};
  return {CacheState::degraded, m_primary->backend_name() + " unavailable, serving from " +
                                    m_fallback->backend_name() + ": " + p.error().to_string()};
}

std::string FallbackCache::backend_name() const {
  return "fallback(" + m_primary->backend_name() + "," + m_fallback->backend_name() + ")";
}

}  // namespace cartorio::cache
