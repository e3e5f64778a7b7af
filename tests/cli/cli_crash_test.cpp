// Failure drill: `kill -9` of `cartorio serve` while documents are being signed, on the
// embedded defaults (SQLite, filesystem object store). Afterwards:
//   - the SQLite file passes PRAGMA integrity_check and the audit log verifies;
//   - every signing that was cut short left only a certificate no document names (and maybe
//     its signed PDF); the documents.unfinished job, run once its grace has passed
//     (CARTORIO_FAKE_CLOCK an hour ahead), revokes each as cessationOfOperation and erases
//     the PDF: then every document-signing certificate is a document's or revoked, and every
//     stored document PDF has its record;
//   - the restarted server lists every recorded document and serves its exact bytes.
#include "signing/sample_pdfs.h"
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

namespace {

using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::trim;
namespace fs = std::filesystem;

std::set<std::string> lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

class CliCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path d = m_dir.path();
    m_data = d / "data";
    m_env = "CARTORIO_DATA_DIR=" + shell_quote(m_data.string()) +
            " CARTORIO_ROOT_PASSPHRASE='crash drill passphrase 2026' CARTORIO_LIMITS_PER_CLIENT_BURST=100000"
            " CARTORIO_LIMITS_PER_CLIENT_PER_SECOND=100000 ";
    auto r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    m_root = nlohmann::json::parse(r.out)["root_certificate"].get<std::string>();
    r = cli("apikey create --name drill --role notary --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    m_key = nlohmann::json::parse(r.out)["key"].get<std::string>();
    m_pdf = cartorio::signing::test::make_sample_pdfs(d / "samples").front().path;
  }

  void TearDown() override {
    run("pkill -9 -f " + shell_quote(m_dir.path().string() + "/sign-loop") + " 2>/dev/null || true");
    if (!m_pid.empty()) run("kill -9 " + m_pid + " 2>/dev/null || true");
  }

  cartorio::testing::CommandResult cli(const std::string& args, const std::string& extra_env = "") {
    return run(m_env + extra_env + " " CARTORIO_BIN " " + args);
  }
  cartorio::testing::CommandResult sql(const std::string& query) {
    return run("sqlite3 " + shell_quote((m_data / "cartorio.db").string()) + " " + shell_quote(query));
  }

  // A log of its own per start: start_serve waits for the "server.started" line, which an
  // earlier start's log already holds.
  void serve() {
    const auto log = m_dir.path() / ("serve-" + std::to_string(++m_starts) + ".log");
    auto served = cartorio::testing::start_serve(m_env, CARTORIO_BIN, log);
    m_pid = served.pid;
    m_https = served.https;
    ASSERT_FALSE(m_https.empty()) << read_file(log);
  }

  // `kill -9` returns once the signal is queued; a thread inside fsync dies only when that
  // returns, and the thread-group leader shows as a zombie before the others are gone. Until
  // the last thread is (its files closed), the process holds SQLite's shared-memory lock, so
  // a reader trusts the WAL index the dying process may not have updated yet and misses a
  // commit that the next first opener's recovery will find. So: wait until only the leader's
  // zombie, or nothing, is left.
  void kill_server() {
    run("kill -9 " + m_pid);
    const std::string task = "/proc/" + m_pid + "/task";
    run("for i in $(seq 500); do [ -d " + task + " ] || break; [ $(ls " + task + " | wc -l) -le 1 ] && [ \"$(cut -d' ' -f3 /proc/" +
        m_pid + "/stat)\" = Z ] && break; sleep 0.02; done 2>/dev/null");
    m_pid.clear();
  }

  // Document-signing certificates still good that no document names.
  int unfinished() {
    auto r = sql("SELECT count(*) FROM certificates c WHERE c.profile = 'document-signing' AND c.status = 'good'"
                 " AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.signer_serial = c.serial)");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::atoi(r.out.c_str());
  }

  TempDir m_dir;
  fs::path m_data, m_pdf;
  std::string m_env, m_root, m_key, m_pid, m_https;
  int m_starts = 0;
};

TEST_F(CliCrash, KillDuringSigning_LeavesNoHalfWrittenDocument_AndTheJobRevokesWhatWasCutShort) {
  // Rounds of: six clients signing B-T documents (the TSA round trip widens the window
  // between the certificate and the record) in a loop, then kill -9 of the server. Most
  // rounds catch a signing mid-way; stop at the first that did.
  const std::string loop = (m_dir.path() / "sign-loop").string();
  cartorio::testing::write_file(
      loop, "#!/bin/sh\nwhile :; do curl -s -o /dev/null --max-time 30 --cacert " + m_root + " -H 'X-API-Key: " + m_key +
                "' -H 'Content-Type: application/pdf' --data-binary @" + m_pdf.string() + " \"$1/api/v1/documents?level=B-T\"; done\n");
  fs::permissions(loop, fs::perms::owner_all);
  int cut_short = 0;
  for (int round = 0; round < 6 && cut_short == 0; ++round) {
    ASSERT_NO_FATAL_FAILURE(serve());
    for (int i = 0; i < 6; ++i) run(loop + " " + m_https + " >/dev/null 2>&1 &");
    run("sleep " + std::to_string(2 + round));
    kill_server();
    run("pkill -9 -f " + shell_quote(loop) + " 2>/dev/null || true");
    cut_short = unfinished();
  }
  ASSERT_GT(cut_short, 0) << "no round killed the server mid-signing";
  const int documents_before = std::atoi(sql("SELECT count(*) FROM documents").out.c_str());
  EXPECT_GT(documents_before, 0);

  // Nothing half-written in the store, the audit chain intact.
  EXPECT_EQ(trim(sql("PRAGMA integrity_check").out), "ok");
  auto r = cli("audit verify");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Within its grace the job leaves them: the signing could still be running elsewhere.
  r = cli("worker --once documents.unfinished");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(unfinished(), cut_short);

  // Past it, each is revoked as cessationOfOperation and its PDF, if stored, erased.
  r = cli("worker --once documents.unfinished", "CARTORIO_FAKE_CLOCK=" + cartorio::testing::rfc3339_from_now(3600));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(unfinished(), 0);
  auto revoked = sql("SELECT count(*) FROM certificates c WHERE c.profile = 'document-signing' AND c.status = 'revoked'"
                     " AND c.revocation_reason = 5 AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.signer_serial = c.serial)");
  EXPECT_EQ(std::atoi(revoked.out.c_str()), cut_short) << revoked.err;
  auto events = sql("SELECT count(*) FROM audit_events WHERE action = 'certificate.revoke' AND actor = 'job:documents.unfinished'");
  EXPECT_EQ(std::atoi(events.out.c_str()), cut_short) << events.err;
  EXPECT_EQ(std::atoi(sql("SELECT count(*) FROM documents").out.c_str()), documents_before);

  // Every document PDF whose current version is an object (not a delete marker) has its record.
  const auto recorded = lines(sql("SELECT id FROM documents").out);
  std::set<std::string> stored;
  for (const auto& e : fs::directory_iterator(m_data / "objects" / "documents")) {
    const std::string name = e.path().filename().string();
    if (name.size() < 8 || name.substr(name.size() - 8) != ".pdf#obj") continue;
    const std::string header = read_file(e.path()).substr(0, 4096);
    if (header.find("\"delete_marker\":true") != std::string::npos) continue;
    stored.insert(name.substr(0, name.size() - 8));
  }
  for (const auto& id : stored) EXPECT_TRUE(recorded.count(id)) << id << " is stored without a record";
  for (const auto& id : recorded) EXPECT_TRUE(stored.count(id)) << id << " is recorded but not stored";

  // The restarted server lists them all and serves each one's recorded bytes.
  ASSERT_NO_FATAL_FAILURE(serve());
  const std::string auth = "curl -s --cacert " + m_root + " -H 'X-API-Key: " + m_key + "' ";
  r = run(auth + "'" + m_https + "/api/v1/documents?limit=1000'");
  const auto listed = nlohmann::json::parse(r.out)["documents"];
  EXPECT_EQ(listed.size(), recorded.size());
  int checked = 0;
  for (const auto& doc : listed) {
    if (checked++ == 5) break;
    const std::string id = doc["id"];
    r = run(auth + m_https + "/api/v1/documents/" + id);
    const std::string link = nlohmann::json::parse(r.out)["download_url"];
    r = run(auth + "-o " + (m_dir.path() / "got.pdf").string() + " -w '%{http_code}' '" + m_https + link + "'");
    EXPECT_EQ(r.out, "200") << id;
    EXPECT_EQ(run("sha256sum " + (m_dir.path() / "got.pdf").string()).out.substr(0, 64),
              doc["signed_sha256"].get<std::string>())
        << id;
  }
}

}  // namespace
