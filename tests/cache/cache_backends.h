// The backends the Cache conformance suite runs on. Each opens caches with a private key
// prefix (tests share the Redis server, also with parallel ctest runs) and moves time on:
// the memory backends advance a ManualClock, the Redis one sleeps (Redis keeps its own time).
#pragma once

#include "cache/cache.h"
#include "cache/fallback_cache.h"
#include "cache/memory/memory_cache.h"
#include "cache/redis/redis_cache.h"
#include "core/clock.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace cartorio::cache_test {

inline constexpr const char* kRedisEndpointFileEnv = "CARTORIO_TEST_REDIS_ENDPOINT_FILE";

struct RedisEndpoint {
  std::string host;
  int port = 0;
  std::string password;  // from the `password` file beside the endpoint file
};

// The fixture's server. Errc::config_invalid, with a message saying how to run the test,
// when the environment variable or its files are missing: Redis tests fail, never skip.
core::Result<RedisEndpoint> redis_test_endpoint();

// "cartorio-test:<random>:": a fresh namespace per test.
std::string unique_prefix();

// A loopback port nothing listens on (bound, then closed).
int closed_port();

// Options for the fixture's server under a fresh prefix, timeouts generous enough for
// sanitizer builds on a loaded machine.
core::Result<cache::RedisCacheOptions> redis_test_options();

class MemoryBackend {
 public:
  static constexpr const char* kBackendName = "memory";
  core::Result<void> prepare() { return core::ok(); }
  // Separate instances never share entries, whatever the prefix.
  core::Result<std::unique_ptr<cache::Cache>> open(const std::string& /*prefix*/) {
    return std::unique_ptr<cache::Cache>(std::make_unique<cache::MemoryCache>(cache::MemoryCacheOptions{}, m_clock));
  }
  void advance(std::chrono::milliseconds d) { m_clock.advance(d); }

 private:
  core::ManualClock m_clock{core::TimePoint(std::chrono::seconds(1'700'000'000))};
};

class RedisBackend {
 public:
  static constexpr const char* kBackendName = "redis";
  core::Result<void> prepare() {
    CARTORIO_TRY(m_options, redis_test_options());
    return core::ok();
  }
  core::Result<std::unique_ptr<cache::Cache>> open(const std::string& prefix) {
    auto o = m_options;
    o.key_prefix += prefix;
    return cache::open_redis_cache(o);
  }
  void advance(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }
  const cache::RedisCacheOptions& options() const { return m_options; }

 private:
  cache::RedisCacheOptions m_options;
};

// The decorator over two memory caches: the contract must survive the wrapping.
class FallbackBackend {
 public:
  static constexpr const char* kBackendName = "fallback(memory,memory)";
  core::Result<void> prepare() { return core::ok(); }
  core::Result<std::unique_ptr<cache::Cache>> open(const std::string& prefix) {
    CARTORIO_TRY(auto primary, m_primary.open(prefix));
    CARTORIO_TRY(auto fallback, m_primary.open(prefix));
    return std::unique_ptr<cache::Cache>(std::make_unique<cache::FallbackCache>(std::move(primary), std::move(fallback)));
  }
  void advance(std::chrono::milliseconds d) { m_primary.advance(d); }

 private:
  MemoryBackend m_primary;  // one clock for both
};

// The decorator while Redis is down (a closed port): every answer comes from memory.
class DeadRedisFallbackBackend {
 public:
  static constexpr const char* kBackendName = "fallback(redis,memory)";
  core::Result<void> prepare() { return core::ok(); }
  core::Result<std::unique_ptr<cache::Cache>> open(const std::string& prefix) {
    cache::RedisCacheOptions o;
    o.port = closed_port();
    o.key_prefix = "cartorio-test:" + prefix;
    CARTORIO_TRY(auto primary, cache::open_redis_cache(o));
    CARTORIO_TRY(auto fallback, m_memory.open(prefix));
    return std::unique_ptr<cache::Cache>(std::make_unique<cache::FallbackCache>(std::move(primary), std::move(fallback)));
  }
  void advance(std::chrono::milliseconds d) { m_memory.advance(d); }

 private:
  MemoryBackend m_memory;
};

}  // namespace cartorio::cache_test
