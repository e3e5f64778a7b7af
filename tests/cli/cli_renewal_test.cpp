// cert-expiry-check end to end (issue 7), through the real binary, on SQLite and (with
// CARTORIO_TEST_BACKENDS=postgres) PostgreSQL, judged by openssl s_client / x509:
//   - `serve` presents the managed server-tls certificate (90 days here);
//   - with an injected clock (CARTORIO_FAKE_CLOCK) 31 days before its end nothing is due;
//     29 days before, `cartorio cert renew-due` renews it: a new secret version, the deploy
//     command ran (its marker file holds the new serial and the chain it was given), and the
//     running server presents the new certificate without a restart;
//   - a renewal that fails (the TLS CA's key out of reach for that run) POSTs the failure
//     webhook, with what failed and why, to a receiver in this test, and changes nothing;
//   - `cartorio certs manage` registers a certificate for renewal (the `certs` spelling).
#include "http/server.h"
#include "fixtures/postgres_test_schema.h"
#include "support/cli_test_support.h"
#include "support/loopback_http.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::postgres_mode;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::trim;
using cartorio::testing::write_file;
using nlohmann::json;
namespace fs = std::filesystem;

// RFC 3339 of now + `days`, for CARTORIO_FAKE_CLOCK.
std::string days_from_now(int days) { return cartorio::testing::rfc3339_from_now(days * 86400LL); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A webhook receiver: records every POST body.
class Receiver {
 public:
  Receiver() {
    cartorio::http::Router router;
    EXPECT_TRUE(router.post("/notify", [this](const cartorio::http::Request& req) {
      std::lock_guard lock(m_mutex);
      m_bodies.push_back(json::parse(req.body(), nullptr, false));
      return cartorio::http::Response::text("", 204);
    }));
    m_server = cartorio::testing::start_loopback_server(std::move(router));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/notify"; }
  std::vector<json> bodies() {
    std::lock_guard lock(m_mutex);
    return m_bodies;
  }

 private:
  std::mutex m_mutex;
  std::vector<json> m_bodies;
  std::unique_ptr<cartorio::http::Server> m_server;
};

class CliRenewal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    // The deploy step: a script (run without a shell by cartorio) leaving a marker file.
    const auto script = d / "deploy.sh";
    write_file(script,
               "#!/bin/sh\nset -e\nm=\"" + (d / "deployed").string() + "-$CARTORIO_CERT_NAME-$CARTORIO_CERT_VERSION\"\n"
               "printf '%s %s %s\\n' \"$CARTORIO_CERT_NAME\" \"$CARTORIO_CERT_VERSION\" \"$CARTORIO_CERT_SERIAL\" > \"$m\"\n"
               "cp \"$CARTORIO_CERT_CHAIN_FILE\" \"$m.pem\"\n");
    fs::permissions(script, fs::perms::owner_all);
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='renewal test passphrase 2026'"
            " CARTORIO_SERVER_TLS_CERTIFICATE_DAYS=90 CARTORIO_RENEWAL_RELOAD_SECONDS=1"
            " CARTORIO_RENEWAL_RETRY_ATTEMPTS=2 CARTORIO_RENEWAL_RETRY_BACKOFF_SECONDS=0"
            " CARTORIO_RENEWAL_DEPLOY_COMMAND=" + shell_quote(script.string()) + " ";
    if (postgres_mode()) {
      auto schema = cartorio::testing::PostgresTestSchema::create();
      ASSERT_TRUE(schema) << schema.error().to_string();
      s_schema.emplace(std::move(*schema));
      s_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(s_schema->conninfo()) + " ";
    }
    auto r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_log = d / "serve.log";
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, s_log);
    s_pid = served.pid;
    s_https_port = served.https_port;
    ASSERT_FALSE(served.https.empty()) << read_file(s_log);
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_schema.reset();
    s_dir.reset();
  }

  static CommandResult cli(const std::string& args, const std::string& extra_env = "") {
    return run(s_env + extra_env + " " CARTORIO_BIN " " + args);
  }
  // `cert renew-due` as of `days` from now; its JSON report.
  static json renew_due(int days, const std::string& flags, int expected_exit, const std::string& extra_env = "") {
    auto r = cli("cert renew-due " + flags, "CARTORIO_FAKE_CLOCK=" + days_from_now(days) + " " + extra_env);
    EXPECT_EQ(r.exit_code, expected_exit) << r.err << r.out;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    return j.is_object() ? j : json::object();
  }
  static json find(const json& list, const std::string& name) {
    for (const auto& e : list)
      if (e.value("name", "") == name) return e;
    return json();
  }
  // "serial=0A1B..." (openssl x509 -serial) -> "a1b..." (the store's form).
  static std::string serial_of(const CommandResult& r) {
    const std::string out = trim(r.out);
    if (r.exit_code != 0 || out.rfind("serial=", 0) != 0) return "";
    std::string hex = lower(out.substr(7));
    hex.erase(0, std::min(hex.find_first_not_of('0'), hex.size() - 1));
    return hex;
  }
  // The serial the HTTPS listener presents, by openssl s_client.
  static std::string served_serial() {
    return serial_of(run("openssl s_client -connect 127.0.0.1:" + s_https_port +
                         " -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial"));
  }

  static inline std::unique_ptr<TempDir> s_dir;
  static inline std::string s_env, s_pid, s_https_port;
  static inline std::optional<cartorio::testing::PostgresTestSchema> s_schema;
  static inline fs::path s_log;
};

TEST_F(CliRenewal, ServedCertificateIsRenewedDeployedAndReloadedWithoutRestart) {
  auto before = find(renew_due(0, "--dry-run", 0)["checked"], "server-tls");
  ASSERT_TRUE(before.is_object()) << "serve did not store its certificate as server-tls";
  const std::string old_serial = before["serial"];
  EXPECT_EQ(served_serial(), old_serial);

  // 31 days before the end of a 90-day certificate: not due.
  auto early = renew_due(59, "", 0);
  EXPECT_FALSE(find(early["checked"], "server-tls")["due"].get<bool>());
  EXPECT_TRUE(find(early["renewed"], "server-tls").is_null());

  // 29 days before: renewed, deployed.
  auto report = renew_due(61, "", 0);
  auto renewed = find(report["renewed"], "server-tls");
  ASSERT_TRUE(renewed.is_object()) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  const std::string new_serial = renewed["serial"];
  const int version = renewed["version"];
  EXPECT_NE(new_serial, old_serial);
  EXPECT_EQ(version, before["version"].get<int>() + 1);
  EXPECT_TRUE(renewed["deployed"].get<bool>());

  const auto marker = s_dir->path() / ("deployed-server-tls-" + std::to_string(version));
  ASSERT_TRUE(fs::exists(marker)) << "the deploy command did not run";
  EXPECT_EQ(trim(read_file(marker)), "server-tls " + std::to_string(version) + " " + new_serial);
  EXPECT_EQ(serial_of(run("openssl x509 -noout -serial -in " + shell_quote(marker.string() + ".pem"))), new_serial);
  EXPECT_EQ(read_file(marker.string() + ".pem").find("PRIVATE KEY"), std::string::npos);

  // The running server presents the new certificate (tls.reload, every second here).
  std::string served;
  for (int i = 0; i < 300 && served != new_serial; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    served = served_serial();
  }
  EXPECT_EQ(served, new_serial) << read_file(s_log);
  EXPECT_EQ(run("kill -0 " + s_pid).exit_code, 0) << "serve was restarted or died";
  EXPECT_NE(read_file(s_log).find("tls.reloaded"), std::string::npos);
}

TEST_F(CliRenewal, FailedRenewalSendsTheFailureWebhook) {
  Receiver receiver;
  const auto before = find(renew_due(0, "--dry-run", 0)["checked"], "server-tls");
  ASSERT_TRUE(before.is_object());
  // Long after any version's end (so it is due whatever ran before), with the CA keys out of
  // reach: an empty key directory for this run.
  const auto no_keys = s_dir->path() / "no-keys";
  auto report = renew_due(400, "", 5,
                          "CARTORIO_KEYS_SOFTWARE_DIR=" + shell_quote(no_keys.string()) +
                              " CARTORIO_RENEWAL_FAILURE_WEBHOOK=" + shell_quote(receiver.url()));
  auto failure = find(report["failures"], "server-tls");
  ASSERT_TRUE(failure.is_object()) << report.dump(2);
  EXPECT_EQ(failure["stage"], "renew");

  auto posted = receiver.bodies();
  std::vector<json> about_server;
  for (const auto& b : posted)
    if (b.value("certificate", "") == "server-tls") about_server.push_back(b);
  ASSERT_EQ(about_server.size(), 1u) << json(posted).dump(2);
  const auto& n = about_server[0];
  EXPECT_EQ(n["job"], "cert-expiry-check");
  EXPECT_EQ(n["kind"], "server-certificate");
  EXPECT_EQ(n["stage"], "renew");
  EXPECT_EQ(n["code"], "keys.not_found") << n.dump();
  EXPECT_FALSE(n["message"].get<std::string>().empty());
  EXPECT_EQ(n["attempt"], 2);  // renewal.retry_attempts
  // Nothing changed.
  const auto after = find(renew_due(0, "--dry-run", 0)["checked"], "server-tls");
  EXPECT_EQ(after["version"], before["version"]);
  EXPECT_EQ(after["serial"], before["serial"]);
}

TEST_F(CliRenewal, RegisteredCertificateIsManaged) {
  auto r = cli("certs manage web-frontend --dns www.example.test,example.test --validity-days 30");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto created = json::parse(r.out);
  EXPECT_EQ(created["kind"], "tls-certificate");
  EXPECT_EQ(created["version"], 1);
  r = cli("certs manage web-frontend --dns other.example.test");
  EXPECT_EQ(r.exit_code, 6) << r.err;  // exists
  auto listed = find(renew_due(0, "--dry-run", 0)["checked"], "web-frontend");
  ASSERT_TRUE(listed.is_object());
  EXPECT_FALSE(listed["due"].get<bool>());
  // Its certificate names what was asked (judged by openssl from the store's copy).
  auto shown = cli("cert show " + listed["serial"].get<std::string>());
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  auto text = run("printf %s " + shell_quote(shown.out) + " | openssl x509 -noout -ext subjectAltName");
  cartorio::testing::expect_contains(text.out, "DNS:www.example.test");
  cartorio::testing::expect_contains(text.out, "DNS:example.test");
}

}  // namespace
