// `cartorio audit checkpoint|verify` end to end: an untouched installation verifies; an
// audit row or a certificate row edited directly in the database (with the engine's own
// client) is named by `audit verify` (exit 11), and no new head is signed over it. Runs on
// the embedded defaults (SQLite) and, with CARTORIO_TEST_BACKENDS=postgres, on PostgreSQL.
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>

namespace {

using cartorio::testing::postgres_mode;
using cartorio::testing::trim;
using cartorio::testing::CommandResult;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

class CliAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    m_env = "CARTORIO_DATA_DIR=" + shell_quote((m_dir.path() / "data").string()) +
            " CARTORIO_PKI_PUBLIC_BASE_URL=http://notary.test.example ";
    if (postgres_mode()) {
      auto conninfo = cartorio::testing::read_env_file("CARTORIO_TEST_PG_CONNINFO_FILE");
      ASSERT_TRUE(conninfo) << "CARTORIO_TEST_PG_CONNINFO_FILE is not set: run through ctest (fixture postgres)";
      std::random_device rd;
      const std::string schema = "audit" + std::to_string(rd());
      auto r = run("psql " + shell_quote(*conninfo) + " -v ON_ERROR_STOP=1 -qc 'CREATE SCHEMA " + schema + "'");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      m_pg_url = *conninfo + " options='-csearch_path=" + schema + "'";
      m_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(m_pg_url) + " ";
    }
    write_file(m_dir.path() / "passphrase", "correct horse battery staple 2026\n");
    auto r = cartorio("init --root-passphrase-file " + shell_quote((m_dir.path() / "passphrase").string()));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }

  CommandResult cartorio(const std::string& args) { return run(m_env + CARTORIO_BIN " " + args); }

  // The database behind the store's back, with the engine's own client.
  std::string sql(const std::string& statement) {
    auto r = postgres_mode()
                 ? run("psql " + shell_quote(m_pg_url) + " -v ON_ERROR_STOP=1 -Atqc " + shell_quote(statement))
                 : run("sqlite3 " + shell_quote((m_dir.path() / "data" / "cartorio.db").string()) + " " +
                       shell_quote(statement));
    EXPECT_EQ(r.exit_code, 0) << statement << ": " << r.err;
    return trim(r.out);
  }

  void issue(const std::string& name) {
    const auto key = m_dir.path() / (name + ".key"), csr = m_dir.path() / (name + ".csr");
    auto r = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key.string() +
                 " -out " + csr.string() + " -subj /CN=" + name + ".notary.test -addext subjectAltName=DNS:" + name +
                 ".notary.test");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = cartorio("cert issue --profile tls-server --csr " + csr.string() + " --out " +
                 (m_dir.path() / (name + ".pem")).string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir m_dir;
  std::string m_env;
  std::string m_pg_url;
};

TEST_F(CliAudit, UntouchedVerifies_AnEditedAuditRowOrCertificateRowIsNamed) {
  issue("www");
  issue("api");
  auto head = cartorio("audit checkpoint");
  ASSERT_EQ(head.exit_code, 0) << head.err;
  auto heads = nlohmann::json::parse(head.out);
  EXPECT_EQ(heads["audit"]["origin"], "notary.test.example/audit");
  EXPECT_EQ(heads["transparency"]["origin"], "notary.test.example/transparency");
  // The hierarchy (root, two intermediates, OCSP/TSA responders...) and the two certificates.
  EXPECT_GE(heads["transparency"]["tree_size"].get<int>(), 5);
  EXPECT_GT(heads["audit"]["tree_size"].get<int>(), 5);

  issue("later");  // after the head: not covered yet, not a problem
  auto ok = cartorio("audit verify");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("audit: ok"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("transparency: ok"), std::string::npos) << ok.out;

  // One audit row, edited in place.
  const std::string id = sql("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 3");
  sql("UPDATE audit_events SET actor = 'user:mallory' WHERE id = " + id);
  auto tampered = cartorio("audit verify --json");
  EXPECT_EQ(tampered.exit_code, 11) << tampered.out << tampered.err;
  auto report = nlohmann::json::parse(tampered.out);
  ASSERT_EQ(report.size(), 2u);
  EXPECT_EQ(report[0]["log"], "audit");
  EXPECT_FALSE(report[0]["ok"].get<bool>());
  ASSERT_EQ(report[0]["findings"].size(), 1u) << report.dump(2);
  EXPECT_EQ(report[0]["findings"][0]["problem"], "changed");
  EXPECT_EQ(std::to_string(report[0]["findings"][0]["id"].get<std::int64_t>()), id);
  EXPECT_TRUE(report[1]["ok"].get<bool>());

  // No head is signed over the edited history.
  auto refused = cartorio("audit checkpoint");
  EXPECT_EQ(refused.exit_code, 11) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("audit.tampered"), std::string::npos) << refused.err;

  // A certificate's validity stretched in the database: its transparency entry no longer matches.
  const std::string serial = sql("SELECT serial FROM certificates WHERE profile = 'tls-server' ORDER BY created_at, serial LIMIT 1");
  const std::string entry = sql("SELECT id FROM transparency_entries WHERE kind = 'certificate' AND ref = '" + serial + "'");
  sql("UPDATE certificates SET not_after = not_after + 31536000 WHERE serial = '" + serial + "'");
  auto both = cartorio("audit verify");
  EXPECT_EQ(both.exit_code, 11);
  EXPECT_NE(both.out.find("audit entry " + id + " was changed"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("transparency entry " + entry + " was changed"), std::string::npos) << both.out;
}

}  // namespace
