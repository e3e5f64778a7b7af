// The service rides out a restart of its engines: `cartorio serve` on PostgreSQL and Redis of
// its own (started here, not the shared fixtures, since this test restarts them) issues
// certificates through the API from a client thread while PostgreSQL and then Redis are
// restarted. Afterwards every certificate whose issuance was acknowledged (201) is in the
// database, and the same server process answers again (issuance and /readyz), never
// restarted. Requests in flight during a restart may fail; none may be lost once answered.
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace {

using cartorio::testing::trim;
using cartorio::testing::CommandResult;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class CliRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path d = m_dir.path();
    auto r = run(fixture("pg-start") + " " + shell_quote((d / "pg").string()));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    m_pg_started = true;
    r = run(fixture("redis-start") + " " + shell_quote((d / "redis").string()));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    m_redis_started = true;
    m_conninfo = trim(read_file(d / "pg" / "conninfo"));
    const std::string redis_url =
        "redis://:" + trim(read_file(d / "redis" / "password")) + "@" + trim(read_file(d / "redis" / "endpoint"));
    m_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='restart test 2026' CARTORIO_STORE_BACKEND=postgres"
            " CARTORIO_STORE_POSTGRES_URL=" + shell_quote(m_conninfo) +
            " CARTORIO_CACHE_BACKEND=redis CARTORIO_CACHE_REDIS_URL=" + shell_quote(redis_url) + " ";
    r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    m_root = json::parse(r.out)["root_certificate"].get<std::string>();
    r = cli("apikey create --name loader --role service --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    m_key = json::parse(r.out)["key"].get<std::string>();
    r = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
            shell_quote((d / "svc.key").string()) + " -subj /CN=svc.notary.test -addext subjectAltName=DNS:svc.notary.test"
            " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json body{{"profile", "tls-server"}, {"csr", r.out}};
    cartorio::testing::write_file(d / "issue.json", body.dump());
    auto served = cartorio::testing::start_serve(m_env, CARTORIO_BIN, d / "serve.log");
    m_pid = served.pid;
    m_https = served.https;
    ASSERT_FALSE(m_https.empty()) << read_file(d / "serve.log");
  }

  void TearDown() override {
    if (!m_pid.empty()) run("kill -9 " + m_pid + " 2>/dev/null || true");
    if (m_redis_started) run(fixture("redis-stop") + " " + shell_quote((m_dir.path() / "redis").string()));
    if (m_pg_started) run(fixture("pg-stop") + " " + shell_quote((m_dir.path() / "pg").string()));
  }

  static std::string fixture(const char* name) { return std::string(CARTORIO_FIXTURES_DIR) + "/" + name; }
  CommandResult cli(const std::string& args) { return run(m_env + CARTORIO_BIN " " + args); }

  // One issuance through the API: its serial when answered 201, else empty.
  std::string issue() {
    auto r = run("curl -s --max-time 20 --cacert " + shell_quote(m_root) + " -H 'X-API-Key: " + m_key +
                 "' -H 'Content-Type: application/json' --data-binary @" +
                 shell_quote((m_dir.path() / "issue.json").string()) + " -w '\\n%{http_code}' " +
                 shell_quote(m_https + "/api/v1/certificates"));
    const auto nl = r.out.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos || r.out.substr(nl + 1) != "201") return {};
    auto j = json::parse(r.out.substr(0, nl), nullptr, false);
    return j.is_object() && j.contains("serial") ? j["serial"].get<std::string>() : std::string();
  }

  int status_of(const std::string& path) {
    auto r = run("curl -s -o /dev/null --max-time 10 --cacert " + shell_quote(m_root) + " -w '%{http_code}' " +
                 shell_quote(m_https + path));
    return std::atoi(r.out.c_str());
  }

  TempDir m_dir;
  bool m_pg_started = false, m_redis_started = false;
  std::string m_conninfo, m_env, m_root, m_key, m_pid, m_https;
};

TEST_F(CliRestart, AcknowledgedIssuances_SurviveEngineRestarts_AndTheServerAnswersAgain) {
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> failed{0};
  std::atomic<bool> stop{false};
  std::thread client([&] {
    while (!stop) {
      auto serial = issue();
      std::lock_guard lock(mu);
      if (serial.empty()) {
        ++failed;
      } else {
        acknowledged.push_back(serial);
      }
    }
  });
  auto acknowledged_count = [&] {
    std::lock_guard lock(mu);
    return acknowledged.size();
  };
  auto wait_for_more = [&](std::size_t n, std::chrono::seconds within) {
    const auto until = std::chrono::steady_clock::now() + within;
    const std::size_t target = acknowledged_count() + n;
    while (acknowledged_count() < target && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
    return acknowledged_count() >= target;
  };

  ASSERT_TRUE(wait_for_more(10, 60s)) << "no issuance before the restarts";
  auto r = run(fixture("pg-restart") + " " + shell_quote((m_dir.path() / "pg").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(wait_for_more(5, 60s)) << "issuance did not resume after the PostgreSQL restart";
  r = run(fixture("redis-restart") + " " + shell_quote((m_dir.path() / "redis").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(wait_for_more(5, 60s)) << "issuance did not resume after the Redis restart";
  stop = true;
  client.join();

  // The same process: never restarted.
  EXPECT_EQ(run("kill -0 " + m_pid).exit_code, 0) << "the server exited";
  EXPECT_EQ(status_of("/readyz"), 200);

  // Every acknowledged certificate is in the database, read with PostgreSQL's own client.
  std::vector<std::string> serials;
  {
    std::lock_guard lock(mu);
    serials = acknowledged;
  }
  std::string list;
  for (const auto& s : serials) list += (list.empty() ? "'" : ",'") + s + "'";
  r = run("psql " + shell_quote(m_conninfo) + " -Atqc " +
          shell_quote("SELECT count(DISTINCT serial) FROM certificates WHERE serial IN (" + list + ")"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(trim(r.out), std::to_string(serials.size())) << serials.size() << " acknowledged, " << failed
                                                          << " failed during the restarts";
  RecordProperty("acknowledged", static_cast<int>(serials.size()));
  RecordProperty("failed_during_restarts", failed.load());
}

}  // namespace
