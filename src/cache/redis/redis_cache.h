// The production cache: Redis (any 6.x/7.x server, or a compatible one) through hiredis,
// shared by every instance of the service.
//
// Layout on the server: values at "<key_prefix>v:<key>" (plain strings, SET ... PX), token
// buckets at "<key_prefix>tb:<bucket>" (a hash {tokens, ts} updated by one Lua script, run
// with EVALSHA and timed by the server's own clock). Several deployments can share one
// database with different prefixes.
//
// Connections: a pool of at most pool_size hiredis connections, opened on demand. Every
// wait is bounded: connect_timeout for a new connection, command_timeout for each reply
// and for a free pooled connection. A connection that fails is dropped and the next call
// opens a new one; after a failed connect (or a refused login) calls fail fast with
// Errc::store_unavailable for reconnect_backoff, so a dead Redis costs little per request.
// Commands are not retried (a SET NX or a token take may have been applied).
//
// The password is never logged nor put into error messages. hiredis stays in the .cpp.
#pragma once

#include "cache/cache.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace cartorio::cache {

struct RedisCacheOptions {
  std::string host = "127.0.0.1";  // name or address
  int port = 6379;                 // 1..65535
  std::string username;            // ACL user (Redis 6+); empty: the default user
  std::string password;            // empty: no AUTH
  int database = 0;                // SELECT index, >= 0
  std::string key_prefix = "cartorio:";  // namespace of every key this cache touches
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{500};
  std::chrono::milliseconds reconnect_backoff{250};  // fail fast this long after a failed connect
  int pool_size = 4;  // 1..256
};

// Parses redis://[[user]:password@]host[:port][/db] (user and password percent-decoded;
// port defaults to 6379, db to 0) into options with the other fields at their defaults.
// Errc::invalid_argument for anything else; Errc::not_supported for rediss:// (TLS).
// Error messages never quote the password.
core::Result<RedisCacheOptions> parse_redis_url(std::string_view url);

// Validates the options (Errc::invalid_argument) and returns the cache. Does not connect:
// Redis may come up later; check() says whether it answers now.
core::Result<std::unique_ptr<Cache>> open_redis_cache(const RedisCacheOptions& options);

}  // namespace cartorio::cache
