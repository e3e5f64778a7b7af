// The HTTPS listener of `cartorio serve` scanned by testssl.sh (Debian package `testssl.sh`,
// an independent scanner that speaks the old protocols over raw sockets): no protocol below
// TLS 1.2, no weak cipher category, forward secrecy on every cipher, no known vulnerability
// flagged, and the security headers present. The scan's JSON findings are kept next to the
// test binary (test-artifacts/testssl.json) for whoever wants to read them.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace {

using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
namespace fs = std::filesystem;

// testssl's severities, in order; a finding at or above MEDIUM fails the scan.
int severity_rank(const std::string& s) {
  static const std::map<std::string, int> ranks = {{"DEBUG", 0}, {"INFO", 1}, {"OK", 1},  {"WARN", 1},
                                                   {"LOW", 2},   {"MEDIUM", 3}, {"HIGH", 4}, {"CRITICAL", 5}};
  const auto it = ranks.find(s);
  return it == ranks.end() ? 5 : it->second;
}

class CliTlsScan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    const std::string env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
                            " CARTORIO_ROOT_PASSPHRASE='tls scan passphrase 2026' ";
    auto r = run(env + CARTORIO_BIN " init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const std::string root = nlohmann::json::parse(r.out)["root_certificate"].get<std::string>();

    const auto log = d / "serve.log";
    auto served = cartorio::testing::start_serve(env, CARTORIO_BIN, log);
    s_pid = served.pid;
    ASSERT_FALSE(served.https.empty()) << read_file(log);

    // -p protocols, -s cipher categories, -f forward secrecy, -U every vulnerability check,
    // -h headers; --add-ca so the chain to our private root is judged as trusted.
    const fs::path artifacts = fs::current_path() / "test-artifacts";
    fs::create_directories(artifacts);
    const fs::path json = artifacts / "testssl.json";
    fs::remove(json);
    r = run("testssl --quiet --color 0 --warnings off --connect-timeout 10 --openssl-timeout 10 -p -s -f -U -h"
            " --add-ca " + shell_quote(root) + " --jsonfile " + shell_quote(json.string()) + " " +
            served.https + "/healthz 2>&1");
    s_output = r.out;
    ASSERT_TRUE(fs::exists(json)) << "testssl exit " << r.exit_code << ":\n" << r.out;
    for (const auto& f : nlohmann::json::parse(read_file(json))) {
      s_findings[f.value("id", "")] = {f.value("severity", ""), f.value("finding", "")};
    }
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  struct Finding {
    std::string severity;
    std::string text;
  };
  static const Finding& finding(const std::string& id) {
    static const Finding none{"", "(no such finding)"};
    const auto it = s_findings.find(id);
    return it == s_findings.end() ? none : it->second;
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_pid, s_output;
  static std::map<std::string, Finding> s_findings;
};

std::unique_ptr<TempDir> CliTlsScan::s_dir;
std::string CliTlsScan::s_pid, CliTlsScan::s_output;
std::map<std::string, CliTlsScan::Finding> CliTlsScan::s_findings;

TEST_F(CliTlsScan, OnlyTls12And13AreOffered) {
  for (const char* old : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"}) {
    EXPECT_NE(finding(old).text.find("not offered"), std::string::npos) << old << ": " << finding(old).text;
  }
  for (const char* current : {"TLS1_2", "TLS1_3"}) {
    EXPECT_EQ(finding(current).text.rfind("offered", 0), 0u) << current << ": " << finding(current).text;
  }
}

TEST_F(CliTlsScan, NoWeakCipherCategoryIsOffered) {
  for (const char* weak : {"cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                           "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"}) {
    EXPECT_EQ(finding(weak).text.rfind("not offered", 0), 0u) << weak << ": " << finding(weak).text;
  }
  EXPECT_EQ(finding("cipherlist_STRONG").text.rfind("offered", 0), 0u) << finding("cipherlist_STRONG").text;
  // Forward secrecy offered (testssl 3.0 names it PFS), on strong curves only.
  EXPECT_EQ(finding("PFS").severity, "OK") << finding("PFS").text;
  EXPECT_EQ(finding("PFS_ECDHE_curves").severity, "OK") << finding("PFS_ECDHE_curves").text;
}

TEST_F(CliTlsScan, NoVulnerabilityIsFlagged) {
  // Each check testssl -U runs must be present (a check that silently did not run is no proof).
  for (const char* id : {"heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
                         "CRIME_TLS", "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM",
                         "BEAST", "LUCKY13", "RC4"}) {
    const auto& f = finding(id);
    EXPECT_FALSE(f.severity.empty()) << id << " was not checked";
    EXPECT_LE(severity_rank(f.severity), severity_rank("LOW")) << id << ": " << f.severity << " " << f.text;
  }
}

TEST_F(CliTlsScan, NothingAtMediumOrAbove) {
  // Scanner failures ("scanProblem", "engine_problem") are findings too and fail here.
  std::set<std::string> flagged;
  for (const auto& [id, f] : s_findings) {
    if (severity_rank(f.severity) >= severity_rank("MEDIUM")) flagged.insert(id + " [" + f.severity + "] " + f.text);
  }
  EXPECT_TRUE(flagged.empty()) << ::testing::PrintToString(flagged) << "\n" << s_output;
}

TEST_F(CliTlsScan, SecurityHeadersAreSent) {
  EXPECT_EQ(finding("HSTS_time").severity, "OK") << finding("HSTS_time").text;
  EXPECT_NE(finding("X-Frame-Options").text.find("DENY"), std::string::npos) << finding("X-Frame-Options").text;
  EXPECT_NE(finding("X-Content-Type-Options").text.find("nosniff"), std::string::npos)
      << finding("X-Content-Type-Options").text;
}

}  // namespace
