// The audit and transparency APIs through `cartorio serve`, with curl: a document signed with
// `cartorio pdf sign` is found by id and by digest on the public endpoints (no login), with a
// proof that tests/audit/verify_proofs.py (an independent RFC 9162 verifier in Python)
// accepts against the published signed tree head; /verify/{id} shows it to people; a
// revocation shows at once. The auditor API gives heads, inclusion and consistency proofs
// the same verifier accepts, and refuses other roles.
#include "signing/sample_pdfs.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
using nlohmann::json;
namespace fs = std::filesystem;

class CliTransparency : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='transparency test 2026' CARTORIO_DOCUMENTS_DEFAULT_LEVEL=B-B ";
    auto r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = json::parse(r.out)["root_certificate"].get<std::string>();
    for (const char* role : {"auditor", "clerk"}) {
      r = cli(std::string("apikey create --name t-") + role + " --role " + role + " --json");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      s_keys[role] = json::parse(r.out)["key"].get<std::string>();
    }
    auto samples = cartorio::signing::test::make_sample_pdfs(d / "samples", 1);
    ASSERT_FALSE(samples.empty());
    r = cli("pdf sign " + shell_quote(samples.front().path.string()) + " -o " + (d / "signed.pdf").string() +
            " --title 'Escritura de Jo\xc3\xa3o' --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    s_doc = json::parse(r.out);
    r = cli("audit checkpoint");
    ASSERT_EQ(r.exit_code, 0) << r.err;

    const auto log = d / "serve.log";
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, log);
    s_pid = served.pid;
    s_http = served.http;
    s_https = served.https;
    ASSERT_FALSE(s_https.empty()) << read_file(log);
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  static CommandResult cli(const std::string& args) { return run(s_env + CARTORIO_BIN " " + args); }

  // GET/POST with curl; returns (status, body).
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

  // Runs the independent verifier on a bundle; returns its result.
  CommandResult verify_bundle(const json& bundle) {
    const auto file = m_dir.path() / "bundle.json";
    write_file(file, bundle.dump());
    return run("python3 " CARTORIO_SOURCE_DIR "/tests/audit/verify_proofs.py " + file.string());
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env, s_root, s_pid, s_http, s_https;
  static std::map<std::string, std::string> s_keys;
  static json s_doc;
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliTransparency::s_dir;
std::string CliTransparency::s_env, CliTransparency::s_root, CliTransparency::s_pid, CliTransparency::s_http,
    CliTransparency::s_https;
std::map<std::string, std::string> CliTransparency::s_keys;
json CliTransparency::s_doc;

TEST_F(CliTransparency, ADocumentIsFoundByIdAndDigest_WithAProofTheIndependentVerifierAccepts) {
  const std::string id = s_doc["id"];
  const std::string digest = run("sha256sum " + (s_dir->path() / "signed.pdf").string()).out.substr(0, 64);
  ASSERT_EQ(digest, s_doc["signed_sha256"]);

  for (const std::string& base : {s_http, s_https}) {  // public on both listeners, no login
    auto [status, body] = get(base + "/transparency/documents/" + id);
    ASSERT_EQ(status, 200) << body;
    auto j = json::parse(body);
    EXPECT_EQ(j["document"]["signed_sha256"], digest);
    EXPECT_EQ(j["document"]["level"], "B-B");
    EXPECT_EQ(j["certificate"]["serial"], s_doc["signer_serial"]);
    EXPECT_EQ(j["certificate"]["status"], "good");
    EXPECT_FALSE(j["log"]["pending"].get<bool>());
    // No personal data: not the title, not the owner.
    EXPECT_EQ(body.find("Escritura"), std::string::npos);
    EXPECT_EQ(body.find("owner"), std::string::npos);
  }

  auto [kstatus, key_pem] = get(s_http + "/transparency/key");
  ASSERT_EQ(kstatus, 200);
  auto [hstatus, head] = get(s_http + "/transparency/tree-head");
  ASSERT_EQ(hstatus, 200) << head;
  auto [dstatus, by_digest] = get(s_http + "/transparency/documents?sha256=" + digest);
  ASSERT_EQ(dstatus, 200) << by_digest;
  auto doc = json::parse(by_digest)["documents"][0];
  EXPECT_EQ(doc["document"]["id"], id);

  const auto& inc = doc["log"]["inclusion"];
  json bundle{{"public_key_pem", key_pem},
              {"checkpoints", {json::parse(head)}},
              {"inclusion",
               {{{"checkpoint", 0},
                 {"leaf_index", inc["leaf_index"]},
                 {"tree_size", inc["tree_size"]},
                 {"leaf_fields", inc["leaf_fields"]},
                 {"leaf_hash", inc["leaf_hash"]},
                 {"path", inc["path"]}}}}};
  EXPECT_EQ(inc["leaf_fields"][0], "document/v1");
  EXPECT_EQ(inc["leaf_fields"][4], digest);
  auto ok = verify_bundle(bundle);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // The same proof does not vouch for another digest.
  bundle["inclusion"][0]["leaf_fields"][4] = std::string(64, 'a');
  bundle["inclusion"][0].erase("leaf_hash");
  auto bad = verify_bundle(bundle);
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;

  // The signer certificate has its own entry.
  auto [cstatus, cert] = get(s_http + "/transparency/certificates/" + s_doc["signer_serial"].get<std::string>());
  ASSERT_EQ(cstatus, 200) << cert;
  EXPECT_EQ(json::parse(cert)["log"]["inclusion"]["leaf_fields"][0], "certificate/v1");

  EXPECT_EQ(get(s_http + "/transparency/documents/doc_nonexistent").first, 404);
  EXPECT_EQ(get(s_http + "/transparency/documents?sha256=" + std::string(64, '0')).first, 404);
  EXPECT_EQ(get(s_http + "/transparency/documents?sha256=xyz").first, 400);
  EXPECT_EQ(get(s_http + "/transparency/certificates/zz").first, 404);
}

TEST_F(CliTransparency, TheVerifyPage_ShowsTheDocument_AndARevocationAtOnce) {
  const std::string id = s_doc["id"];
  auto r = run("curl -s -i " + shell_quote(s_http + "/verify/" + id));
  expect_contains(r.out, "200");
  expect_contains(r.out, "text/html");
  expect_contains(r.out, "Content-Security-Policy: default-src 'none'");
  expect_contains(r.out, s_doc["signed_sha256"].get<std::string>());
  expect_contains(r.out, "Documento assinado");
  auto [missing, page] = get(s_http + "/verify/doc_%3Cscript%3E");
  EXPECT_EQ(missing, 404);
  EXPECT_EQ(page.find("<script>"), std::string::npos) << page;  // escaped

  auto rv = cli("cert revoke " + s_doc["signer_serial"].get<std::string>() + " --reason keyCompromise");
  ASSERT_EQ(rv.exit_code, 0) << rv.err;
  auto [status, body] = get(s_http + "/transparency/documents/" + id);
  ASSERT_EQ(status, 200);
  auto j = json::parse(body);
  EXPECT_EQ(j["certificate"]["status"], "revoked");
  EXPECT_EQ(j["certificate"]["revocation_reason"], "keyCompromise");
  r = run("curl -s " + shell_quote(s_http + "/verify/" + id));
  expect_contains(r.out, "revogad");
}

TEST_F(CliTransparency, TheAuditorApi_GivesHeadsAndProofs_TheIndependentVerifierAccepts) {
  auto [s1, first] = api("auditor", "/api/v1/audit/tree-head");
  ASSERT_EQ(s1, 200) << first;
  auto [s2, second] = api("auditor", "/api/v1/audit/tree-head", "-X POST");
  ASSERT_EQ(s2, 201) << second;
  const auto a = json::parse(first), b = json::parse(second);
  ASSERT_GT(b["tree_size"].get<int>(), a["tree_size"].get<int>());

  auto [s3, proof] = api("auditor", "/api/v1/audit/proofs/inclusion?id=1");
  ASSERT_EQ(s3, 200) << proof;
  auto inc = json::parse(proof);
  EXPECT_EQ(inc["tree_size"], b["tree_size"]);  // the latest head by default
  auto [s4, old_proof] =
      api("auditor", "/api/v1/audit/proofs/inclusion?id=1&tree_size=" + std::to_string(a["tree_size"].get<int>()));
  ASSERT_EQ(s4, 200) << old_proof;
  auto [s5, consistency] = api("auditor", "/api/v1/audit/proofs/consistency?first=" +
                                              std::to_string(a["tree_size"].get<int>()) +
                                              "&second=" + std::to_string(b["tree_size"].get<int>()));
  ASSERT_EQ(s5, 200) << consistency;

  json bundle{{"public_key_pem", get(s_http + "/transparency/key").second},
              {"checkpoints", {a, b}},
              {"inclusion", json::array()},
              {"consistency", {{{"first", 0}, {"second", 1}, {"path", json::parse(consistency)["path"]}}}}};
  for (auto [c, text] : {std::pair{1, proof}, std::pair{0, old_proof}}) {
    auto p = json::parse(text);
    bundle["inclusion"].push_back({{"checkpoint", c},
                                   {"leaf_index", p["leaf_index"]},
                                   {"tree_size", p["tree_size"]},
                                   {"leaf_fields", p["leaf_fields"]},
                                   {"leaf_hash", p["leaf_hash"]},
                                   {"path", p["path"]}});
  }
  auto ok = verify_bundle(bundle);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

  // Events by action; the tree-head POST above is in the trail.
  auto [s6, events] = api("auditor", "/api/v1/audit/events?action=key.use&limit=1000");
  ASSERT_EQ(s6, 200) << events;
  EXPECT_NE(events.find("sign-tree-head"), std::string::npos);
  EXPECT_EQ(api("auditor", "/api/v1/audit/events?limit=0").first, 400);
  EXPECT_EQ(api("auditor", "/api/v1/audit/proofs/inclusion?id=999999").first, 404);
  EXPECT_EQ(api("auditor", "/api/v1/audit/proofs/consistency?first=5&second=2").first, 400);

  // Deny by default: a clerk may not read the trail; nobody without credentials.
  EXPECT_EQ(api("clerk", "/api/v1/audit/events").first, 403);
  EXPECT_EQ(api("clerk", "/api/v1/audit/tree-head", "-X POST").first, 403);
  EXPECT_EQ(get(s_https + "/api/v1/audit/tree-head").first, 401);
}

}  // namespace
