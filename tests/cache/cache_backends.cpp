#include "cache_backends.h"

#include "support/test_support.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <random>

namespace cartorio::cache_test {

using core::Errc;

core::Result<RedisEndpoint> redis_test_endpoint() {
  const char* file = std::getenv(kRedisEndpointFileEnv);
  if (!file || !*file)
    return core::Error(Errc::config_invalid,
                       std::string(kRedisEndpointFileEnv) +
                           " is not set: Redis tests must run under ctest, which starts the server "
                           "(fixture.redis.start, FIXTURES_REQUIRED redis)");
  const std::filesystem::path endpoint_file(file);
  if (!std::filesystem::exists(endpoint_file))
    return core::Error(Errc::config_invalid, std::string(kRedisEndpointFileEnv) + " names " + file +
                                                 ", which does not exist: did fixture.redis.start fail?");
  auto endpoint = testing::read_env_file(kRedisEndpointFileEnv).value_or("");
  auto colon = endpoint.rfind(':');
  RedisEndpoint e;
  if (colon == std::string::npos ||
      std::from_chars(endpoint.data() + colon + 1, endpoint.data() + endpoint.size(), e.port).ec != std::errc())
    return core::Error(Errc::config_invalid, std::string(file) + " does not hold HOST:PORT (got '" + endpoint + "')");
  e.host = endpoint.substr(0, colon);
  const auto password_file = endpoint_file.parent_path() / "password";
  if (std::filesystem::exists(password_file)) {
    e.password = testing::read_file(password_file);
    while (!e.password.empty() && (e.password.back() == '\n' || e.password.back() == ' ')) e.password.pop_back();
  }
  return e;
}

std::string unique_prefix() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string p = "cartorio-test:";
  for (int i = 0; i < 16; ++i) p.push_back(kHex[rd() % 16]);
  return p + ":";
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 1;  // nothing listens on tcpmux either
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

core::Result<cache::RedisCacheOptions> redis_test_options() {
  CARTORIO_TRY(auto e, redis_test_endpoint());
  cache::RedisCacheOptions o;
  o.host = e.host;
  o.port = e.port;
  o.password = e.password;
  o.key_prefix = unique_prefix();
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.command_timeout = std::chrono::milliseconds(5000);
  return o;
}

}  // namespace cartorio::cache_test
