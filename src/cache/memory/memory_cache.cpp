#include "cache/memory/memory_cache.h"

#include <algorithm>
#include <cmath>

namespace cartorio::cache {
namespace {

// Values and buckets in separate namespaces, as in Redis (cache.h).
std::string value_key(std::string_view key) { return "v:" + std::string(key); }
std::string bucket_key(std::string_view bucket) { return "tb:" + std::string(bucket); }

std::chrono::milliseconds ceil_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace

MemoryCache::MemoryCache(MemoryCacheOptions options, const core::Clock& clock)
    : m_max_entries(std::max<std::size_t>(options.max_entries, 1)), m_clock(clock) {}

MemoryCache::Entry* MemoryCache::find_live(State& s, const std::string& key, core::TimePoint now) {
  auto it = s.entries.find(key);
  if (it == s.entries.end()) return nullptr;
  if (it->second.expires <= now) {
    remove(s, it);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
  return &it->second;
}

void MemoryCache::remove(State& s, std::unordered_map<std::string, Entry>::iterator it) {
  s.lru.erase(it->second.lru);
  s.by_expiry.erase(it->second.expiry);
  s.entries.erase(it);
}

void MemoryCache::purge_expired(State& s, core::TimePoint now) {
  while (!s.by_expiry.empty() && s.by_expiry.begin()->first <= now)
    remove(s, s.entries.find(*s.by_expiry.begin()->second));
}

void MemoryCache::make_room(State& s, core::TimePoint now) const {
  if (s.entries.size() < m_max_entries) return;
  purge_expired(s, now);
  while (s.entries.size() >= m_max_entries) remove(s, s.entries.find(*s.lru.back()));
}

void MemoryCache::store(State& s, const std::string& key, std::variant<std::string, BucketState> data,
                        core::TimePoint expires) {
  auto it = s.entries.find(key);
  if (it != s.entries.end()) {
    Entry& e = it->second;
    e.data = std::move(data);
    e.expires = expires;
    s.by_expiry.erase(e.expiry);
    e.expiry = s.by_expiry.emplace(expires, &it->first);
    s.lru.splice(s.lru.begin(), s.lru, e.lru);
    return;
  }
  auto [pos, inserted] = s.entries.emplace(key, Entry{std::move(data), expires, {}, {}});
  (void)inserted;
  s.lru.push_front(&pos->first);
  pos->second.lru = s.lru.begin();
  pos->second.expiry = s.by_expiry.emplace(expires, &pos->first);
}

core::Result<std::optional<std::string>> MemoryCache::get(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const auto now = m_clock.now();
  auto s = m_state.lock();
  Entry* e = find_live(*s, value_key(key), now);
  if (!e) return std::optional<std::string>();
  return std::optional<std::string>(std::get<std::string>(e->data));
}

core::Result<void> MemoryCache::set(std::string_view key, std::string_view value, Ttl ttl) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_ttl(ttl));
  const auto now = m_clock.now();
  const std::string k = value_key(key);
  auto s = m_state.lock();
  if (s->entries.find(k) == s->entries.end()) make_room(*s, now);
  store(*s, k, std::string(value), now + ttl);
  return core::ok();
}

core::Result<bool> MemoryCache::erase(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const auto now = m_clock.now();
  auto s = m_state.lock();
  auto it = s->entries.find(value_key(key));
  if (it == s->entries.end()) return false;
  const bool live = it->second.expires > now;
  remove(*s, it);
  return live;
}

core::Result<bool> MemoryCache::set_if_absent(std::string_view key, std::string_view value, Ttl ttl) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_ttl(ttl));
  const auto now = m_clock.now();
  const std::string k = value_key(key);
  auto s = m_state.lock();
  if (find_live(*s, k, now)) return false;
  make_room(*s, now);
  store(*s, k, std::string(value), now + ttl);
  return true;
}

core::Result<TokenGrant> MemoryCache::take_token(std::string_view bucket, const TokenBucket& spec,
                                                 std::int64_t cost) {
  CARTORIO_TRY_VOID(check_bucket(bucket, spec, cost));
  const auto now = m_clock.now();
  const std::string k = bucket_key(bucket);
  const double capacity = static_cast<double>(spec.capacity);
  auto s = m_state.lock();

  BucketState b{capacity, now};
  if (Entry* e = find_live(*s, k, now)) {
    b = std::get<BucketState>(e->data);
    // A clock that steps back refills nothing (and takes nothing away).
    if (now > b.last) {
      const double elapsed = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(capacity, b.tokens + elapsed * spec.refill_per_second);
      b.last = now;
    }
  } else {
    make_room(*s, now);
  }

  TokenGrant grant;
  const auto needed = static_cast<double>(cost);
  if (b.tokens >= needed) {
    b.tokens -= needed;
    grant.allowed = true;
  } else {
    grant.retry_after = std::max(std::chrono::milliseconds(1), ceil_ms((needed - b.tokens) / spec.refill_per_second));
  }
  grant.remaining = static_cast<std::int64_t>(std::floor(b.tokens));
  // Once full again the bucket equals a fresh one: it may be forgotten from then on.
  const auto until_full = ceil_ms((capacity - b.tokens) / spec.refill_per_second) + std::chrono::milliseconds(1);
  store(*s, k, b, now + until_full);
  return grant;
}

core::Result<void> MemoryCache::check() { return core::ok(); }

std::size_t MemoryCache::size() { return m_state.lock()->entries.size(); }

}  // namespace cartorio::cache
