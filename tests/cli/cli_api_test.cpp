// The HTTPS API end to end: `cartorio serve` with its TLS listener (certificate issued by
// the TLS CA at start), judged by `openssl s_client` and curl: protocol versions, mutual
// TLS identifying a service, certificate issue -> list -> get -> chain through the API,
// the role check refusing a service's revocation, 401 for missing or forged credentials,
// 429 past the per-client burst, and /metrics.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <regex>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

class CliApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    // A small per-client burst so the 429 test needs few calls (the others stay below it:
    // the bucket refills at 50/s).
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='api test passphrase 2026' CARTORIO_LIMITS_PER_CLIENT_BURST=20 ";
    auto r = run(s_env + CARTORIO_BIN " init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = nlohmann::json::parse(r.out)["root_certificate"].get<std::string>();

    // The service's client certificate (tls-client profile, issued by the TLS CA).
    r = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + (d / "svc.key").string() +
            " -out " + (d / "svc.csr").string() + " -subj /CN=billing");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run(s_env + CARTORIO_BIN " cert issue --profile tls-client --csr " + (d / "svc.csr").string() + " --out " +
            (d / "svc.pem").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;

    const auto log = d / "serve.log";
    r = run(s_env + CARTORIO_BIN " serve --listen-http 127.0.0.1:0 --listen 127.0.0.1:0 --threads 2 >" +
            log.string() + " 2>&1 & echo $!");
    ASSERT_EQ(r.exit_code, 0);
    s_pid = r.out.substr(0, r.out.find('\n'));
    for (int i = 0; i < 400 && s_https.empty(); ++i) {
      std::smatch m;
      const std::string text = read_file(log);
      static const std::regex kStarted(R"re("msg":"server.started".*"port":([0-9]+).*"https_port":([0-9]+))re");
      if (std::regex_search(text, m, kStarted)) {
        s_http = "http://127.0.0.1:" + std::string(m[1]);
        s_port = m[2];
        s_https = "https://127.0.0.1:" + s_port;
      } else {
        run("sleep 0.05");
      }
    }
    ASSERT_FALSE(s_https.empty()) << read_file(log);
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  static fs::path shared(const std::string& name) { return s_dir->path() / name; }
  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }

  // curl against the HTTPS listener, trusting only the root; "-w ' %{http_code}'" appended.
  CommandResult curl(const std::string& args, bool client_cert = true) {
    std::string cmd = "curl -s --cacert " + s_root + " -w ' %{http_code}' ";
    if (client_cert) cmd += "--cert " + shared("svc.pem").string() + " --key " + shared("svc.key").string() + " ";
    return run(cmd + args);
  }

  static int status_of(const CommandResult& r) {
    const auto space = r.out.rfind(' ');
    return space == std::string::npos ? -1 : std::atoi(r.out.c_str() + space + 1);
  }
  static std::string body_of(const CommandResult& r) { return r.out.substr(0, r.out.rfind(' ')); }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env, s_root, s_pid, s_http, s_https, s_port;
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliApi::s_dir;
std::string CliApi::s_env, CliApi::s_root, CliApi::s_pid, CliApi::s_http, CliApi::s_https, CliApi::s_port;

TEST_F(CliApi, OnlyTls12And13AreSpoken) {
  const std::string base = "openssl s_client -connect 127.0.0.1:" + s_port + " -servername localhost -CAfile " +
                           s_root + " </dev/null 2>&1 ";
  for (const char* old : {"-tls1", "-tls1_1"}) {
    auto r = run(base + old + " -cipher DEFAULT@SECLEVEL=0");
    EXPECT_NE(r.exit_code, 0) << old << ": " << r.out;
    expect_contains(r.out, "alert protocol version");
  }
  for (const char* ok : {"-tls1_2", "-tls1_3"}) {
    auto r = run(base + ok);
    EXPECT_EQ(r.exit_code, 0) << ok << ": " << r.out;
    expect_contains(r.out, "Verify return code: 0 (ok)");
  }
  // The server's certificate was issued at start by the TLS CA for the configured names.
  auto r = run("openssl s_client -connect 127.0.0.1:" + s_port + " </dev/null 2>/dev/null | openssl x509 -noout -text");
  expect_contains(r.out, "Cartorio Digital TLS CA");
  expect_contains(r.out, "DNS:localhost");
  expect_contains(r.out, "IP Address:127.0.0.1");
}

TEST_F(CliApi, MutualTlsIdentifiesTheServiceAndIssuesListsAndReadsCertificates) {
  auto r = curl(s_https + "/api/v1/ca");
  ASSERT_EQ(status_of(r), 200) << r.out << r.err;
  expect_contains(r.out, R"("name":"tls")");

  run("openssl req -new -newkey rsa:2048 -nodes -keyout " + tmp("leaf.key").string() + " -out " +
      tmp("leaf.csr").string() + " -subj /CN=api.cartorio.test -addext subjectAltName=DNS:api.cartorio.test");
  nlohmann::json req = {{"profile", "tls-server"}, {"csr", read_file(tmp("leaf.csr"))}};
  write_file(tmp("issue.json"), req.dump());
  r = curl("-X POST -H 'Content-Type: application/json' --data-binary @" + tmp("issue.json").string() + " " + s_https +
           "/api/v1/certificates");
  ASSERT_EQ(status_of(r), 201) << r.out << r.err;
  auto issued = nlohmann::json::parse(body_of(r));
  const std::string serial = issued["serial"];
  EXPECT_EQ(issued["requester"], "service:billing") << "the identity came from the client certificate";
  write_file(tmp("leaf.pem"), issued["pem"].get<std::string>());
  write_file(tmp("chain.pem"), issued["chain_pem"].get<std::string>());
  auto v = run("openssl verify -x509_strict -CAfile " + s_root + " -untrusted " + tmp("chain.pem").string() + " " +
               tmp("leaf.pem").string());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  r = curl("'" + s_https + "/api/v1/certificates?profile=tls-server&status=good&limit=1000'");
  ASSERT_EQ(status_of(r), 200) << r.out;
  expect_contains(r.out, serial);
  r = curl("'" + s_https + "/api/v1/certificates?expiring_within_days=400&limit=1000'");
  expect_contains(r.out, serial);
  r = curl("'" + s_https + "/api/v1/certificates?limit=0'");
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "request.invalid_query");

  r = curl(s_https + "/api/v1/certificates/" + serial);
  ASSERT_EQ(status_of(r), 200);
  expect_contains(r.out, R"("status":"good")");
  r = curl(s_https + "/api/v1/certificates/" + serial + "/chain");
  ASSERT_EQ(status_of(r), 200);
  EXPECT_EQ(body_of(r), issued["pem"].get<std::string>() + issued["chain_pem"].get<std::string>());
  r = curl(s_https + "/api/v1/certificates/00ff00");
  EXPECT_EQ(status_of(r), 404);
  expect_contains(r.out, "store.not_found");

  // A garbage CSR: a stable code, nothing stored.
  write_file(tmp("bad.json"), nlohmann::json{{"profile", "tls-server"}, {"csr", "garbage"}}.dump());
  r = curl("-X POST --data-binary @" + tmp("bad.json").string() + " " + s_https + "/api/v1/certificates");
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "csr.malformed");

  // The service role may not revoke (notary and admin may): 403, and it stays good.
  write_file(tmp("revoke.json"), R"({"reason":"keyCompromise"})");
  r = curl("-X POST --data-binary @" + tmp("revoke.json").string() + " " + s_https + "/api/v1/certificates/" + serial +
           "/revoke");
  EXPECT_EQ(status_of(r), 403) << r.out;
  expect_contains(r.out, "auth.permission_denied");
  r = curl(s_https + "/api/v1/certificates/" + serial);
  expect_contains(r.out, R"("status":"good")");
}

TEST_F(CliApi, MissingOrForgedCredentialsGet401) {
  auto r = curl("-D - " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401);
  expect_contains(r.out, "auth.unauthenticated");
  expect_contains(r.out, "WWW-Authenticate: Bearer");
  r = curl("-H 'Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401);
  r = curl("-H 'X-API-Key: ck_nothing_here' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401);
  // A client certificate from another CA does not even finish the handshake.
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=billing -keyout " +
      tmp("rogue.key").string() + " -out " + tmp("rogue.pem").string());
  r = run("curl -s --cacert " + s_root + " --cert " + tmp("rogue.pem").string() + " --key " +
          tmp("rogue.key").string() + " -o /dev/null -w '%{http_code}' " + s_https + "/api/v1/ca");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "000");
}

TEST_F(CliApi, PastTheBurstTheClientGets429WithRetryAfter) {
  run("sleep 1");  // let the bucket refill after the other tests
  int limited = 0;
  std::string headers;
  for (int i = 0; i < 40 && limited == 0; ++i) {
    auto r = curl("-D " + tmp("h").string() + " -o /dev/null " + s_https + "/api/v1/ca");
    if (status_of(r) == 429) {
      limited = i + 1;
      headers = read_file(tmp("h"));
    }
  }
  ASSERT_GT(limited, 0) << "never limited";
  EXPECT_GE(limited, 15) << "limited before the burst of 20 was spent";
  expect_contains(headers, "Retry-After: ");
  auto metrics = run("curl -s " + s_http + "/metrics");
  expect_contains(metrics.out, R"(cartorio_rate_limited_total{scope="client"})");
}

TEST_F(CliApi, MetricsCountRequestsByRouteAndIssuances) {
  curl(s_https + "/api/v1/ca");
  auto r = run("curl -s " + s_http + "/metrics");
  ASSERT_EQ(r.exit_code, 0);
  expect_contains(r.out, "# TYPE cartorio_http_requests_total counter");
  expect_contains(r.out, R"(route="/api/v1/ca")");
  expect_contains(r.out, "cartorio_http_request_duration_seconds_bucket");
  expect_contains(r.out, R"(cartorio_key_operations_total{purpose="issue-certificate"})");
}

}  // namespace
