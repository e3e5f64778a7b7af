// RedisCache beyond the conformance suite: logins, databases, URLs, and what happens when
// Redis is not there. RedisCache.* use the `redis` fixture's server; RedisUrl.* and
// RedisUnreachable.* need no server.
#include "cache/redis/redis_cache.h"

#include "cache_backends.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cartorio::cache::open_redis_cache;
using cartorio::cache::parse_redis_url;
using cartorio::cache::RedisCacheOptions;
using cartorio::cache_test::redis_test_endpoint;
using cartorio::cache_test::redis_test_options;
using cartorio::core::Errc;
using Steady = std::chrono::steady_clock;

std::unique_ptr<cartorio::cache::Cache> open_or_die(const RedisCacheOptions& o) {
  auto c = open_redis_cache(o);
  EXPECT_TRUE(c) << c.error().to_string();
  return c ? std::move(c).value() : nullptr;
}

// --- against the fixture's server -----------------------------------------------------

TEST(RedisCache, Fixture_IsAvailable) {
  auto e = redis_test_endpoint();
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_FALSE(e->password.empty());
}

TEST(RedisCache, WrongPassword_IsRefusedClearly_WithoutQuotingIt) {
  auto o = redis_test_options();
  ASSERT_TRUE(o) << o.error().to_string();
  o->password = "not-the-password-4711";
  auto cache = open_or_die(*o);
  ASSERT_TRUE(cache);
  auto r = cache->check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::store_unavailable);
  EXPECT_NE(r.error().message.find("refused the credentials"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("4711"), std::string::npos) << r.error().message;
}

TEST(RedisCache, MissingPassword_SaysAuthenticationIsRequired) {
  auto o = redis_test_options();
  ASSERT_TRUE(o) << o.error().to_string();
  o->password.clear();
  auto cache = open_or_die(*o);
  ASSERT_TRUE(cache);
  auto r = cache->get("k");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::store_unavailable);
  EXPECT_NE(r.error().message.find("NOAUTH"), std::string::npos) << r.error().message;
}

TEST(RedisCache, AclUser_LogsIn) {
  auto o = redis_test_options();
  ASSERT_TRUE(o) << o.error().to_string();
  o->username = "cartorio";  // created by redis-start, same password
  auto cache = open_or_die(*o);
  ASSERT_TRUE(cache);
  ASSERT_TRUE(cache->set("k", "v", 60s));
  EXPECT_EQ(*cache->get("k"), "v");
}

TEST(RedisCache, Databases_AreSeparate_AndComeFromTheUrl) {
  auto e = redis_test_endpoint();
  ASSERT_TRUE(e) << e.error().to_string();
  auto url = parse_redis_url("redis://:" + e->password + "@" + e->host + ":" + std::to_string(e->port) + "/3");
  ASSERT_TRUE(url) << url.error().to_string();
  EXPECT_EQ(url->database, 3);
  url->key_prefix = cartorio::cache_test::unique_prefix();
  auto db0_options = *url;
  db0_options.database = 0;
  auto db3 = open_or_die(*url);
  auto db0 = open_or_die(db0_options);
  ASSERT_TRUE(db3 && db0);
  ASSERT_TRUE(db3->set("k", "in-3", 60s));
  EXPECT_EQ(*db3->get("k"), "in-3");
  EXPECT_EQ(*db0->get("k"), std::nullopt);
}

TEST(RedisCache, SmallPool_ServesManyThreads) {
  auto o = redis_test_options();
  ASSERT_TRUE(o) << o.error().to_string();
  o->pool_size = 1;
  auto cache = open_or_die(*o);
  ASSERT_TRUE(cache);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
        if (!cache->set(key, key, 60s)) ++failures;
        auto v = cache->get(key);
        if (!v || *v != key) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(RedisCache, Keys_LiveUnderThePrefix) {
  auto o = redis_test_options();
  ASSERT_TRUE(o) << o.error().to_string();
  auto cache = open_or_die(*o);
  ASSERT_TRUE(cache);
  ASSERT_TRUE(cache->set("visible", "v", 60s));
  auto e = *redis_test_endpoint();
  auto out = cartorio::testing::run("REDISCLI_AUTH=" + e.password + " redis-cli --no-auth-warning -h " + e.host +
                                    " -p " + std::to_string(e.port) + " --raw GET " +
                                    cartorio::testing::shell_quote(o->key_prefix + "v:visible"));
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, "v\n");
}

// --- no server ------------------------------------------------------------------------

TEST(RedisUnreachable, ClosedPort_FailsFast_WithStoreUnavailable) {
  RedisCacheOptions o;
  o.port = cartorio::cache_test::closed_port();
  auto cache = open_or_die(o);
  ASSERT_TRUE(cache);
  const auto start = Steady::now();
  auto r = cache->get("k");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::store_unavailable);
  EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(o.port)), std::string::npos) << r.error().message;
  // Within the backoff the next calls do not even try.
  for (int i = 0; i < 100; ++i) {
    auto again = cache->set("k", "v", 60s);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::store_unavailable);
  }
  EXPECT_FALSE(cache->check());
  EXPECT_LT(Steady::now() - start, 2s);
  EXPECT_EQ(cache->health().state, cartorio::cache::CacheState::unavailable);
}

TEST(RedisUnreachable, BlackholedAddress_TimesOutOnTheConnectTimeout) {
  // 192.0.2.0/24 is TEST-NET-1: nothing answers, so connect() waits for the timeout.
  RedisCacheOptions o;
  o.host = "192.0.2.1";
  o.connect_timeout = 200ms;
  auto cache = open_or_die(o);
  ASSERT_TRUE(cache);
  const auto start = Steady::now();
  auto r = cache->check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::store_unavailable);
  EXPECT_LT(Steady::now() - start, 2s);
}

TEST(RedisUnreachable, Open_RejectsBadOptions) {
  RedisCacheOptions o;
  o.port = 0;
  EXPECT_EQ(open_redis_cache(o).error().code, Errc::invalid_argument);
  o = {};
  o.pool_size = 0;
  EXPECT_EQ(open_redis_cache(o).error().code, Errc::invalid_argument);
  o = {};
  o.command_timeout = 0ms;
  EXPECT_EQ(open_redis_cache(o).error().code, Errc::invalid_argument);
  o = {};
  o.username = "alice";
  EXPECT_EQ(open_redis_cache(o).error().code, Errc::invalid_argument);
  o = {};
  o.host.clear();
  EXPECT_EQ(open_redis_cache(o).error().code, Errc::invalid_argument);
}

TEST(RedisUrl, ParsesEveryPart) {
  auto o = parse_redis_url("redis://app:s%40cr%3At@cache.internal:6380/2");
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->username, "app");
  EXPECT_EQ(o->password, "s@cr:t");
  EXPECT_EQ(o->host, "cache.internal");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->database, 2);
  EXPECT_EQ(o->key_prefix, "cartorio:");
}

TEST(RedisUrl, AppliesDefaults) {
  auto o = parse_redis_url("redis://localhost");
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->host, "localhost");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->database, 0);
  EXPECT_TRUE(o->username.empty());
  EXPECT_TRUE(o->password.empty());
}

TEST(RedisUrl, PasswordOnly_AndIpv6) {
  auto o = parse_redis_url("redis://:pw@[::1]:7000");
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 7000);
  EXPECT_TRUE(o->username.empty());
  EXPECT_EQ(o->password, "pw");
}

TEST(RedisUrl, Rejects_Malformed_WithoutQuotingThePassword) {
  for (const char* bad : {"http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h:x",
                          "redis://h/db", "redis://h/-1", "redis://user@h", "redis://u:p%zz@h", "redis://[::1",
                          "redis://h:"}) {
    auto r = parse_redis_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << bad;
  }
  auto r = parse_redis_url("redis://u:topsecret@h:notaport");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("topsecret"), std::string::npos);
}

TEST(RedisUrl, Tls_IsNotSupported) {
  auto r = parse_redis_url("rediss://h:6380");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_supported);
}

}  // namespace
