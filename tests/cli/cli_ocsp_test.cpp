// The OCSP responder end to end: `cartorio init`, `cartorio serve`, certificates issued and
// revoked through the CLI, and every answer judged by the real client, `openssl ocsp`
// (and curl for the GET form, garbage requests and the RFC 5019 caching headers).
// Run twice by CTest: on the embedded defaults (SQLite, software keys, in-process cache),
// and with the fixture's Redis as the OCSP cache (CARTORIO_TEST_REDIS_ENDPOINT_FILE set).
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <tuple>
#include <unistd.h>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

using cartorio::testing::expect_contains;

// One installation and one server for the suite (init with an RSA 4096 root takes a while).
class CliOcsp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='ocsp test passphrase 2026' " + redis_env();
    auto r = run(s_env + CARTORIO_BIN " init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    auto j = nlohmann::json::parse(r.out);
    s_root = j["root_certificate"].get<std::string>();
    s_sealed = j["sealed_root_key"].get<std::string>();
    r = run(s_env + CARTORIO_BIN " ca chain --ca tls");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(d / "tls-ca.pem", r.out.substr(0, r.out.find("-----END CERTIFICATE-----") + 26));
    r = run(s_env + CARTORIO_BIN " ca chain --ca document");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(d / "document-ca.pem", r.out.substr(0, r.out.find("-----END CERTIFICATE-----") + 26));

    auto server = start_server(s_env, d / "serve.log");
    ASSERT_TRUE(server) << read_file(d / "serve.log");
    std::tie(s_pid, s_base) = *server;
  }

  // Starts `cartorio serve` on a free port; (pid, base URL), or nullopt when it did not start.
  static std::optional<std::pair<std::string, std::string>> start_server(const std::string& env, const fs::path& log) {
    auto r = run(env + CARTORIO_BIN " serve --listen-http 127.0.0.1:0 --listen 127.0.0.1:0 --threads 2 >" + log.string() + " 2>&1 & echo $!");
    if (r.exit_code != 0) return std::nullopt;
    const std::string pid = r.out.substr(0, r.out.find('\n'));
    for (int i = 0; i < 200; ++i) {
      std::smatch m;
      const std::string text = read_file(log);
      static const std::regex kStarted(R"re("msg":"server.started".*"port":([0-9]+))re");
      if (std::regex_search(text, m, kStarted)) return std::make_pair(pid, "http://127.0.0.1:" + std::string(m[1]));
      run("sleep 0.05");
    }
    run("kill -9 " + pid + " 2>/dev/null || true");
    return std::nullopt;
  }

  static void TearDownTestSuite() {
    // The guard: whatever happened, the server does not outlive the suite.
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  // With the Redis fixture: the cache settings that point `serve` and `cert revoke` at it.
  static std::string redis_env() {
    const auto endpoint = cartorio::testing::read_env_file("CARTORIO_TEST_REDIS_ENDPOINT_FILE");
    if (!endpoint) return "";
    const char* file = std::getenv("CARTORIO_TEST_REDIS_ENDPOINT_FILE");
    std::string password = read_file(fs::path(file).parent_path() / "password");
    while (!password.empty() && (password.back() == '\n' || password.back() == ' ')) password.pop_back();
    const std::string prefix = "cli-ocsp-" + std::to_string(::getpid()) + ":";
    return "CARTORIO_CACHE_BACKEND=redis CARTORIO_CACHE_REDIS_URL=" +
           shell_quote("redis://:" + password + "@" + *endpoint + "/0") + " CARTORIO_CACHE_REDIS_KEY_PREFIX=" +
           shell_quote(prefix) + " ";
  }
  static bool with_redis() { return std::getenv("CARTORIO_TEST_REDIS_ENDPOINT_FILE") != nullptr; }

  CommandResult cartorio(const std::string& args) { return run(s_env + CARTORIO_BIN " " + args); }
  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }
  static fs::path shared(const std::string& name) { return s_dir->path() / name; }

  fs::path issue_tls_server(const std::string& name) {
    const auto key = tmp(name + ".key"), csr = tmp(name + ".csr"), out = tmp(name + ".pem");
    auto r = run("openssl req -new -newkey rsa:2048 -nodes -keyout " + key.string() + " -out " + csr.string() +
                 " -subj /CN=" + name + ".cartorio.test -addext subjectAltName=DNS:" + name + ".cartorio.test");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = cartorio("cert issue --profile tls-server --csr " + csr.string() + " --out " + out.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  std::string serial_of(const fs::path& cert) {
    auto r = run("openssl x509 -noout -serial -in " + cert.string());
    std::string s = r.out.substr(r.out.find('=') + 1);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  // `openssl ocsp` against our server: the response must verify against the root.
  CommandResult query(const std::string& ca, const std::string& issuer, const std::string& what,
                      const std::string& extra = "") {
    return run("openssl ocsp -issuer " + issuer + " " + what + " -url " + s_base + "/ocsp/" + ca + " -CAfile " +
               s_root + " -resp_text " + extra);
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env, s_root, s_sealed, s_pid, s_base;
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliOcsp::s_dir;
std::string CliOcsp::s_env, CliOcsp::s_root, CliOcsp::s_sealed, CliOcsp::s_pid, CliOcsp::s_base;

TEST_F(CliOcsp, GoodThenRevokedAtOnceWithReason) {
  const auto cert = issue_tls_server("good");
  const std::string tls = shared("tls-ca.pem").string();
  auto r = query("tls", tls, "-cert " + cert.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, cert.string() + ": good");
  expect_contains(r.err + r.out, "Response verify OK");
  expect_contains(r.out, "Cartorio Digital TLS CA OCSP Responder");  // delegated responder cert included
  expect_contains(r.out, "Response Type: Basic OCSP Response");
  expect_contains(r.out, "OCSP Nonce");  // openssl sends one by default: echoed back

  ASSERT_EQ(cartorio("cert revoke " + serial_of(cert) + " --reason keyCompromise").exit_code, 0);
  r = query("tls", tls, "-cert " + cert.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, cert.string() + ": revoked");
  expect_contains(r.out, "Reason: keyCompromise");
  expect_contains(r.err + r.out, "Response verify OK");
}

// Without a nonce the answer is cacheable: the second one is the same bytes (the cache, not
// a new signature: a second later, a new one would have another producedAt), and a
// revocation still shows at the very next query.
TEST_F(CliOcsp, CachedAnswerIsReplacedAtOnceOnRevocation) {
  const auto cert = issue_tls_server("cached");
  const std::string tls = shared("tls-ca.pem").string();
  const auto resp1 = tmp("r1.der"), resp2 = tmp("r2.der");
  auto r = query("tls", tls, "-cert " + cert.string(), "-no_nonce -respout " + resp1.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, cert.string() + ": good");
  run("sleep 1.2");
  r = query("tls", tls, "-cert " + cert.string(), "-no_nonce -respout " + resp2.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, cert.string() + ": good");
  EXPECT_EQ(read_file(resp1), read_file(resp2)) << "the second answer did not come from the cache";

  ASSERT_EQ(cartorio("cert revoke " + serial_of(cert) + " --reason superseded").exit_code, 0);
  r = query("tls", tls, "-cert " + cert.string(), "-no_nonce");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, cert.string() + ": revoked");
  expect_contains(r.out, "Reason: superseded");
  expect_contains(r.err + r.out, "Response verify OK");
}

TEST_F(CliOcsp, ReadyzNamesTheCacheState) {
  auto r = run("curl -s " + s_base + "/readyz");
  ASSERT_EQ(r.exit_code, 0);
  expect_contains(r.out, R"("cache":"ok")");
  expect_contains(r.out, R"("status":"ready")");
}

// A second server of the same installation whose Redis is down (nothing listens on the
// port): OCSP answers keep coming, /readyz says degraded (and still 200).
TEST_F(CliOcsp, RedisDownStillAnswersAndReadyzSaysDegraded) {
  auto port = run("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                  "print(s.getsockname()[1])'");
  ASSERT_EQ(port.exit_code, 0);
  port.out.pop_back();
  const std::string env = s_env + "CARTORIO_CACHE_BACKEND=redis CARTORIO_CACHE_REDIS_URL=redis://127.0.0.1:" +
                          port.out + " ";
  auto server = start_server(env, tmp("degraded.log"));
  ASSERT_TRUE(server) << read_file(tmp("degraded.log"));
  const auto [pid, base] = *server;
  const auto cert = issue_tls_server("degraded");
  for (int i = 0; i < 2; ++i) {
    auto r = run("openssl ocsp -issuer " + shared("tls-ca.pem").string() + " -cert " + cert.string() + " -url " +
                 base + "/ocsp/tls -CAfile " + s_root + " -no_nonce");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    expect_contains(r.out, cert.string() + ": good");
  }
  auto r = run("curl -s -w ' %{http_code}' " + base + "/readyz");
  expect_contains(r.out, R"("cache":"degraded")");
  expect_contains(r.out, R"("status":"degraded")");
  expect_contains(r.out, " 200");
  expect_contains(read_file(tmp("degraded.log")), "readyz.cache_degraded");
  run("kill -TERM " + pid + " && sleep 0.5; kill -9 " + pid + " 2>/dev/null || true");
}

TEST_F(CliOcsp, UnknownSerialAndOtherCasCertificates) {
  const std::string tls = shared("tls-ca.pem").string();
  auto r = query("tls", tls, "-serial 0x1234");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, "0x1234: unknown");
  expect_contains(r.err + r.out, "Response verify OK");

  // A certificate the root issued (the document CA), asked of the TLS CA with the TLS CA as
  // issuer: not one of the TLS CA's certificates -> unknown.
  r = query("tls", tls, "-serial 0x" + serial_of(shared("document-ca.pem")));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, ": unknown");

  // A CertID naming another issuer is refused as a whole.
  r = query("tls", shared("document-ca.pem").string(), "-serial 0x1234");
  expect_contains(r.out + r.err, "unauthorized");
}

TEST_F(CliOcsp, GarbageIsMalformedRequestAndWrongMediaTypeIs415) {
  write_file(tmp("garbage"), "this is not an OCSP request\x01\x02");
  auto r = run("curl -s -o " + tmp("m.der").string() + " -w '%{http_code} %{content_type}' -X POST -H " +
               "'Content-Type: application/ocsp-request' --data-binary @" + tmp("garbage").string() + " " + s_base +
               "/ocsp/tls");
  EXPECT_EQ(r.out, "200 application/ocsp-response");
  r = run("openssl ocsp -respin " + tmp("m.der").string() + " -resp_text -noverify");
  expect_contains(r.out + r.err, "malformedrequest (1)");

  r = run("curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data-binary x " + s_base +
          "/ocsp/tls");
  EXPECT_EQ(r.out, "415");
  r = run("curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/ocsp-request' "
          "--data-binary x " + s_base + "/ocsp/nope");
  EXPECT_EQ(r.out, "404");
  r = run("head -c 70000 /dev/zero > " + tmp("big").string() + " && curl -s -o /dev/null -w '%{http_code}' -X POST " +
          "-H 'Content-Type: application/ocsp-request' --data-binary @" + tmp("big").string() + " " + s_base +
          "/ocsp/tls");
  EXPECT_EQ(r.out, "413");
}

TEST_F(CliOcsp, GetFormWithRfc5019CachingHeaders) {
  const auto cert = issue_tls_server("getform");
  const std::string tls = shared("tls-ca.pem").string();
  auto r = run("openssl ocsp -issuer " + tls + " -cert " + cert.string() + " -no_nonce -reqout " +
               tmp("req.der").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // base64, then URL-encoded ('+', '/', '=' escaped as RFC 6960 A.1 asks).
  r = run("base64 -w0 " + tmp("req.der").string() + " | sed 's/+/%2B/g; s/\\//%2F/g; s/=/%3D/g'");
  ASSERT_EQ(r.exit_code, 0);
  const std::string encoded = r.out;
  r = run("curl -sf -D " + tmp("h").string() + " -o " + tmp("resp.der").string() + " " + s_base + "/ocsp/tls/" + encoded);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run("openssl ocsp -respin " + tmp("resp.der").string() + " -issuer " + tls + " -cert " + cert.string() +
          " -CAfile " + s_root + " -no_nonce");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, ": good");
  expect_contains(r.err + r.out, "Response verify OK");

  const std::string h = read_file(tmp("h"));
  expect_contains(h, "Content-Type: application/ocsp-response");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(h, m, std::regex(R"re(Cache-Control: max-age=([0-9]+), public, no-transform, must-revalidate)re")))
      << h;
  const int max_age = std::stoi(m[1]);
  EXPECT_GT(max_age, 3500);
  EXPECT_LE(max_age, 3600);
  EXPECT_TRUE(std::regex_search(h, std::regex(R"re(Last-Modified: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT)re"))) << h;
  EXPECT_TRUE(std::regex_search(h, std::regex(R"re(Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT)re"))) << h;
  ASSERT_TRUE(std::regex_search(h, m, std::regex(R"re(ETag: "([0-9a-f]{64})")re"))) << h;
  r = run("sha256sum " + tmp("resp.der").string());
  EXPECT_EQ(r.out.substr(0, 64), m[1].str());

  // Unencoded base64 in the path (a '/' splits segments) works too.
  r = run("base64 -w0 " + tmp("req.der").string());
  r = run("curl -sf -o " + tmp("resp2.der").string() + " " + s_base + "/ocsp/tls/" + r.out + " && openssl ocsp -respin " +
          tmp("resp2.der").string() + " -resp_text -noverify");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_contains(r.out, "Cert Status: good");
}

TEST_F(CliOcsp, RootAnswersFromPreSignedResponses) {
  const std::string tls = shared("tls-ca.pem").string();
  // `init` pre-signed them while the root key was in memory.
  auto r = query("root", s_root, "-cert " + tls, "-no_nonce");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, tls + ": good");
  expect_contains(r.err + r.out, "Response verify OK");

  // A new ceremony refreshes them; the server serves the new files without a restart.
  std::string file_serial = serial_of(tls);  // the store's spelling: lowercase, no leading zeros
  for (auto& c : file_serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  file_serial.erase(0, file_serial.find_first_not_of('0'));
  const auto presigned = shared("data") / "ocsp" / "root" / (file_serial + ".der");
  const auto before = read_file(presigned);
  ASSERT_FALSE(before.empty()) << presigned;
  r = run("sleep 1.1");
  r = cartorio("ocsp presign-root --root-key " + s_sealed + " --validity 7d");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto after = read_file(presigned);
  EXPECT_NE(before, after);
  r = query("root", s_root, "-cert " + tls, "-no_nonce -validity_period 60");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, tls + ": good");

  // Wrong root key: refused.
  r = run("CARTORIO_ROOT_PASSPHRASE=wrong " + s_env.substr(0, s_env.find(" CARTORIO_ROOT")) + " " CARTORIO_BIN
          " ocsp presign-root --root-key " + s_sealed);
  EXPECT_NE(r.exit_code, 0);

  // A serial the root never issued has no pre-signed response: unauthorized (RFC 5019 2.2.3).
  r = query("root", s_root, "-serial 0x1234", "-no_nonce");
  expect_contains(r.out + r.err, "unauthorized");
}

}  // namespace
