// Personal data of document signatories end to end (issue 6's must-show), through the real
// binary and `cartorio serve`, judged by the engine's own tools (sqlite3 .dump / pg_dump,
// psql) and curl:
//   - a database dump shows no CPF (in any spelling), no signatory name and no e-mail;
//   - the API finds a document by CPF through the blind index, and finds nothing for
//     another CPF; the public transparency endpoints and /verify show no personal data;
//   - after `cartorio objects rotate-data-key` new rows are sealed under the new key, old and
//     new rows read back, `cartorio pii reencrypt` moves the old ones (a second run moves
//     none) and every row still reads;
//   - an invalid CPF is refused with input.invalid_cpf and nothing is issued or stored.
// Runs on the embedded defaults (SQLite) and, with CARTORIO_TEST_BACKENDS=postgres, on the
// fixture's PostgreSQL.
#include "signing/sample_pdfs.h"
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <sstream>

namespace {

using cartorio::testing::postgres_mode;
using cartorio::testing::trim;
using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

// Three signatories: valid CPFs, names and addresses found nowhere else in an installation.
struct Person {
  std::string cpf;     // formatted
  std::string digits;  // 11 digits
  std::string name;
  std::string email;
};
const Person kAna{"529.982.247-25", "52998224725", "Ana Beatriz Quintanilha", "ana.quintanilha@correio-cidadao.example"};
const Person kJoao{"111.444.777-35", "11144477735", "Jo\xc3\xa3o Pedro Vasconcelos",
                   "joao.vasconcelos@correio-cidadao.example"};
const Person kRita{"390.533.447-05", "39053344705", "Rita de C\xc3\xa1ssia Albuquerque",
                   "rita.albuquerque@correio-cidadao.example"};

// The CPF's digits in any spelling: bare, dotted, with spaces, slashes or dashes between the
// groups ("529.982.247-25", "52998224725", "529 982 247 25", "529982247/25"...).
std::regex cpf_pattern(const Person& p) {
  const std::string& d = p.digits;
  const std::string sep = "[^0-9]?";
  return std::regex(d.substr(0, 3) + sep + d.substr(3, 3) + sep + d.substr(6, 3) + sep + d.substr(9, 2));
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// No trace of `p` in `text`: the CPF in any spelling, the name, its long words (case
// ignored: shorter ones could turn up by chance in base64), the e-mail or its local part.
void expect_no_trace(const std::string& text, const Person& p, const std::string& where) {
  EXPECT_FALSE(std::regex_search(text, cpf_pattern(p))) << where << " shows the CPF " << p.cpf;
  EXPECT_EQ(text.find(p.name), std::string::npos) << where << " shows " << p.name;
  const std::string low = lower(text);
  std::string word;
  for (char c : p.name + " ") {
    if (c != ' ') {
      word += c;
      continue;
    }
    if (word.size() >= 8) {
      EXPECT_EQ(low.find(lower(word)), std::string::npos) << where << " shows \"" << word << "\"";
    }
    word.clear();
  }
  EXPECT_EQ(low.find(lower(p.email)), std::string::npos) << where << " shows " << p.email;
  EXPECT_EQ(low.find(lower(p.email.substr(0, p.email.find('@')))), std::string::npos) << where;
}

// "pii1.<key id>.<b64>" -> "<key id>".
std::string key_of(const std::string& token) {
  if (token.rfind("pii1.", 0) != 0) return "<not a token: " + token.substr(0, 12) + ">";
  return token.substr(5, token.rfind('.') - 5);
}

class CliPii : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='pii test passphrase 2026' CARTORIO_DOCUMENTS_DEFAULT_LEVEL=B-B"
            " CARTORIO_LIMITS_PER_CLIENT_BURST=1000 CARTORIO_LIMITS_PER_IP_BURST=5000 ";
    if (postgres_mode()) {
      auto conninfo = cartorio::testing::read_env_file("CARTORIO_TEST_PG_CONNINFO_FILE");
      ASSERT_TRUE(conninfo) << "CARTORIO_TEST_PG_CONNINFO_FILE is not set: run through ctest (fixture postgres)";
      std::random_device rd;
      s_schema = "pii" + std::to_string(rd());
      s_conninfo = *conninfo;
      auto r = run("psql " + shell_quote(s_conninfo) + " -v ON_ERROR_STOP=1 -qc 'CREATE SCHEMA " + s_schema + "'");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      s_pg_url = s_conninfo + " options='-csearch_path=" + s_schema + "'";
      s_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(s_pg_url) + " ";
    }
    auto r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = json::parse(r.out)["root_certificate"].get<std::string>();
    for (const char* role : {"notary", "clerk", "auditor"}) {
      r = cli(std::string("apikey create --name pii-") + role + " --role " + role + " --json");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      s_keys[role] = json::parse(r.out)["key"].get<std::string>();
    }
    auto samples = cartorio::signing::test::make_sample_pdfs(d / "samples", 1);
    ASSERT_FALSE(samples.empty());
    s_pdf = samples.front().path.string();

    const auto log = d / "serve.log";
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, log);
    s_pid = served.pid;
    s_http = served.http;
    s_https = served.https;
    ASSERT_FALSE(s_https.empty()) << read_file(log);
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    if (!s_schema.empty())
      run("psql " + shell_quote(s_conninfo) + " -qc 'DROP SCHEMA " + s_schema + " CASCADE' >/dev/null 2>&1");
    s_dir.reset();
  }

  static CommandResult cli(const std::string& args) { return run(s_env + CARTORIO_BIN " " + args); }

  // curl against the HTTPS API (or a public URL); returns (status, body).
  static std::pair<int, std::string> get(const std::string& url, const std::string& extra = "") {
    auto r = run("curl -s --cacert " + s_root + " -w ' %{http_code}' " + extra + " " + shell_quote(url));
    const auto space = r.out.rfind(' ');
    if (space == std::string::npos) return {-1, r.out};
    return {std::atoi(r.out.c_str() + space + 1), r.out.substr(0, space)};
  }
  static std::pair<int, std::string> api(const std::string& role, const std::string& path,
                                         const std::string& extra = "") {
    return get(s_https + path, "-H 'X-API-Key: " + s_keys[role] + "' " + extra);
  }
  static std::string lookup_path(const std::string& cpf) {
    std::string escaped;
    for (char c : cpf) escaped += c == ' ' ? std::string("%20") : std::string(1, c);
    return "/api/v1/documents?signer_cpf=" + escaped;
  }

  // The database behind the store's back, with the engine's own client.
  static std::string sql(const std::string& statement) {
    auto r = postgres_mode()
                 ? run("psql " + shell_quote(s_pg_url) + " -X -v ON_ERROR_STOP=1 -Atqc " + shell_quote(statement))
                 : run("sqlite3 " + shell_quote(db_path()) + " " + shell_quote(statement));
    EXPECT_EQ(r.exit_code, 0) << statement << ": " << r.err;
    return trim(r.out);
  }
  static std::string db_path() { return (s_dir->path() / "data" / "cartorio.db").string(); }
  // Everything the database holds, as its own dump tool writes it.
  static std::string dump() {
    auto r = postgres_mode() ? run("pg_dump --no-owner -n " + s_schema + " " + shell_quote("-d" + s_conninfo))
                             : run("sqlite3 " + shell_quote(db_path()) + " .dump");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("documents"), std::string::npos) << "not a dump of the installation: " << r.out.substr(0, 400);
    return r.out;
  }

  // `pdf sign` naming `p` as the signatory; the document record (JSON).
  static json sign_cli(const Person& p, const std::string& out_name) {
    auto r = cli("pdf sign " + shell_quote(s_pdf) + " -o " + shell_quote((s_dir->path() / out_name).string()) +
                 " --signer-cpf " + shell_quote(p.cpf) + " --signer-name " + shell_quote(p.name) + " --signer-email " +
                 shell_quote(p.email) + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // POST /api/v1/documents as the notary, multipart, CPF in its 11-digit spelling.
  static json sign_api(const Person& p) {
    auto [status, body] = api("notary", "/api/v1/documents",
                              "-F " + shell_quote("file=@" + s_pdf + ";type=application/pdf") + " -F " +
                                  shell_quote("signer_cpf=" + p.digits) + " -F " + shell_quote("signer_name=" + p.name) +
                                  " -F " + shell_quote("signer_email=" + p.email));
    EXPECT_EQ(status, 201) << body;
    return status == 201 ? json::parse(body) : json();
  }

  // GET /api/v1/documents/{id} as the notary shows `p`, in the clear.
  static void expect_reads_back(const std::string& id, const Person& p) {
    auto [status, body] = api("notary", "/api/v1/documents/" + id);
    ASSERT_EQ(status, 200) << body;
    auto j = json::parse(body);
    EXPECT_EQ(j.value("signer_cpf", ""), p.cpf) << body;
    EXPECT_EQ(j.value("signer_name", ""), p.name) << body;
    EXPECT_EQ(j.value("signer_email", ""), p.email) << body;
  }
  static std::vector<std::string> found_ids(const std::string& role, const std::string& cpf) {
    auto [status, body] = api(role, lookup_path(cpf));
    EXPECT_EQ(status, 200) << body;
    std::vector<std::string> ids;
    if (status != 200) return {"<error>"};
    const json listing = json::parse(body);  // named: a range-for over a temporary's member dangles
    for (const auto& d : listing["documents"]) ids.push_back(d["id"]);
    return ids;
  }
  // id -> the key id of each of its tokens.
  static std::map<std::string, std::vector<std::string>> token_keys() {
    std::map<std::string, std::vector<std::string>> out;
    const std::string rows = sql(
        "SELECT id || '|' || COALESCE(signer_cpf, '') || '|' || COALESCE(signer_name, '') || '|' || "
        "COALESCE(signer_email, '') FROM documents WHERE signer_cpf IS NOT NULL ORDER BY id");
    std::istringstream in(rows);
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> f;
      std::istringstream cols(line);
      for (std::string c; std::getline(cols, c, '|');) f.push_back(c);
      if (f.size() != 4) {
        ADD_FAILURE() << "unexpected row " << line;
        continue;
      }
      for (std::size_t i = 1; i < 4; ++i) out[f[0]].push_back(key_of(f[i]));
    }
    return out;
  }
  static int count(const std::string& table) { return std::atoi(sql("SELECT COUNT(*) FROM " + table).c_str()); }
  static int stored_pdfs() {
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(s_dir->path() / "data" / "objects" / "documents", ec)) {
      (void)e;
      ++n;
    }
    return n;
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env, s_root, s_pid, s_http, s_https, s_pdf, s_schema, s_conninfo, s_pg_url;
  static std::map<std::string, std::string> s_keys;
};

std::unique_ptr<TempDir> CliPii::s_dir;
std::string CliPii::s_env, CliPii::s_root, CliPii::s_pid, CliPii::s_http, CliPii::s_https, CliPii::s_pdf,
    CliPii::s_schema, CliPii::s_conninfo, CliPii::s_pg_url;
std::map<std::string, std::string> CliPii::s_keys;

TEST_F(CliPii, ADumpShowsNoPersonalData_ALookupByCpfFindsTheDocument) {
  const json by_cli = sign_cli(kAna, "ana.pdf");
  ASSERT_FALSE(by_cli.is_null());
  EXPECT_EQ(by_cli["signer_cpf_masked"], "***.982.247-**");  // screens show it masked
  const json by_api = sign_api(kJoao);
  ASSERT_FALSE(by_api.is_null());
  // The response carries what was sent, validated and formatted.
  EXPECT_EQ(by_api["signer_cpf"], kJoao.cpf);
  EXPECT_EQ(by_api["signer_name"], kJoao.name);
  EXPECT_EQ(by_api["signer_email"], kJoao.email);
  const std::string ana_id = by_cli["id"], joao_id = by_api["id"];

  // The database: tokens and digests only.
  const std::string everything = dump();
  // It is the whole installation's data: both rows, with their tokens.
  for (const std::string& id : {ana_id, joao_id}) expect_contains(everything, id);
  expect_contains(everything, "pii1.");
  for (const auto* p : {&kAna, &kJoao}) expect_no_trace(everything, *p, postgres_mode() ? "pg_dump" : "sqlite3 .dump");
  EXPECT_EQ(sql("SELECT substr(signer_cpf, 1, 5) || length(signer_cpf_index) FROM documents WHERE id = '" + ana_id + "'"),
            "pii1.43");

  // The blind index finds each by CPF in either spelling; another valid CPF finds nothing.
  EXPECT_EQ(found_ids("notary", kAna.cpf), std::vector<std::string>{ana_id});
  EXPECT_EQ(found_ids("notary", kAna.digits), std::vector<std::string>{ana_id});
  EXPECT_EQ(found_ids("notary", kJoao.cpf), std::vector<std::string>{joao_id});
  EXPECT_TRUE(found_ids("notary", "987.654.321-00").empty());
  {
    auto [status, body] = api("notary", lookup_path(kAna.cpf));
    ASSERT_EQ(status, 200) << body;
    const auto doc = json::parse(body)["documents"][0];
    EXPECT_EQ(doc["signer_name"], kAna.name);
    EXPECT_EQ(doc["signer_email"], kAna.email);
  }
  expect_reads_back(ana_id, kAna);
  expect_reads_back(joao_id, kJoao);

  // A malformed CPF is bad input, not "none found".
  auto [bad_status, bad_body] = api("notary", lookup_path("529.982.247-24"));
  EXPECT_EQ(bad_status, 400) << bad_body;
  expect_contains(bad_body, "input.invalid_cpf");
  // A clerk sees only their own documents (none); an auditor has no document route.
  EXPECT_TRUE(found_ids("clerk", kAna.cpf).empty());
  EXPECT_EQ(api("clerk", "/api/v1/documents/" + ana_id).first, 404);
  EXPECT_EQ(api("auditor", lookup_path(kAna.cpf)).first, 403);

  // The public side: the transparency log and the verification page name no one.
  for (const std::string& id : {ana_id, joao_id}) {
    for (const std::string& path : {"/transparency/documents/" + id, "/verify/" + id}) {
      auto [status, body] = get(s_http + path);
      ASSERT_EQ(status, 200) << path << ": " << body;
      for (const auto* p : {&kAna, &kJoao}) expect_no_trace(body, *p, path);
    }
  }
  auto [tstatus, by_digest] = get(s_http + "/transparency/documents?sha256=" + by_cli["signed_sha256"].get<std::string>());
  ASSERT_EQ(tstatus, 200) << by_digest;
  expect_no_trace(by_digest, kAna, "transparency by digest");
}

TEST_F(CliPii, RotationKeepsEveryRowReadable_AndReencryptMovesTheOldOnes) {
  const json old_doc = sign_cli(kRita, "rita.pdf");
  ASSERT_FALSE(old_doc.is_null());
  const std::string old_id = old_doc["id"];
  const std::string old_key = token_keys()[old_id].at(0);

  auto rotated = cli("objects rotate-data-key");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string new_key = trim(rotated.out);
  ASSERT_NE(new_key, old_key);

  // The running server sees the rotation at once: its next document is sealed under the new key.
  const json new_doc = sign_api(kJoao);
  ASSERT_FALSE(new_doc.is_null());
  const std::string new_id = new_doc["id"];
  auto keys = token_keys();
  EXPECT_EQ(keys[new_id], (std::vector<std::string>{new_key, new_key, new_key}));
  EXPECT_EQ(keys[old_id], (std::vector<std::string>{old_key, old_key, old_key}));
  // Old and new rows read back.
  expect_reads_back(old_id, kRita);
  expect_reads_back(new_id, kJoao);

  auto pass = cli("pii reencrypt --json");
  ASSERT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  const auto stats = json::parse(pass.out);
  EXPECT_EQ(stats["active_key"], new_key);
  EXPECT_TRUE(stats["complete"].get<bool>());
  EXPECT_GE(stats["rows_updated"].get<int>(), 1) << pass.out;
  EXPECT_GE(stats["tokens_resealed"].get<int>(), 3) << pass.out;
  EXPECT_EQ(stats["tokens_unreadable"], 0);
  for (const auto& [id, ks] : token_keys())
    EXPECT_EQ(ks, (std::vector<std::string>{new_key, new_key, new_key})) << id << " was left under an old key";

  auto again = cli("pii reencrypt --json");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(json::parse(again.out)["tokens_resealed"], 0) << again.out;
  EXPECT_EQ(json::parse(again.out)["rows_updated"], 0) << again.out;
  auto text = cli("pii reencrypt");
  EXPECT_EQ(text.exit_code, 0);
  expect_contains(text.out, "0 re-sealed (0 tokens) under " + new_key);

  // Every row still reads, and the blind index (not a data key) still finds the old one.
  expect_reads_back(old_id, kRita);
  expect_reads_back(new_id, kJoao);
  auto [lstatus, listing] = api("notary", lookup_path(kJoao.cpf));
  ASSERT_EQ(lstatus, 200) << listing;
  const json joao_docs = json::parse(listing);
  ASSERT_GE(joao_docs["documents"].size(), 1u) << listing;
  for (const auto& d : joao_docs["documents"]) EXPECT_EQ(d["signer_name"], kJoao.name) << listing;
  EXPECT_EQ(found_ids("notary", kRita.cpf), std::vector<std::string>{old_id});
  // The pass is in the audit trail, without personal data.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM audit_events WHERE action = 'pii.reencrypt'"), "3");
  expect_no_trace(dump(), kRita, "dump after re-encryption");
}

TEST_F(CliPii, TheScheduledDataKeyJob_MovesEveryTokenAfterARotation) {
  const json doc = sign_cli(kAna, "ana-job.pdf");
  ASSERT_FALSE(doc.is_null());
  auto rotated = cli("objects rotate-data-key");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string new_key = trim(rotated.out);
  EXPECT_NE(token_keys()[doc["id"].get<std::string>()].at(0), new_key);

  // The worker's data-key-reencrypt job, run now as the schedule would run it.
  auto job = cli("worker --once data-key-reencrypt");
  ASSERT_EQ(job.exit_code, 0) << job.out << job.err;
  for (const auto& [id, ks] : token_keys())
    EXPECT_EQ(ks, (std::vector<std::string>{new_key, new_key, new_key})) << id << " was left under an old key";
  expect_reads_back(doc["id"].get<std::string>(), kAna);
  // The server ran it once at start (schedule), the worker now (manual): both audited and recorded.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM audit_events WHERE action = 'data-key.reencrypt' AND result <> 'success'"), "0");
  EXPECT_GE(std::stoi(sql("SELECT COUNT(*) FROM audit_events WHERE action = 'data-key.reencrypt' "
                          "AND actor = 'job:data-key-reencrypt'")),
            1);
  auto runs = cli("jobs runs --job data-key-reencrypt");
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  const auto recorded = json::parse(runs.out)["runs"];
  ASSERT_FALSE(recorded.empty()) << runs.out;
  EXPECT_EQ(recorded[0]["trigger"], "manual") << runs.out;
  for (const auto& r : recorded) EXPECT_EQ(r["result"], "success") << runs.out;
}

TEST_F(CliPii, AnInvalidCpfIsRefused_AndNothingIsIssuedOrStored) {
  const int documents = count("documents"), certificates = count("certificates"), pdfs = stored_pdfs();
  for (const char* bad : {"529.982.247-24", "111.111.111-11", "529982.247-25", "5299822472x"}) {
    auto r = cli("pdf sign " + shell_quote(s_pdf) + " -o " + shell_quote((s_dir->path() / "never.pdf").string()) +
                 " --signer-cpf " + shell_quote(bad) + " --signer-name " + shell_quote(kAna.name));
    EXPECT_EQ(r.exit_code, 3) << bad << ": " << r.err;
    expect_contains(r.err, "input.invalid_cpf");
    EXPECT_EQ(r.err.find(bad), std::string::npos) << "the message repeats the input: " << r.err;
    EXPECT_FALSE(fs::exists(s_dir->path() / "never.pdf"));

    auto [status, body] = api("notary", "/api/v1/documents",
                              "-F " + shell_quote("file=@" + s_pdf + ";type=application/pdf") + " -F " +
                                  shell_quote(std::string("signer_cpf=") + bad));
    EXPECT_EQ(status, 400) << body;
    expect_contains(body, "input.invalid_cpf");
  }
  // A bad e-mail is refused the same way, before anything happens.
  auto [status, body] = api("notary", "/api/v1/documents?signer_email=not-an-address",
                            "-X POST -H 'Content-Type: application/pdf' --data-binary @" + shell_quote(s_pdf));
  EXPECT_EQ(status, 400) << body;
  expect_contains(body, "input.invalid_argument");
  auto r = cli("pdf sign " + shell_quote(s_pdf) + " -o " + shell_quote((s_dir->path() / "never.pdf").string()) +
               " --signer-email 'ana@'");
  EXPECT_EQ(r.exit_code, 3) << r.err;

  EXPECT_EQ(count("documents"), documents);
  EXPECT_EQ(count("certificates"), certificates);
  EXPECT_EQ(stored_pdfs(), pdfs);
}

}  // namespace
