// Backup and restore end to end (issue 7's must-show), through the real binary: an
// installation with users, an API key, certificates (one revoked), a signed PDF and audit
// heads is backed up with `cartorio backup --out F`; its data dir is wiped (on PostgreSQL its
// schema dropped too); `cartorio restore F --data-dir NEW` brings it back, and then
//   - certificates, users, documents and audit events are the same (read with sqlite3 /
//     psql, the engine's own clients), plus one `backup.restore` event;
//   - `audit verify` passes; the old signed PDF verifies with `pdf verify` and pdfsig;
//   - `cartorio serve` starts on NEW, the old API key works, and the stored signed PDF is
//     served byte for byte.
// A tampered or truncated backup, another backup key, a missing master key, a non-empty
// NEW (and, on PostgreSQL, a non-empty target schema) are refused with their stable codes and
// write nothing. Runs on SQLite and, with CARTORIO_TEST_BACKENDS=postgres, on the fixture's
// PostgreSQL.
#include "signing/sample_pdfs.h"
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <random>
#include <set>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::postgres_mode;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::trim;
using cartorio::testing::write_file;
using nlohmann::json;
namespace fs = std::filesystem;

class CliBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path d = m_dir.path();
    // Kept apart from the data dir, as an operator keeps them.
    fs::create_directories(d / "offsite");
    ASSERT_EQ(run("openssl rand -hex 32 > " + q(d / "offsite/backup.key") + " && chmod 600 " +
                  q(d / "offsite/backup.key"))
                  .exit_code,
              0);
    m_common = "CARTORIO_ROOT_PASSPHRASE='backup test passphrase 2026' CARTORIO_PKI_PUBLIC_BASE_URL=http://pki.test.example"
               " CARTORIO_BACKUP_KEY_FILE=" + q(d / "offsite/backup.key") + " ";
    if (postgres_mode()) {
      auto conninfo = cartorio::testing::read_env_file("CARTORIO_TEST_PG_CONNINFO_FILE");
      ASSERT_TRUE(conninfo) << "CARTORIO_TEST_PG_CONNINFO_FILE is not set: run through ctest (fixture postgres)";
      std::random_device rd;
      m_schema = "bk" + std::to_string(rd());
      m_conninfo = *conninfo;
      ASSERT_EQ(psql("CREATE SCHEMA " + m_schema).exit_code, 0);
      m_pg_url = m_conninfo + " options='-csearch_path=" + m_schema + "'";
      m_common += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(m_pg_url) + " ";
    }
    auto r = cli(data(), "init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  void TearDown() override {
    if (!m_pid.empty()) run("kill -9 " + m_pid + " 2>/dev/null || true");
    if (!m_schema.empty()) psql("DROP SCHEMA IF EXISTS " + m_schema + " CASCADE");
  }

  static std::string q(const fs::path& p) { return shell_quote(p.string()); }
  fs::path data() const { return m_dir.path() / "data"; }
  CommandResult cli(const fs::path& data_dir, const std::string& args) const {
    return run(m_common + "CARTORIO_DATA_DIR=" + q(data_dir) + " " CARTORIO_BIN " " + args);
  }
  CommandResult psql(const std::string& statement) const {
    return run("psql " + shell_quote(m_conninfo) + " -X -v ON_ERROR_STOP=1 -Atqc " + shell_quote(statement));
  }
  // A query on the installation's database, with the engine's own client.
  std::string sql(const fs::path& data_dir, const std::string& statement) const {
    auto r = postgres_mode()
                 ? run("psql " + shell_quote(m_pg_url) + " -X -v ON_ERROR_STOP=1 -Atqc " + shell_quote(statement))
                 : run("sqlite3 " + q(data_dir / "cartorio.db") + " " + shell_quote(statement));
    EXPECT_EQ(r.exit_code, 0) << statement << ": " << r.err;
    return trim(r.out);
  }
  // Everything the tests compare: ids and the fields that matter, one row a line.
  struct State {
    std::string certificates, users, documents, audit;
  };
  State state(const fs::path& data_dir) const {
    return {sql(data_dir, "SELECT serial || ' ' || status FROM certificates ORDER BY serial"),
            sql(data_dir, "SELECT username FROM users ORDER BY username"),
            sql(data_dir, "SELECT id || ' ' || signed_sha256 || ' ' || object_key FROM documents ORDER BY id"),
            sql(data_dir, "SELECT id || ' ' || action || ' ' || target FROM audit_events ORDER BY id")};
  }
  // `restore` that must fail with `code` and leave nothing behind.
  void expect_refused(const std::string& args, int exit_code, const std::string& code, const fs::path& target) {
    auto r = cli(target, "restore " + args);
    EXPECT_EQ(r.exit_code, exit_code) << r.out << r.err;
    expect_contains(r.err, code);
    EXPECT_FALSE(fs::exists(target.string() + ".tmp")) << args;
    if (fs::exists(target)) {
      EXPECT_TRUE(fs::is_empty(target)) << args;
    }
    if (postgres_mode()) {
      EXPECT_EQ(trim(psql("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = '" + m_schema + "'").out),
                "0")
          << args << ": tables appeared in the target schema";
    }
  }

  TempDir m_dir;
  std::string m_common;
  std::string m_schema, m_conninfo, m_pg_url;
  std::string m_pid;
};

TEST_F(CliBackup, WipedInstallationComesBackWhole_DamagedBackupsWriteNothing) {
  const fs::path d = m_dir.path();
  // Users, an API key, certificates (one revoked), a signed PDF, audit heads.
  write_file(d / "pw", "correct horse battery staple\n");
  for (const char* user : {"tabeliao", "escrevente"}) {
    auto r = cli(data(), std::string("user add ") + user + " --role notary --password-file " + q(d / "pw"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto key = cli(data(), "apikey create --name backup-test --role notary --json");
  ASSERT_EQ(key.exit_code, 0) << key.err;
  const std::string api_key = json::parse(key.out)["key"].get<std::string>();
  std::vector<std::string> serials;
  for (const char* name : {"www", "api"}) {
    auto r = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + q(d / name) +
                 ".key -out " + q(d / name) + ".csr -subj /CN=" + name + ".notary.test -addext subjectAltName=DNS:" +
                 name + ".notary.test 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = cli(data(), "cert issue --profile tls-server --csr " + q(d / name) + ".csr --out " + q(d / name) + ".pem");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto serial = run("openssl x509 -noout -serial -in " + q(d / name) + ".pem");
    serials.push_back(trim(serial.out.substr(serial.out.find('=') + 1)));
  }
  auto revoke = cli(data(), "cert revoke " + serials[1] + " --reason keyCompromise");
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto samples = cartorio::signing::test::make_sample_pdfs(d / "samples", 1);
  ASSERT_FALSE(samples.empty());
  const fs::path signed_pdf = d / "signed.pdf";
  auto sign = cli(data(), "pdf sign " + q(samples.front().path) + " -o " + q(signed_pdf) + " --json");
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  const std::string doc_id = json::parse(sign.out)["id"].get<std::string>();
  ASSERT_EQ(cli(data(), "audit checkpoint").exit_code, 0);
  const std::string root_before = cli(data(), "ca chain --ca root").out;
  const std::string certs_before = cli(data(), "cert list --json").out;
  const State before = state(data());
  ASSERT_NE(before.documents.find(doc_id), std::string::npos) << before.documents;
  ASSERT_NE(before.certificates.find(" revoked"), std::string::npos) << before.certificates;

  // The backup: a local file and the object store's copy.
  const fs::path file = d / "offsite/installation.cbk";
  auto made = cli(data(), "backup --out " + q(file) + " --json");
  ASSERT_EQ(made.exit_code, 0) << made.err << made.out;
  const auto report = json::parse(made.out);
  EXPECT_TRUE(report["objects_included"].get<bool>());
  ASSERT_EQ(report["objects"].size(), 1u);
  const std::string backup_name = report["name"].get<std::string>();
  auto listed = cli(data(), "backup list");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  expect_contains(listed.out, backup_name);
  const std::string bytes = read_file(file);
  EXPECT_EQ(bytes.find("BEGIN CERTIFICATE"), std::string::npos) << "the backup is not encrypted";
  // The object store's copy is the same file (raw, not re-encrypted under the data keys).
  auto stored = run("find " + q(data() / "objects/backups") + " -name '" + backup_name + "#obj'");
  ASSERT_FALSE(trim(stored.out).empty()) << stored.out;
  const std::string stored_bytes = read_file(trim(stored.out));
  EXPECT_NE(stored_bytes.find(bytes.substr(0, 4096)), std::string::npos) << "the stored backup differs";

  // The master key stays with the operator; then the machine is lost.
  fs::copy_file(data() / "master.key", d / "offsite/master.key");
  fs::permissions(d / "offsite/master.key", fs::perms::owner_read | fs::perms::owner_write);
  fs::remove_all(data());
  if (postgres_mode()) {
    ASSERT_EQ(psql("DROP SCHEMA " + m_schema + " CASCADE").exit_code, 0);
  }

  const fs::path target = d / "restored";
  const std::string master = " --master-key-file " + q(d / "offsite/master.key");
  // Damaged backups: one byte flipped in the middle, the end cut off.
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x20);
  write_file(d / "flipped.cbk", flipped);
  expect_refused(q(d / "flipped.cbk") + master, 3, "backup.invalid", target);
  write_file(d / "cut.cbk", bytes.substr(0, bytes.size() - 100));
  expect_refused(q(d / "cut.cbk") + master, 3, "backup.invalid", target);
  // Another backup key.
  ASSERT_EQ(run("openssl rand -hex 32 > " + q(d / "other.key") + " && chmod 600 " + q(d / "other.key")).exit_code, 0);
  expect_refused(q(file) + master + " --key-file " + q(d / "other.key"), 4, "backup.wrong_key", target);
  // No master key: the backup does not carry it.
  expect_refused(q(file), 3, "input.invalid_argument", target);
  // A data dir that is not empty.
  fs::create_directories(d / "busy");
  write_file(d / "busy/something", "x");
  auto busy = cli(d / "busy", "restore " + q(file) + master);
  EXPECT_EQ(busy.exit_code, 6) << busy.err;
  expect_contains(busy.err, "store.conflict");

  // The restore.
  auto restored = cli(target, "restore " + q(file) + master + " --json");
  ASSERT_EQ(restored.exit_code, 0) << restored.err << restored.out;
  EXPECT_FALSE(fs::exists(target.string() + ".tmp"));

  const State after = state(target);
  EXPECT_EQ(after.certificates, before.certificates);
  EXPECT_EQ(after.users, before.users);
  EXPECT_EQ(after.documents, before.documents);
  // Every event of before, then backup.create (after the snapshot: not in it) and the restore.
  ASSERT_EQ(after.audit.rfind(before.audit, 0), 0u) << "audit events differ";
  const std::string added = after.audit.substr(before.audit.size());
  EXPECT_EQ(std::count(added.begin(), added.end(), '\n'), 1) << added;
  expect_contains(added, "backup.restore");
  EXPECT_EQ(cli(target, "cert list --json").out, certs_before);
  EXPECT_EQ(cli(target, "ca chain --ca root").out, root_before);

  auto verify = cli(target, "audit verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  expect_contains(verify.out, "audit: ok");
  expect_contains(verify.out, "transparency: ok");
  auto pdf = cli(target, "pdf verify " + q(signed_pdf));
  EXPECT_EQ(pdf.exit_code, 0) << pdf.out << pdf.err;
  write_file(d / "root.pem", root_before);
  const auto nss = cartorio::signing::test::make_nss_db(d / "nss", d / "root.pem");
  auto pdfsig = run("pdfsig -nssdir " + nss + " -no-ocsp " + q(signed_pdf));
  expect_contains(pdfsig.out, "Signature is Valid.");
  expect_contains(pdfsig.out, "Certificate is Trusted.");

  // On PostgreSQL the schema is now in use: a second restore into it is refused.
  if (postgres_mode()) {
    auto again = cli(d / "restored-again", "restore " + q(file) + master);
    EXPECT_EQ(again.exit_code, 6) << again.err;
    expect_contains(again.err, "--clean-database");
    EXPECT_FALSE(fs::exists(d / "restored-again"));
    EXPECT_FALSE(fs::exists(d / "restored-again.tmp"));
  }

  // The server starts on it; the old API key works; the signed PDF is served as stored.
  auto served = cartorio::testing::start_serve(m_common + "CARTORIO_DATA_DIR=" + q(target) + " ", CARTORIO_BIN,
                                               d / "serve.log");
  m_pid = served.pid;
  ASSERT_FALSE(served.https.empty()) << read_file(d / "serve.log");
  const std::string curl = "curl -s --cacert " + q(d / "root.pem") + " ";
  auto ready = run(curl + "-o /dev/null -w '%{http_code}' " + served.http + "/readyz");
  EXPECT_EQ(ready.out, "200");
  auto doc = run(curl + "-H 'X-API-Key: " + api_key + "' " + served.https + "/api/v1/documents/" + doc_id);
  ASSERT_EQ(doc.exit_code, 0) << doc.err;
  const auto doc_json = json::parse(doc.out, nullptr, false);
  ASSERT_TRUE(doc_json.is_object() && doc_json.contains("download_url")) << doc.out;
  std::string url = doc_json["download_url"].get<std::string>();
  if (url.rfind("http", 0) != 0) url = served.https + url;
  auto content = run(curl + "-o " + q(d / "downloaded.pdf") + " -w '%{http_code}' " + shell_quote(url));
  EXPECT_EQ(content.out, "200");
  EXPECT_TRUE(read_file(d / "downloaded.pdf") == read_file(signed_pdf)) << "the stored PDF differs";
}

}  // namespace
