// `cartorio audit ship|verify-archive` end to end (issue 7, audit-log-processor): thousands
// of audit events (inserted with the engine's own client), `audit ship` with small batches
// SIGKILLed several times mid-way and run again to completion: the archive holds every
// event exactly once (counted from the batch files themselves, not through cartorio) and
// verify-archive passes; a row edited in the database afterwards is named (exit 11). Runs on
// the embedded defaults (SQLite) and, with CARTORIO_TEST_BACKENDS=postgres, on PostgreSQL.
#include "fixtures/postgres_test_schema.h"
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::postgres_mode;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::trim;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

class CliAuditShip : public ::testing::Test {
 protected:
  // `extra_env` holds for the installation's whole life (init included).
  void init(const std::string& extra_env) {
    m_env = "CARTORIO_DATA_DIR=" + shell_quote(data().string()) +
            " CARTORIO_PKI_PUBLIC_BASE_URL=http://notary.test.example " + extra_env + " ";
    if (postgres_mode()) {
      auto schema = cartorio::testing::PostgresTestSchema::create();
      ASSERT_TRUE(schema) << schema.error().to_string();
      m_schema.emplace(std::move(*schema));
      m_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(m_schema->conninfo()) + " ";
    }
    write_file(m_dir.path() / "passphrase", "correct horse battery staple 2026\n");
    auto r = cartorio("init --root-passphrase-file " + shell_quote((m_dir.path() / "passphrase").string()));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }

  fs::path data() const { return m_dir.path() / "data"; }
  fs::path batches_dir() const { return data() / "objects" / "audit-logs" / "archive" / "batches"; }

  CommandResult cartorio(const std::string& args) { return run(m_env + CARTORIO_BIN " " + args); }

  std::string sql(const std::string& statement) {
    auto r = postgres_mode()
                 ? run("psql " + shell_quote(m_schema->conninfo()) + " -v ON_ERROR_STOP=1 -Atqc " + shell_quote(statement))
                 : run("sqlite3 " + shell_quote((data() / "cartorio.db").string()) + " " + shell_quote(statement));
    EXPECT_EQ(r.exit_code, 0) << statement << ": " << r.err;
    return trim(r.out);
  }

  // `n` audit events, in one statement of the engine's own client.
  void insert_events(int n) {
    const std::string count = std::to_string(n);
    if (postgres_mode())
      sql("INSERT INTO audit_events (time, actor, action, target, result, source, details) "
          "SELECT extract(epoch FROM now())::bigint, 'user:load', 'load.event', 'target-' || i, 'success', "
          "'192.0.2.7', '{\"n\": ' || i || '}' FROM generate_series(1, " + count + ") AS i");
    else
      sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + count + ") "
          "INSERT INTO audit_events (time, actor, action, target, result, source, details) "
          "SELECT CAST(strftime('%s', 'now') AS INTEGER), 'user:load', 'load.event', 'target-' || i, 'success', "
          "'192.0.2.7', '{\"n\": ' || i || '}' FROM n");
  }

  std::size_t batch_files() {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(batches_dir(), ec))
      if (e.path().filename().string().ends_with(".jsonl#obj")) ++n;
    return n;
  }

  // Alive and not a zombie (the reaper may be slow in a container).
  static bool alive(const std::string& pid) {
    auto r = run("ps -o stat= -p " + pid);
    return r.exit_code == 0 && !trim(r.out).empty() && trim(r.out)[0] != 'Z';
  }

  TempDir m_dir;
  std::string m_env;
  std::optional<cartorio::testing::PostgresTestSchema> m_schema;  // dropped after the test
};

// The event lines of every batch file, read as files: the filesystem backend's two header
// lines ("cartorio-object 1" and a JSON header), then the JSON Lines, the last a trailer.
std::map<std::int64_t, int> count_archived_ids(const fs::path& dir, std::size_t& trailers) {
  std::map<std::int64_t, int> ids;
  trailers = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.path().filename().string().ends_with(".jsonl#obj")) continue;
    std::istringstream in(read_file(entry.path()));
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "cartorio-object 1") << entry.path();
    std::getline(in, line);  // the backend's header
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("trailer")) {
        ++trailers;
        continue;
      }
      ++ids[j.at("id").get<std::int64_t>()];
    }
  }
  return ids;
}

TEST_F(CliAuditShip, WorkerKilledMidWaySeveralTimes_TheArchiveHasEveryEventOnce) {
  // Plain objects so the test reads the batch files itself, and batches of 10 so a run
  // takes long enough to be killed in the middle.
  init("CARTORIO_OBJECTS_ENCRYPTION=false CARTORIO_AUDIT_SHIPPING_BATCH_MAX_EVENTS=10");
  insert_events(8000);

  int killed_while_running = 0;
  for (int round = 0; round < 4; ++round) {
    const std::size_t before = batch_files();
    // The worker's job (audit-log-processor) and the operator's command take turns: both
    // resume where the other was killed.
    const std::string command = round % 2 == 0 ? " worker --once audit-log-processor" : " audit ship";
    auto started = run(m_env + CARTORIO_BIN + command + " >/dev/null 2>" +
                       shell_quote((m_dir.path() / ("ship" + std::to_string(round) + ".log")).string()) +
                       " & echo $!");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const std::string pid = trim(started.out);
    // Until some batches of this run have landed (or it finished, on a fast machine).
    while (alive(pid) && batch_files() < before + 25) run("sleep 0.02");
    if (alive(pid) && run("kill -9 " + pid).exit_code == 0) ++killed_while_running;
    while (alive(pid)) run("sleep 0.02");
  }
  EXPECT_GE(killed_while_running, 1) << "every run finished before it could be killed";

  auto rest = cartorio("audit ship --json");
  ASSERT_EQ(rest.exit_code, 0) << rest.err << rest.out;
  const auto shipped = nlohmann::json::parse(rest.out);
  const std::int64_t end = shipped.at("archived_through").get<std::int64_t>();

  auto verified = cartorio("audit verify-archive --json");
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const auto report = nlohmann::json::parse(verified.out);
  EXPECT_TRUE(report.at("ok").get<bool>()) << report.dump(2);
  EXPECT_EQ(report.at("last_id").get<std::int64_t>(), end);

  // Counted from the files: every event of the store up to the archive's end exactly once.
  std::size_t trailers = 0;
  const auto archived = count_archived_ids(batches_dir(), trailers);
  EXPECT_EQ(trailers, batch_files());
  std::istringstream store_ids(sql("SELECT id FROM audit_events ORDER BY id"));
  std::size_t checked = 0;
  for (std::string line; std::getline(store_ids, line);) {
    const std::int64_t id = std::stoll(line);
    if (id > end) continue;
    ++checked;
    auto it = archived.find(id);
    ASSERT_TRUE(it != archived.end()) << "event " << id << " is in no batch";
    EXPECT_EQ(it->second, 1) << "event " << id << " is archived " << it->second << " times";
  }
  EXPECT_GE(checked, 8000u);
  EXPECT_EQ(archived.size(), checked) << "the archive holds ids the store does not";
  // What is left behind is the last batch signature(s), never someone else's event.
  EXPECT_EQ(sql("SELECT count(*) FROM audit_events WHERE id > " + std::to_string(end) +
                " AND NOT (action = 'key.use' AND details LIKE '%sign-audit-batch%')"),
            "0");
  EXPECT_EQ(sql("SELECT count(*) FROM audit_events WHERE action = 'load.event' AND id > " + std::to_string(end)),
            "0");
}

TEST_F(CliAuditShip, OnTheDefaults_ShipThenVerify_AndAnEditedRowIsNamed) {
  init("");  // objects encrypted at rest, default batch size
  insert_events(2500);
  auto shipped = cartorio("audit ship");
  ASSERT_EQ(shipped.exit_code, 0) << shipped.err << shipped.out;
  EXPECT_NE(shipped.out.find("audit-logs/archive/batches/00000000000000000001.jsonl"), std::string::npos)
      << shipped.out;
  EXPECT_NE(shipped.out.find("shipped 3 batches"), std::string::npos) << shipped.out;

  // Nothing but its own signature is pending: a second run writes nothing.
  auto again = cartorio("audit ship --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out).at("batches").size(), 0u) << again.out;

  auto ok = cartorio("audit verify-archive");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("archive: ok (3 batches"), std::string::npos) << ok.out;

  const std::string id = sql("SELECT id FROM audit_events WHERE action = 'load.event' ORDER BY id LIMIT 1 OFFSET 1200");
  sql("UPDATE audit_events SET target = 'forged' WHERE id = " + id);
  auto tampered = cartorio("audit verify-archive --json");
  EXPECT_EQ(tampered.exit_code, 11) << tampered.out << tampered.err;
  const auto report = nlohmann::json::parse(tampered.out);
  ASSERT_EQ(report.at("findings").size(), 1u) << report.dump(2);
  EXPECT_EQ(report["findings"][0]["problem"], "changed");
  EXPECT_EQ(std::to_string(report["findings"][0]["id"].get<std::int64_t>()), id);
}

}  // namespace
