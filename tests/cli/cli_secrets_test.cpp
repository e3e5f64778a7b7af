// The secret store end to end (issue 6), through the real binary and `cartorio serve`,
// judged by curl, the engine's own tools and the audit trail:
//   - `secrets put` (value from stdin), `list`, `versions`, `get` (audited as cli:<user>);
//     the value is nowhere in the object store's files;
//   - the API by role: auditors list but cannot read, clerks see nothing, admins read —
//     every read is an audit event naming the API key — and bad input gets stable codes;
//   - the JWT signing key, adopted by the rotation job at start, rotated through the API
//     while requests keep coming: the token issued before still works, the JWKS holds both
//     keys, a new token names the new key; no request fails;
//   - on PostgreSQL (CARTORIO_TEST_BACKENDS=postgres), with a role of the test's own: the
//     job takes the password over at start, API rotations while requests keep coming fail
//     none, psql refuses the old password and accepts the one `secrets get` shows, and after
//     the server's sessions are killed it logs in again with the rotated password.
#include "support/cli_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

namespace {

using cartorio::testing::postgres_mode;
using cartorio::testing::trim;
using cartorio::testing::CommandResult;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

// "k1=v1 k2=v2 ..." with `key`'s value replaced (or added).
std::string with_conninfo(std::string conninfo, const std::string& key, const std::string& value) {
  std::istringstream in(conninfo);
  std::string word, out;
  bool seen = false;
  while (in >> word) {
    if (word.rfind(key + "=", 0) == 0) {
      word = key + "=" + value;
      seen = true;
    }
    out += (out.empty() ? "" : " ") + word;
  }
  if (!seen) out += " " + key + "=" + value;
  return out;
}

class CliSecrets : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='secrets test passphrase 2026'"
            " CARTORIO_LIMITS_PER_CLIENT_BURST=100000 CARTORIO_LIMITS_PER_IP_BURST=100000"
            " CARTORIO_JOBS_SECRET_ROTATION_CHECK_MINUTES=1 ";
    if (postgres_mode()) {
      auto conninfo = cartorio::testing::read_env_file("CARTORIO_TEST_PG_CONNINFO_FILE");
      ASSERT_TRUE(conninfo) << "CARTORIO_TEST_PG_CONNINFO_FILE is not set: run through ctest (fixture postgres)";
      std::random_device rd;
      const std::string tag = std::to_string(rd());
      s_admin_conninfo = trim(*conninfo);
      s_schema = "sec" + tag;
      s_role = "sec_role_" + tag;
      s_initial_password = "initial-" + tag;
      // Its own role (the fixture's is shared by parallel tests), of which the fixture's is a
      // member so it may end the role's sessions.
      ASSERT_EQ(psql_admin("CREATE SCHEMA " + s_schema + "; CREATE ROLE " + s_role + " LOGIN PASSWORD '" +
                           s_initial_password + "'; GRANT ALL ON SCHEMA " + s_schema + " TO " + s_role +
                           "; GRANT " + s_role + " TO CURRENT_USER")
                    .exit_code,
                0);
      s_role_conninfo = with_conninfo(with_conninfo(s_admin_conninfo, "user", s_role), "password", s_initial_password);
      const std::string url = s_role_conninfo + " options='-csearch_path=" + s_schema + "'";
      s_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(url) +
               " CARTORIO_SECRETS_ROTATE_POSTGRES_PASSWORD=true ";
    }
    auto r = cli("init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = json::parse(r.out)["root_certificate"].get<std::string>();
    for (const char* role : {"admin", "auditor", "clerk"}) {
      r = cli(std::string("apikey create --name secrets-") + role + " --role " + role + " --json");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const auto created = json::parse(r.out);
      s_keys[role] = created["key"].get<std::string>();
      s_prefixes[role] = created["prefix"].get<std::string>();
    }
    const auto log = d / "serve.log";
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, log);
    s_pid = served.pid;
    s_https = served.https;
    ASSERT_FALSE(s_https.empty()) << read_file(log);
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    if (!s_schema.empty()) {
      psql_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + s_role + "'");
      psql_admin("DROP SCHEMA " + s_schema + " CASCADE; DROP ROLE IF EXISTS " + s_role);
    }
    s_dir.reset();
  }

  static CommandResult cli(const std::string& args) { return run(s_env + CARTORIO_BIN " " + args); }
  static CommandResult psql_admin(const std::string& sql) {
    auto r = run("psql " + shell_quote(s_admin_conninfo) + " -X -v ON_ERROR_STOP=1 -Atqc " + shell_quote(sql));
    EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.err;
    return r;
  }
  // Whether `password` logs in as the test's role, by psql.
  static bool role_accepts(const std::string& password) {
    auto r = run("psql " + shell_quote(with_conninfo(s_role_conninfo, "password", password)) + " -X -Atqc 'SELECT 1'");
    return r.exit_code == 0 && trim(r.out) == "1";
  }

  // curl against the HTTPS API; (status, body).
  static std::pair<int, std::string> call(const std::string& method, const std::string& path, const std::string& auth,
                                          const std::string& extra = "") {
    auto r = run("curl -s --cacert " + s_root + " -X " + method + " -w ' %{http_code}' -H " + shell_quote(auth) + " " +
                 extra + " " + shell_quote(s_https + path));
    const auto space = r.out.rfind(' ');
    if (space == std::string::npos) return {-1, r.out};
    return {std::atoi(r.out.c_str() + space + 1), r.out.substr(0, space)};
  }
  static std::pair<int, std::string> api(const std::string& role, const std::string& method, const std::string& path,
                                         const std::string& extra = "") {
    return call(method, path, "X-API-Key: " + s_keys[role], extra);
  }
  static std::string bearer_token(const std::string& role) {
    auto r = run("curl -s --cacert " + s_root + " -d grant_type=client_credentials --data-urlencode " +
                 shell_quote("client_id=ck_" + s_prefixes[role]) + " --data-urlencode " +
                 shell_quote("client_secret=" + s_keys[role]) + " " + shell_quote(s_https + "/oauth/token"));
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("access_token")) << r.out;
    return j.is_object() && j.contains("access_token") ? j["access_token"].get<std::string>() : std::string();
  }
  static std::string kid_of(const std::string& jwt) {
    auto r = run("printf %s " + shell_quote(jwt.substr(0, jwt.find('.'))) +
                 " | tr '_-' '/+' | { read h; while [ $(( ${#h} % 4 )) -ne 0 ]; do h=\"$h=\"; done; echo \"$h\"; } | base64 -d");
    auto j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j.value("kid", "") : "";
  }
  static std::vector<json> audit_events(const std::string& action) {
    auto [status, body] = api("auditor", "GET", "/api/v1/audit/events?action=" + action + "&limit=1000");
    EXPECT_EQ(status, 200) << body;
    auto j = json::parse(body, nullptr, false);
    std::vector<json> out;
    if (j.is_object())
      for (const auto& e : j["events"]) out.push_back(e);
    return out;
  }
  // Waits (up to a minute) for the rotation job's first pass, which adopts the JWT key (and,
  // on PostgreSQL, takes the password over).
  static json wait_for_secret(const std::string& name) {
    for (int i = 0; i < 120; ++i) {
      auto r = cli("secrets versions " + name);
      if (r.exit_code == 0) return json::parse(r.out);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ADD_FAILURE() << "no secret " << name << " after a minute";
    return json::array();
  }

  // Sends requests that need the database (a certificate listing) and a valid token, one
  // after another, from a thread, until stop(); counts the answers that are not 200.
  class Load {
   public:
    Load(std::string token) : m_token(std::move(token)) {
      m_thread = std::thread([this] {
        while (!m_stop) {
          auto [status, body] = call("GET", "/api/v1/certificates?limit=5", "Authorization: Bearer " + m_token);
          ++m_sent;
          if (status != 200) {
            ++m_failed;
            m_last_failure = std::to_string(status) + " " + body.substr(0, 300);
          }
        }
      });
    }
    ~Load() { stop(); }
    void stop() {
      m_stop = true;
      if (m_thread.joinable()) m_thread.join();
    }
    int sent() const { return m_sent; }
    int failed() const { return m_failed; }
    std::string last_failure() const { return m_last_failure; }

   private:
    std::string m_token;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_sent{0}, m_failed{0};
    std::string m_last_failure;
    std::thread m_thread;
  };

  static inline std::unique_ptr<TempDir> s_dir;
  static inline std::string s_env, s_root, s_pid, s_https;
  static inline std::map<std::string, std::string> s_keys, s_prefixes;
  static inline std::string s_admin_conninfo, s_role_conninfo, s_schema, s_role, s_initial_password;
};

TEST_F(CliSecrets, Cli_PutListGet_AndTheValueIsNotStoredInClear) {
  const std::string value = "third-party-key-7f3a9c1e55";
  auto r = run("printf %s " + shell_quote(value) + " | " + s_env + CARTORIO_BIN " secrets put billing-key --rotation-days 90");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto put = json::parse(r.out);
  EXPECT_EQ(put["version"], 1);
  EXPECT_EQ(put["kind"], "generic");
  EXPECT_EQ(put["rotation_days"], 90);
  EXPECT_EQ(r.out.find(value), std::string::npos);

  r = cli("secrets list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("billing-key"), std::string::npos);
  EXPECT_EQ(r.out.find(value), std::string::npos);

  r = cli("secrets get billing-key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(trim(r.out), value);
  bool audited = false;
  for (const auto& e : audit_events("secret.read"))
    if (e["target"] == "billing-key" && e["actor"].get<std::string>().rfind("cli:", 0) == 0) audited = true;
  EXPECT_TRUE(audited) << "no secret.read event by cli:<user>";

  // A second version; the first stays readable.
  r = run("printf %s second-value | " + s_env + CARTORIO_BIN " secrets put billing-key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli("secrets get billing-key --version 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(trim(r.out), value);
  r = cli("secrets versions billing-key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto versions = json::parse(r.out);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["rotation_days"], 90);

  // Nowhere in clear in the object store's files.
  r = run("grep -rl " + shell_quote(value) + " " + shell_quote((s_dir->path() / "data").string()));
  EXPECT_EQ(trim(r.out), "") << "the value is in clear in these files";

  // Bad input: stable codes, nothing written.
  r = run("printf %s x | " + s_env + CARTORIO_BIN " secrets put 'Bad/Name'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("input.invalid_argument"), std::string::npos) << r.err;
  r = run("printf '' | " + s_env + CARTORIO_BIN " secrets put empty-one");
  EXPECT_NE(r.exit_code, 0);
  r = cli("secrets get no-such-secret");
  EXPECT_EQ(r.exit_code, 5) << r.err;  // kNotFound
  r = cli("secrets list");
  EXPECT_EQ(r.out.find("empty-one"), std::string::npos);
}

TEST_F(CliSecrets, Api_ByRole_EveryReadAudited) {
  auto [status, body] = api("admin", "PUT", "/api/v1/secrets/webhook-hmac", "-d '{\"value\":\"hmac-value-3141\"}'");
  ASSERT_EQ(status, 201) << body;
  std::tie(status, body) = api("auditor", "GET", "/api/v1/secrets");
  EXPECT_EQ(status, 200) << body;
  EXPECT_NE(body.find("webhook-hmac"), std::string::npos);
  EXPECT_EQ(body.find("hmac-value-3141"), std::string::npos);
  std::tie(status, body) = api("auditor", "GET", "/api/v1/secrets/webhook-hmac");
  EXPECT_EQ(status, 403) << body;
  std::tie(status, body) = api("clerk", "GET", "/api/v1/secrets");
  EXPECT_EQ(status, 403) << body;
  std::tie(status, body) = api("auditor", "POST", "/api/v1/secrets/webhook-hmac/rotate");
  EXPECT_EQ(status, 403) << body;

  std::tie(status, body) = api("admin", "GET", "/api/v1/secrets/webhook-hmac");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body)["value"], "hmac-value-3141");
  bool audited = false;
  for (const auto& e : audit_events("secret.read"))
    if (e["target"] == "webhook-hmac" && e["actor"] == "apikey:" + s_prefixes["admin"]) audited = true;
  EXPECT_TRUE(audited) << "no secret.read event naming the admin's API key";

  std::tie(status, body) = api("admin", "POST", "/api/v1/secrets/webhook-hmac/rotate");
  ASSERT_EQ(status, 201) << body;
  EXPECT_EQ(json::parse(body)["version"], 2);
  EXPECT_FALSE(json::parse(body).contains("value"));
  std::tie(status, body) = api("admin", "GET", "/api/v1/secrets/webhook-hmac?version=1");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body)["value"], "hmac-value-3141");
  std::tie(status, body) = api("admin", "GET", "/api/v1/secrets/webhook-hmac/versions");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body)["versions"].size(), 2u);

  // Bad input.
  std::tie(status, body) = api("admin", "PUT", "/api/v1/secrets/webhook-hmac", "-d '{\"value\":42}'");
  EXPECT_EQ(status, 400) << body;
  std::tie(status, body) = api("admin", "PUT", "/api/v1/secrets/Bad.Name", "-d '{\"value\":\"x\"}'");
  EXPECT_EQ(status, 400) << body;
  EXPECT_NE(body.find("input.invalid_argument"), std::string::npos) << body;
  std::tie(status, body) = api("admin", "PUT", "/api/v1/secrets/jwt-signing-key", "-d '{\"value\":\"mine\"}'");
  EXPECT_EQ(status, 400) << body;
  std::tie(status, body) = api("admin", "GET", "/api/v1/secrets/webhook-hmac?version=zero");
  EXPECT_EQ(status, 400) << body;
  std::tie(status, body) = api("admin", "GET", "/api/v1/secrets/nothing-here");
  EXPECT_EQ(status, 404) << body;
}

TEST_F(CliSecrets, ServiceCertificate_IsAnMtlsIdentity_AndRotates) {
  auto r = cli("secrets rotate worker-client --kind service-certificate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["kind"], "service-certificate");
  EXPECT_EQ(r.out.find("PRIVATE KEY"), std::string::npos);
  auto use = [&](int version) -> std::pair<int, std::string> {
    auto got = cli("secrets get worker-client --version " + std::to_string(version));
    EXPECT_EQ(got.exit_code, 0) << got.err;
    EXPECT_NE(got.out.find("BEGIN PRIVATE KEY"), std::string::npos);
    EXPECT_NE(got.out.find("BEGIN CERTIFICATE"), std::string::npos);
    const auto pem = s_dir->path() / ("worker-client-" + std::to_string(version) + ".pem");
    std::ofstream(pem) << got.out;
    auto subject = run("openssl x509 -noout -subject -serial -in " + shell_quote(pem.string()));
    EXPECT_NE(subject.out.find("CN = worker-client"), std::string::npos) << subject.out;
    auto [status, body] = call("GET", "/api/v1/certificates?limit=1", "Accept: application/json",
                               "--cert " + shell_quote(pem.string()) + " --key " + shell_quote(pem.string()));
    return {status, subject.out};
  };
  auto [status1, cert1] = use(1);
  EXPECT_EQ(status1, 200) << "the service certificate is not accepted as a client identity";
  r = cli("secrets rotate worker-client");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [status2, cert2] = use(2);
  EXPECT_EQ(status2, 200);
  EXPECT_NE(cert1, cert2) << "the rotation did not issue a new certificate";
  // The previous one keeps working until it expires: a service reloads at its own pace.
  EXPECT_EQ(use(1).first, 200);
  // Kinds the installation makes itself cannot be created by hand.
  r = cli("secrets rotate my-db --kind postgres-password");
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(CliSecrets, JwtKeyRotation_UnderLoad_NoRequestFails) {
  auto adopted = wait_for_secret("jwt-signing-key");
  ASSERT_FALSE(adopted.empty());
  const std::string token = bearer_token("admin");
  ASSERT_FALSE(token.empty());
  const std::string old_kid = kid_of(token);
  ASSERT_FALSE(old_kid.empty());

  Load load(token);
  std::string new_kid;
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto [status, body] = api("admin", "POST", "/api/v1/secrets/jwt-signing-key/rotate");
    ASSERT_EQ(status, 201) << body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  load.stop();
  EXPECT_GT(load.sent(), 0);
  EXPECT_EQ(load.failed(), 0) << load.failed() << " of " << load.sent() << " failed; last: " << load.last_failure();

  auto r = cli("secrets get jwt-signing-key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  new_kid = trim(r.out);
  EXPECT_NE(new_kid, old_kid);
  // A token issued now names the new key; the old token still works; the JWKS has both.
  const std::string fresh = bearer_token("admin");
  EXPECT_EQ(kid_of(fresh), new_kid);
  auto [status, body] = call("GET", "/api/v1/secrets", "Authorization: Bearer " + token);
  EXPECT_EQ(status, 200) << body;
  std::tie(status, body) = call("GET", "/api/v1/secrets", "Authorization: Bearer " + fresh);
  EXPECT_EQ(status, 200) << body;
  auto jwks = run("curl -s --cacert " + s_root + " " + shell_quote(s_https + "/.well-known/jwks.json"));
  EXPECT_NE(jwks.out.find(old_kid), std::string::npos) << jwks.out;
  EXPECT_NE(jwks.out.find(new_kid), std::string::npos) << jwks.out;
}

TEST_F(CliSecrets, PostgresPassword_RotatedUnderLoad_NoRequestFails) {
  if (!postgres_mode()) GTEST_SKIP() << "the PostgreSQL variant (cli.secrets.postgres) covers this";
  // The job's first pass took the role's password over.
  auto taken = wait_for_secret("postgres-password");
  ASSERT_FALSE(taken.empty());
  // Recorded first, then set on the role: give the ALTER ROLE a moment to land.
  bool old_refused = false;
  for (int i = 0; i < 40 && !old_refused; ++i) {
    old_refused = !role_accepts(s_initial_password);
    if (!old_refused) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(old_refused) << "the config's password still logs in";

  const std::string token = bearer_token("admin");
  Load load(token);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto [status, body] = api("admin", "POST", "/api/v1/secrets/postgres-password/rotate");
    ASSERT_EQ(status, 201) << body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  load.stop();
  EXPECT_GT(load.sent(), 0);
  EXPECT_EQ(load.failed(), 0) << load.failed() << " of " << load.sent() << " failed; last: " << load.last_failure();

  auto versions = json::parse(cli("secrets versions postgres-password").out);
  ASSERT_GE(versions.size(), 4u);
  auto r = cli("secrets get postgres-password");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string current = trim(r.out);
  EXPECT_TRUE(role_accepts(current)) << "the stored password does not log in";
  r = cli("secrets get postgres-password --version " + std::to_string(versions[1]["version"].get<int>()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(role_accepts(trim(r.out))) << "the previous password still logs in";

  // Every session of the server killed: it logs in again, with the rotated password.
  psql_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + s_role + "'");
  int status = 0;
  std::string body;
  for (int i = 0; i < 3 && status != 200; ++i) std::tie(status, body) = api("admin", "GET", "/api/v1/secrets");
  EXPECT_EQ(status, 200) << body;
  std::tie(status, body) = api("admin", "GET", "/api/v1/secrets");
  EXPECT_EQ(status, 200) << body;
}

}  // namespace
