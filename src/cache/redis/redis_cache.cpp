#include "cache/redis/redis_cache.h"

#include "core/log.h"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace cartorio::cache {
namespace {

using core::Errc;
using core::Error;
using Steady = std::chrono::steady_clock;

struct ContextFree {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
struct ReplyFree {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string reply_text(const redisReply* r) {
  return r && r->str ? std::string(r->str, r->len) : std::string();
}

// Token bucket, atomic on the server. KEYS[1] the bucket hash; ARGV capacity, refill per
// millisecond, cost. Time is the server's (TIME; scripts are replicated by effects on
// Redis >= 5), so instances with skewed clocks share one bucket correctly.
// Returns {allowed 0|1, whole tokens left, ms until `cost` tokens are available}.
constexpr std::string_view kTokenScript = R"lua(
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.max(1, math.ceil((cost - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 1)
return {allowed, math.floor(tokens), wait}
)lua";

class RedisCache;

// A connection borrowed from the pool; goes back on destruction unless marked broken.
class Lease {
 public:
  Lease(RedisCache& owner, ContextPtr ctx) : m_owner(&owner), m_ctx(std::move(ctx)) {}
  Lease(Lease&& other) noexcept
      : m_owner(std::exchange(other.m_owner, nullptr)), m_ctx(std::move(other.m_ctx)), m_broken(other.m_broken) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease();

  redisContext* get() const { return m_ctx.get(); }
  void mark_broken() { m_broken = true; }

 private:
  RedisCache* m_owner;
  ContextPtr m_ctx;
  bool m_broken = false;
};

class RedisCache final : public Cache {
 public:
  explicit RedisCache(RedisCacheOptions options)
      : m_options(std::move(options)),
        m_where(m_options.host + ":" + std::to_string(m_options.port)) {}

  core::Result<std::optional<std::string>> get(std::string_view key) override {
    CARTORIO_TRY_VOID(check_key(key));
    const std::string k = value_key(key);
    CARTORIO_TRY(auto reply, command("GET", {"GET", k}));
    if (reply->type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (reply->type != REDIS_REPLY_STRING) return unexpected("GET", reply.get());
    return std::optional<std::string>(reply_text(reply.get()));
  }

  core::Result<void> set(std::string_view key, std::string_view value, Ttl ttl) override {
    CARTORIO_TRY_VOID(check_key(key));
    CARTORIO_TRY_VOID(check_ttl(ttl));
    const std::string k = value_key(key);
    const std::string px = std::to_string(ttl.count());
    CARTORIO_TRY(auto reply, command("SET", {"SET", k, value, "PX", px}));
    if (reply->type != REDIS_REPLY_STATUS) return unexpected("SET", reply.get());
    return core::ok();
  }

  core::Result<bool> erase(std::string_view key) override {
    CARTORIO_TRY_VOID(check_key(key));
    const std::string k = value_key(key);
    CARTORIO_TRY(auto reply, command("DEL", {"DEL", k}));
    if (reply->type != REDIS_REPLY_INTEGER) return unexpected("DEL", reply.get());
    return reply->integer > 0;
  }

  core::Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) override {
    CARTORIO_TRY_VOID(check_key(key));
    CARTORIO_TRY_VOID(check_ttl(ttl));
    const std::string k = value_key(key);
    const std::string px = std::to_string(ttl.count());
    CARTORIO_TRY(auto reply, command("SET NX", {"SET", k, value, "NX", "PX", px}));
    if (reply->type == REDIS_REPLY_NIL) return false;
    if (reply->type != REDIS_REPLY_STATUS) return unexpected("SET NX", reply.get());
    return true;
  }

  core::Result<TokenGrant> take_token(std::string_view bucket, const TokenBucket& spec,
                                      std::int64_t cost) override {
    CARTORIO_TRY_VOID(check_bucket(bucket, spec, cost));
    const std::string k = bucket_key(bucket);
    const std::string capacity = std::to_string(spec.capacity);
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.17g", spec.refill_per_second / 1000.0);
    const std::string cost_text = std::to_string(cost);

    CARTORIO_TRY(auto lease, acquire());
    std::string sha = script_sha();
    ReplyPtr reply;
    if (!sha.empty()) {
      auto r = send(lease, "EVALSHA", {"EVALSHA", sha, "1", k, capacity, rate, cost_text});
      if (!r) return std::move(r).error();
      reply = std::move(r).value();
      if (reply->type == REDIS_REPLY_ERROR && reply_text(reply.get()).starts_with("NOSCRIPT")) reply.reset();
    } else {
      // Loading it once lets later calls send 40 bytes instead of the script. A server
      // that refuses SCRIPT (ACL) still runs EVAL below.
      auto loaded = send(lease, "SCRIPT LOAD", {"SCRIPT", "LOAD", kTokenScript});
      if (!loaded) return std::move(loaded).error();
      if ((*loaded)->type == REDIS_REPLY_STRING) remember_script_sha(reply_text(loaded->get()));
    }
    if (!reply) {
      auto r = send(lease, "EVAL", {"EVAL", kTokenScript, "1", k, capacity, rate, cost_text});
      if (!r) return std::move(r).error();
      reply = std::move(r).value();
    }
    if (reply->type == REDIS_REPLY_ERROR) return server_error("token bucket script", reply.get());
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_INTEGER ||
        reply->element[2]->type != REDIS_REPLY_INTEGER)
      return unexpected("token bucket script", reply.get());
    TokenGrant grant;
    grant.allowed = reply->element[0]->integer == 1;
    grant.remaining = reply->element[1]->integer;
    grant.retry_after = std::chrono::milliseconds(reply->element[2]->integer);
    return grant;
  }

  core::Result<void> check() override {
    CARTORIO_TRY(auto reply, command("PING", {"PING"}));
    if (reply->type != REDIS_REPLY_STATUS) return unexpected("PING", reply.get());
    return core::ok();
  }

  std::string backend_name() const override { return "redis"; }

  // Called by ~Lease.
  void release(ContextPtr ctx, bool broken) noexcept {
    std::lock_guard lock(m_pool_mutex);
    if (broken || !ctx || ctx->err) {
      --m_open;
    } else {
      m_idle.push_back(std::move(ctx));
    }
    m_pool_cv.notify_one();
  }

 private:
  std::string value_key(std::string_view key) const { return m_options.key_prefix + "v:" + std::string(key); }
  std::string bucket_key(std::string_view b) const { return m_options.key_prefix + "tb:" + std::string(b); }

  std::string script_sha() {
    std::lock_guard lock(m_pool_mutex);
    return m_script_sha;
  }
  void remember_script_sha(std::string sha) {
    std::lock_guard lock(m_pool_mutex);
    m_script_sha = std::move(sha);
  }

  Error unavailable(std::string what) const {
    return Error(Errc::store_unavailable, "redis at " + m_where + ": " + std::move(what));
  }
  Error unexpected(std::string_view op, const redisReply* r) const {
    if (r && r->type == REDIS_REPLY_ERROR) return server_error(op, r);
    return Error(Errc::store_error, "redis at " + m_where + ": unexpected reply type " +
                                        std::to_string(r ? r->type : -1) + " to " + std::string(op));
  }
  // An error reply. Those meaning "not usable now" (login, loading, failover) are
  // store_unavailable; the rest store_error. Server messages never hold our password.
  Error server_error(std::string_view op, const redisReply* r) const {
    const std::string text = reply_text(r);
    for (const char* prefix : {"NOAUTH", "WRONGPASS", "NOPERM", "LOADING", "BUSY", "MASTERDOWN", "READONLY"}) {
      if (text.starts_with(prefix))
        return unavailable(std::string(op) + " refused: " + text);
    }
    return Error(Errc::store_error, "redis at " + m_where + ": " + std::string(op) + " failed: " + text);
  }

  // Sends one command on a leased connection. A transport failure (refused, reset,
  // timeout) breaks the connection; an error *reply* is returned as a reply.
  core::Result<ReplyPtr> send(Lease& lease, std::string_view op, std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisContext* c = lease.get();
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!reply || c->err) {
      lease.mark_broken();
      std::string why = c->err ? std::string(c->errstr) : "no reply";
      if (c->err == REDIS_ERR_IO && (why.find("temporarily unavailable") != std::string::npos ||
                                     why.find("timed out") != std::string::npos))
        why = "no reply within " + std::to_string(m_options.command_timeout.count()) + " ms";
      return unavailable(std::string(op) + " failed: " + why);
    }
    return reply;
  }

  // One command on a pooled connection; error replies become errors.
  core::Result<ReplyPtr> command(std::string_view op, std::initializer_list<std::string_view> args) {
    CARTORIO_TRY(auto lease, acquire());
    CARTORIO_TRY(auto reply, send(lease, op, args));
    if (reply->type == REDIS_REPLY_ERROR) return server_error(op, reply.get());
    return reply;
  }

  core::Result<Lease> acquire() {
    std::unique_lock lock(m_pool_mutex);
    const auto deadline = Steady::now() + m_options.command_timeout;
    for (;;) {
      if (!m_idle.empty()) {
        ContextPtr ctx = std::move(m_idle.back());
        m_idle.pop_back();
        return Lease(*this, std::move(ctx));
      }
      const auto now = Steady::now();
      if (now < m_down_until)
        return unavailable(m_last_failure + " (next attempt in " +
                           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(m_down_until - now).count()) +
                           " ms)");
      if (m_open < m_options.pool_size) {
        ++m_open;
        lock.unlock();
        auto ctx = connect();
        lock.lock();
        if (!ctx) {
          --m_open;
          m_down_until = Steady::now() + m_options.reconnect_backoff;
          m_last_failure = ctx.error().message;
          m_pool_cv.notify_all();
          core::log::warn("redis cache unavailable", {{"endpoint", m_where}, {"error", m_last_failure}});
          return unavailable(m_last_failure);
        }
        return Lease(*this, std::move(ctx).value());
      }
      if (m_pool_cv.wait_until(lock, deadline) == std::cv_status::timeout && m_idle.empty() &&
          m_open >= m_options.pool_size)
        return unavailable("all " + std::to_string(m_options.pool_size) + " connections busy for " +
                           std::to_string(m_options.command_timeout.count()) + " ms");
    }
  }

  // A new connection, logged in and on the right database. The message (without the
  // endpoint) says why it failed.
  core::Result<ContextPtr> connect() {
    ContextPtr ctx(redisConnectWithTimeout(m_options.host.c_str(), m_options.port,
                                           to_timeval(m_options.connect_timeout)));
    if (!ctx) return Error(Errc::store_unavailable, "cannot allocate a connection");
    if (ctx->err) {
      std::string why = ctx->errstr;
      if (ctx->err == REDIS_ERR_IO && (why.find("timed out") != std::string::npos ||
                                       why.find("temporarily unavailable") != std::string::npos ||
                                       why.find("in progress") != std::string::npos))
        why = "no connection within " + std::to_string(m_options.connect_timeout.count()) + " ms";
      return Error(Errc::store_unavailable, "cannot connect: " + why);
    }
    if (redisSetTimeout(ctx.get(), to_timeval(m_options.command_timeout)) != REDIS_OK)
      return Error(Errc::store_unavailable, "cannot set the command timeout");

    auto call = [&](std::initializer_list<std::string_view> args) -> ReplyPtr {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      return ReplyPtr(static_cast<redisReply*>(
          redisCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
    };
    if (!m_options.password.empty()) {
      ReplyPtr r = m_options.username.empty() ? call({"AUTH", m_options.password})
                                              : call({"AUTH", m_options.username, m_options.password});
      if (!r || ctx->err) return Error(Errc::store_unavailable, "AUTH failed: " + std::string(ctx->errstr));
      if (r->type == REDIS_REPLY_ERROR)
        return Error(Errc::store_unavailable,
                     "the server refused the credentials" +
                         (m_options.username.empty() ? std::string() : " of user '" + m_options.username + "'") +
                         " (AUTH: " + reply_text(r.get()) + ")");
    }
    if (m_options.database != 0) {
      ReplyPtr r = call({"SELECT", std::to_string(m_options.database)});
      if (!r || ctx->err) return Error(Errc::store_unavailable, "SELECT failed: " + std::string(ctx->errstr));
      if (r->type == REDIS_REPLY_ERROR)
        return Error(Errc::store_unavailable, "SELECT " + std::to_string(m_options.database) +
                                                  " refused: " + reply_text(r.get()));
    }
    return ctx;
  }

  const RedisCacheOptions m_options;
  const std::string m_where;  // host:port, for messages

  std::mutex m_pool_mutex;  // guards everything below
  std::condition_variable m_pool_cv;
  std::vector<ContextPtr> m_idle;
  int m_open = 0;  // leased + idle
  Steady::time_point m_down_until{};
  std::string m_last_failure;
  std::string m_script_sha;
};

Lease::~Lease() {
  if (m_owner) m_owner->release(std::move(m_ctx), m_broken);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

core::Result<RedisCacheOptions> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.starts_with("rediss://"))
    return Error(Errc::not_supported, "rediss:// (Redis over TLS) is not supported by this build; use redis://");
  if (!url.starts_with(kScheme))
    return Error(Errc::invalid_argument, "a Redis URL starts with redis://");
  std::string_view rest = url.substr(kScheme.size());
  RedisCacheOptions o;

  // The password may hold '@' only percent-encoded: the last '@' ends the userinfo.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos)
      return Error(Errc::invalid_argument, "Redis URL: userinfo must be user:password or :password");
    auto user = percent_decode(userinfo.substr(0, colon));
    auto pass = percent_decode(userinfo.substr(colon + 1));
    if (!user || !pass) return Error(Errc::invalid_argument, "Redis URL: bad percent-encoding in the userinfo");
    o.username = std::move(*user);
    o.password = std::move(*pass);
  }
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with('[')) {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return Error(Errc::invalid_argument, "Redis URL: unterminated [IPv6] host");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Error(Errc::invalid_argument, "Redis URL: junk after the [IPv6] host");
      port = after.substr(1);
      if (port.empty()) return Error(Errc::invalid_argument, "Redis URL: empty port");
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return Error(Errc::invalid_argument, "Redis URL: empty port");
  }
  if (host.empty()) return Error(Errc::invalid_argument, "Redis URL: missing host");
  o.host = std::string(host);
  if (!port.empty()) {
    auto p = parse_int(port);
    if (!p || *p < 1 || *p > 65535) return Error(Errc::invalid_argument, "Redis URL: port must be 1..65535");
    o.port = *p;
  }
  if (!path.empty()) {
    auto db = parse_int(path);
    if (!db || *db < 0) return Error(Errc::invalid_argument, "Redis URL: the path must be a database number");
    o.database = *db;
  }
  return o;
}

core::Result<std::unique_ptr<Cache>> open_redis_cache(const RedisCacheOptions& options) {
  if (options.host.empty()) return Error(Errc::invalid_argument, "redis cache: host is empty");
  if (options.port < 1 || options.port > 65535) return Error(Errc::invalid_argument, "redis cache: port must be 1..65535");
  if (options.database < 0) return Error(Errc::invalid_argument, "redis cache: database must be >= 0");
  if (options.pool_size < 1 || options.pool_size > 256)
    return Error(Errc::invalid_argument, "redis cache: pool_size must be 1..256");
  if (options.connect_timeout <= std::chrono::milliseconds::zero() ||
      options.command_timeout <= std::chrono::milliseconds::zero())
    return Error(Errc::invalid_argument, "redis cache: connect_timeout and command_timeout must be positive");
  if (options.reconnect_backoff < std::chrono::milliseconds::zero())
    return Error(Errc::invalid_argument, "redis cache: reconnect_backoff must not be negative");
  if (!options.username.empty() && options.password.empty())
    return Error(Errc::invalid_argument, "redis cache: a username needs a password");
  return std::unique_ptr<Cache>(std::make_unique<RedisCache>(options));
}

}  // namespace cartorio::cache
