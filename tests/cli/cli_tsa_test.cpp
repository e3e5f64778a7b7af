// The time-stamp authority end to end: `cartorio init`, `cartorio serve`, requests made by
// `openssl ts -query`, sent with curl to POST /tsa (plain HTTP, and HTTPS), and every reply
// judged by `openssl ts -verify` (signature, chain to the root, imprint, nonce) and
// `openssl ts -reply -text` (policy, accuracy, failure codes).
// Run twice by CTest: on the embedded defaults (SQLite, software keys), and with
// CARTORIO_TEST_BACKENDS=postgres_pkcs11 on PostgreSQL + SoftHSM2 (the TSA key in the token).
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

bool pg_pkcs11_mode() {
  const char* b = std::getenv("CARTORIO_TEST_BACKENDS");
  return b && std::string(b) == "postgres_pkcs11";
}

// The default tsa.policy_oid (src/core/config.h).
constexpr const char* kPolicy = "2.25.250359327722146467862993546787340417251";

// One installation and one server for the suite (init with an RSA 4096 root takes a while).
class CliTsa : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='tsa test passphrase 2026' CARTORIO_TSA_ACCURACY_SECONDS=2 ";
    if (pg_pkcs11_mode()) set_up_engines();
    auto r = run(s_env + CARTORIO_BIN " init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = nlohmann::json::parse(r.out)["root_certificate"].get<std::string>();
    // The Document Signing CA and the root: what a relying party has besides the token.
    r = run(s_env + CARTORIO_BIN " ca chain --ca document --out " + (d / "chain.pem").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The TSA certificate, for tokens that do not carry it (no certReq).
    r = run(s_env + CARTORIO_BIN " cert list --profile tsa --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto list = nlohmann::json::parse(r.out);
    ASSERT_EQ(list.size(), 1u) << r.out;
    r = run(s_env + CARTORIO_BIN " cert show " + list[0]["serial"].get<std::string>());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(d / "tsa-and-chain.pem", r.out + read_file(d / "chain.pem"));

    const auto log = d / "serve.log";
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, log);
    s_pid = served.pid;
    s_http = served.http;
    s_https = served.https;
    ASSERT_FALSE(s_http.empty()) << read_file(log);
  }

  // PostgreSQL from the CTest fixture (a schema of our own) and a fresh SoftHSM2 token, as
  // cli_pki_test does.
  static void set_up_engines() {
    auto conninfo = cartorio::testing::read_env_file("CARTORIO_TEST_PG_CONNINFO_FILE");
    ASSERT_TRUE(conninfo) << "CARTORIO_TEST_PG_CONNINFO_FILE is not set: run through ctest (fixture postgres)";
    std::random_device rd;
    const std::string schema = "tsa" + std::to_string(rd()) + std::to_string(rd() % 1000);
    auto r = run("psql " + shell_quote(*conninfo) + " -v ON_ERROR_STOP=1 -qc 'CREATE SCHEMA " + schema + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string url = *conninfo + " options='-csearch_path=" + schema + "'";
    const fs::path hsm = s_dir->path() / "softhsm";
    fs::create_directories(hsm / "tokens");
    write_file(hsm / "softhsm2.conf", "directories.tokendir = " + (hsm / "tokens").string() +
                                          "\nobjectstore.backend = file\nlog.level = ERROR\n");
    setenv("SOFTHSM2_CONF", (hsm / "softhsm2.conf").c_str(), 1);
    r = run("softhsm2-util --init-token --free --label cartorio-tsa-test --so-pin 12345678 --pin 87654321");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    write_file(hsm / "pin", "87654321\n");
    s_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(url) +
             " CARTORIO_KEYS_BACKEND=pkcs11 CARTORIO_KEYS_PKCS11_TOKEN=cartorio-tsa-test CARTORIO_KEYS_PKCS11_PIN_FILE=" +
             shell_quote((hsm / "pin").string()) + " ";
  }

  static void TearDownTestSuite() {
    // The guard: whatever happened, the server does not outlive the suite.
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }
  static fs::path shared(const std::string& name) { return s_dir->path() / name; }

  // The data to time-stamp, in a file of its own.
  fs::path data_file(const std::string& content = "the document to time-stamp\n") {
    const auto f = tmp("data.txt");
    write_file(f, content);
    return f;
  }

  // `openssl ts -query` for `data` (extra flags: -sha256, -cert, -no_nonce, -tspolicy ...).
  fs::path query(const fs::path& data, const std::string& flags) {
    const auto out = tmp("req.tsq");
    auto r = run("openssl ts -query -data " + data.string() + " " + flags + " -out " + out.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  // POSTs `body` to base + /tsa; the reply body lands in a file. Returns "HTTP_CODE CONTENT_TYPE".
  std::string post(const fs::path& body, const fs::path& reply, const std::string& base = "",
                   const std::string& content_type = "application/timestamp-query") {
    const std::string url = (base.empty() ? s_http : base) + "/tsa";
    const std::string tls = url.rfind("https", 0) == 0 ? "--cacert " + s_root + " " : "";
    auto r = run("curl -s " + tls + "-o " + reply.string() + " -w '%{http_code} %{content_type}' --data-binary @" +
                 body.string() + " -H " + shell_quote("Content-Type: " + content_type) + " " + url);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  CommandResult verify(const fs::path& data, const fs::path& reply, const std::string& untrusted) {
    return run("openssl ts -verify -data " + data.string() + " -in " + reply.string() + " -CAfile " + s_root +
               " -untrusted " + untrusted);
  }

  CommandResult reply_text(const fs::path& reply) { return run("openssl ts -reply -in " + reply.string() + " -text"); }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env, s_root, s_pid, s_http, s_https;
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliTsa::s_dir;
std::string CliTsa::s_env, CliTsa::s_root, CliTsa::s_pid, CliTsa::s_http, CliTsa::s_https;

TEST_F(CliTsa, OpensslQueryIsGrantedAndVerifies) {
  const auto data = data_file();
  const auto req = query(data, "-sha256 -cert");
  const auto resp = tmp("resp.tsr");
  EXPECT_EQ(post(req, resp), "200 application/timestamp-reply");
  auto r = verify(data, resp, shared("chain.pem").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, "Verification: OK");
  // Against the query too: imprint and nonce.
  r = run("openssl ts -verify -queryfile " + req.string() + " -in " + resp.string() + " -CAfile " + s_root +
          " -untrusted " + shared("chain.pem").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, "Verification: OK");

  r = reply_text(resp);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_contains(r.out, "Status: Granted.");
  expect_contains(r.out, std::string("Policy OID: ") + kPolicy);
  expect_contains(r.out, "Hash Algorithm: sha256");
  expect_contains(r.out, "Accuracy: 0x02 seconds");  // CARTORIO_TSA_ACCURACY_SECONDS=2
  expect_contains(r.out, "Nonce: 0x");
  expect_contains(r.out, "TSA: DirName:");
  expect_contains(r.out, "Cartorio Digital Time Stamping Authority");
}

TEST_F(CliTsa, Sha384AndSha512AreGrantedToo) {
  const auto data = data_file("another document\n");
  for (const char* md : {"-sha384", "-sha512"}) {
    SCOPED_TRACE(md);
    const auto resp = tmp("resp.tsr");
    EXPECT_EQ(post(query(data, std::string(md) + " -cert"), resp), "200 application/timestamp-reply");
    auto r = verify(data, resp, shared("chain.pem").string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    expect_contains(r.out, "Verification: OK");
  }
}

// Without certReq the token carries no certificate: the relying party brings the TSA's.
TEST_F(CliTsa, WithoutCertReqVerifiesWithTheTsaCertificateGiven) {
  const auto data = data_file();
  const auto resp = tmp("resp.tsr");
  EXPECT_EQ(post(query(data, "-sha256 -no_nonce"), resp), "200 application/timestamp-reply");
  auto r = verify(data, resp, shared("chain.pem").string());
  EXPECT_NE(r.exit_code, 0) << "no signer certificate anywhere: " << r.out;
  r = verify(data, resp, shared("tsa-and-chain.pem").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, "Verification: OK");
}

TEST_F(CliTsa, AlsoServedOverHttps) {
  const auto data = data_file();
  const auto resp = tmp("resp.tsr");
  EXPECT_EQ(post(query(data, "-sha256 -cert"), resp, s_https), "200 application/timestamp-reply");
  auto r = verify(data, resp, shared("chain.pem").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, "Verification: OK");
}

TEST_F(CliTsa, GarbageGetsARejectionReply) {
  const auto body = tmp("garbage.bin");
  write_file(body, "this is not a TimeStampReq");
  const auto resp = tmp("resp.tsr");
  EXPECT_EQ(post(body, resp), "200 application/timestamp-reply");
  auto r = reply_text(resp);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_contains(r.out, "Status: Rejected.");
  expect_contains(r.out, "Failure info: the data submitted has the wrong format");  // badDataFormat
  expect_contains(r.out, "TST info:\nNot included.");
}

TEST_F(CliTsa, Sha1AndForeignPolicyAreRejected) {
  const auto data = data_file();
  const auto resp = tmp("resp.tsr");
  EXPECT_EQ(post(query(data, "-sha1 -cert"), resp), "200 application/timestamp-reply");
  auto r = reply_text(resp);
  expect_contains(r.out, "Status: Rejected.");
  expect_contains(r.out, "unrecognized or unsupported algorithm identifier");  // badAlg

  EXPECT_EQ(post(query(data, "-sha256 -tspolicy 1.2.3.4.5"), resp), "200 application/timestamp-reply");
  r = reply_text(resp);
  expect_contains(r.out, "Status: Rejected.");
  expect_contains(r.out, "the requested TSA policy is not supported by the TSA");  // unacceptedPolicy
  // Our own policy, asked for by name, is granted.
  EXPECT_EQ(post(query(data, std::string("-sha256 -tspolicy ") + kPolicy), resp), "200 application/timestamp-reply");
  expect_contains(reply_text(resp).out, "Status: Granted.");
}

TEST_F(CliTsa, WrongContentTypeIs415) {
  const auto req = query(data_file(), "-sha256 -cert");
  const auto resp = tmp("resp.json");
  EXPECT_EQ(post(req, resp, "", "application/octet-stream"), "415 application/problem+json");
  expect_contains(read_file(resp), "tsa.unsupported_media_type");
}

TEST_F(CliTsa, MetricsCountTimestamps) {
  const auto resp = tmp("resp.tsr");
  EXPECT_EQ(post(query(data_file(), "-sha256"), resp), "200 application/timestamp-reply");
  auto r = run("curl -s " + s_http + "/metrics");
  ASSERT_EQ(r.exit_code, 0);
  expect_contains(r.out, R"(cartorio_timestamps_total{status="granted"})");
  expect_contains(r.out, R"(route="/tsa")");
}

}  // namespace
