// The HTTPS API end to end: `cartorio serve` with its TLS listener (certificate issued by
// the TLS CA at start), judged by `openssl s_client`, curl and oathtool: protocol versions,
// mutual TLS identifying a service, certificate issue -> list -> get -> chain -> revoke
// through the API, the OAuth2 token flow with TOTP enrolment, refresh rotation and
// revocation, forged tokens refused, the whole role x route matrix (routes taken from
// /openapi.json), 429 past the per-client burst, and /metrics.
#include "signing/sample_pdfs.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <memory>
#include <regex>
#include <sstream>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

class CliApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    // A per-client burst of 40 then 5/s: every client below stays under it except the one
    // the 429 test drives past it.
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='api test passphrase 2026' CARTORIO_LIMITS_PER_CLIENT_BURST=40"
            " CARTORIO_LIMITS_PER_CLIENT_PER_SECOND=5 CARTORIO_LIMITS_PER_IP_BURST=5000 ";
    auto r = run(s_env + CARTORIO_BIN " init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = nlohmann::json::parse(r.out)["root_certificate"].get<std::string>();

    // The service's client certificate (tls-client profile, issued by the TLS CA).
    r = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + (d / "svc.key").string() +
            " -out " + (d / "svc.csr").string() + " -subj /CN=billing");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run(s_env + CARTORIO_BIN " cert issue --profile tls-client --csr " + (d / "svc.csr").string() + " --out " +
            (d / "svc.pem").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;

    // One API key per role, made by the operator's CLI, for the role x route matrix.
    for (const char* role : {"admin", "notary", "clerk", "auditor", "service"}) {
      r = run(s_env + CARTORIO_BIN " apikey create --name matrix-" + role + " --role " + role + " --json");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      s_keys[role] = nlohmann::json::parse(r.out)["key"].get<std::string>();
    }

    const auto log = d / "serve.log";
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, log);
    s_pid = served.pid;
    s_http = served.http;
    s_port = served.https_port;
    s_https = served.https;
    ASSERT_FALSE(s_https.empty()) << read_file(log);
  }

  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  static fs::path shared(const std::string& name) { return s_dir->path() / name; }
  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }

  // curl against the HTTPS listener, trusting only the root; "-w ' %{http_code}'" appended.
  CommandResult curl(const std::string& args, bool client_cert = true) {
    std::string cmd = "curl -s --cacert " + s_root + " -w ' %{http_code}' ";
    if (client_cert) cmd += "--cert " + shared("svc.pem").string() + " --key " + shared("svc.key").string() + " ";
    return run(cmd + args);
  }

  static int status_of(const CommandResult& r) {
    const auto space = r.out.rfind(' ');
    return space == std::string::npos ? -1 : std::atoi(r.out.c_str() + space + 1);
  }
  static std::string body_of(const CommandResult& r) { return r.out.substr(0, r.out.rfind(' ')); }

  // A form POST to the token (or revocation) endpoint; no client certificate.
  CommandResult token_request(const std::string& form_args, const std::string& endpoint = "/oauth/token") {
    return curl(form_args + " " + s_https + endpoint, false);
  }

  // oathtool (an independent RFC 6238 implementation) for the current step, or the next.
  static std::string totp(const std::string& secret, bool next_step = false) {
    auto r = run("oathtool --totp -b " + secret + (next_step ? " -N 'now + 30 seconds'" : ""));
    return r.out.substr(0, r.out.find('\n'));
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env, s_root, s_pid, s_http, s_https, s_port;
  static std::map<std::string, std::string> s_keys;  // role -> API key
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliApi::s_dir;
std::string CliApi::s_env, CliApi::s_root, CliApi::s_pid, CliApi::s_http, CliApi::s_https, CliApi::s_port;
std::map<std::string, std::string> CliApi::s_keys;

TEST_F(CliApi, OnlyTls12And13AreSpoken) {
  const std::string base = "openssl s_client -connect 127.0.0.1:" + s_port + " -servername localhost -CAfile " +
                           s_root + " </dev/null 2>&1 ";
  for (const char* old : {"-tls1", "-tls1_1"}) {
    auto r = run(base + old + " -cipher DEFAULT@SECLEVEL=0");
    EXPECT_NE(r.exit_code, 0) << old << ": " << r.out;
    expect_contains(r.out, "alert protocol version");
  }
  for (const char* ok : {"-tls1_2", "-tls1_3"}) {
    auto r = run(base + ok);
    EXPECT_EQ(r.exit_code, 0) << ok << ": " << r.out;
    expect_contains(r.out, "Verify return code: 0 (ok)");
  }
  // The server's certificate was issued at start by the TLS CA for the configured names.
  auto r = run("openssl s_client -connect 127.0.0.1:" + s_port + " </dev/null 2>/dev/null | openssl x509 -noout -text");
  expect_contains(r.out, "Cartorio Digital TLS CA");
  expect_contains(r.out, "DNS:localhost");
  expect_contains(r.out, "IP Address:127.0.0.1");
}

TEST_F(CliApi, MutualTlsIdentifiesTheServiceAndIssuesListsAndReadsCertificates) {
  auto r = curl(s_https + "/api/v1/ca");
  ASSERT_EQ(status_of(r), 200) << r.out << r.err;
  expect_contains(r.out, R"("name":"tls")");

  run("openssl req -new -newkey rsa:2048 -nodes -keyout " + tmp("leaf.key").string() + " -out " +
      tmp("leaf.csr").string() + " -subj /CN=api.cartorio.test -addext subjectAltName=DNS:api.cartorio.test");
  nlohmann::json req = {{"profile", "tls-server"}, {"csr", read_file(tmp("leaf.csr"))}};
  write_file(tmp("issue.json"), req.dump());
  r = curl("-X POST -H 'Content-Type: application/json' --data-binary @" + tmp("issue.json").string() + " " + s_https +
           "/api/v1/certificates");
  ASSERT_EQ(status_of(r), 201) << r.out << r.err;
  auto issued = nlohmann::json::parse(body_of(r));
  const std::string serial = issued["serial"];
  EXPECT_EQ(issued["requester"], "service:billing") << "the identity came from the client certificate";
  write_file(tmp("leaf.pem"), issued["pem"].get<std::string>());
  write_file(tmp("chain.pem"), issued["chain_pem"].get<std::string>());
  auto v = run("openssl verify -x509_strict -CAfile " + s_root + " -untrusted " + tmp("chain.pem").string() + " " +
               tmp("leaf.pem").string());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  r = curl("'" + s_https + "/api/v1/certificates?profile=tls-server&status=good&limit=1000'");
  ASSERT_EQ(status_of(r), 200) << r.out;
  expect_contains(r.out, serial);
  r = curl("'" + s_https + "/api/v1/certificates?expiring_within_days=400&limit=1000'");
  expect_contains(r.out, serial);
  r = curl("'" + s_https + "/api/v1/certificates?limit=0'");
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "request.invalid_query");

  r = curl(s_https + "/api/v1/certificates/" + serial);
  ASSERT_EQ(status_of(r), 200);
  expect_contains(r.out, R"("status":"good")");
  r = curl(s_https + "/api/v1/certificates/" + serial + "/chain");
  ASSERT_EQ(status_of(r), 200);
  EXPECT_EQ(body_of(r), issued["pem"].get<std::string>() + issued["chain_pem"].get<std::string>());
  r = curl(s_https + "/api/v1/certificates/00ff00");
  EXPECT_EQ(status_of(r), 404);
  expect_contains(r.out, "store.not_found");

  // A garbage CSR: a stable code, nothing stored.
  write_file(tmp("bad.json"), nlohmann::json{{"profile", "tls-server"}, {"csr", "garbage"}}.dump());
  r = curl("-X POST --data-binary @" + tmp("bad.json").string() + " " + s_https + "/api/v1/certificates");
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "csr.malformed");

  // The service role may not revoke (notary and admin may): 403, and it stays good.
  write_file(tmp("revoke.json"), R"({"reason":"keyCompromise"})");
  r = curl("-X POST --data-binary @" + tmp("revoke.json").string() + " " + s_https + "/api/v1/certificates/" + serial +
           "/revoke");
  EXPECT_EQ(status_of(r), 403) << r.out;
  expect_contains(r.out, "auth.permission_denied");
  r = curl(s_https + "/api/v1/certificates/" + serial);
  expect_contains(r.out, R"("status":"good")");
}

TEST_F(CliApi, MissingOrForgedCredentialsGet401) {
  auto r = curl("-D - " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401);
  expect_contains(r.out, "auth.unauthenticated");
  expect_contains(r.out, "WWW-Authenticate: Bearer");
  r = curl("-H 'Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401);
  r = curl("-H 'X-API-Key: ck_nothing_here' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401);
  // A client certificate from another CA does not even finish the handshake.
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=billing -keyout " +
      tmp("rogue.key").string() + " -out " + tmp("rogue.pem").string());
  r = run("curl -s --cacert " + s_root + " --cert " + tmp("rogue.pem").string() + " --key " +
          tmp("rogue.key").string() + " -o /dev/null -w '%{http_code}' " + s_https + "/api/v1/ca");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "000");
}

TEST_F(CliApi, PastTheBurstTheClientGets429WithRetryAfter) {
  // A client of its own (a full bucket of 40), then 150 calls on one keep-alive connection:
  // even at 5 refills a second the bucket runs dry long before the last one.
  auto r = run(s_env + CARTORIO_BIN " apikey create --name burst --role service");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string key = r.out.substr(0, r.out.find('\n'));
  std::string urls;
  for (int i = 0; i < 150; ++i) urls += " -o /dev/null " + s_https + "/api/v1/ca";  // -o is per URL
  r = run("curl -s --cacert " + s_root + " -H 'X-API-Key: " + key + "' -D " + tmp("h").string() +
          " -w '%{http_code}\\n'" + urls);
  std::istringstream codes(r.out);
  std::string code;
  int n = 0, limited = 0;
  while (std::getline(codes, code)) {
    ++n;
    if (code == "429" && limited == 0) limited = n;
  }
  ASSERT_EQ(n, 150) << r.out << r.err;
  ASSERT_GT(limited, 0) << "never limited";
  EXPECT_GT(limited, 40) << "limited before the burst of 40 was spent";
  const auto headers = read_file(tmp("h"));
  expect_contains(headers, "Retry-After: ");
  auto metrics = run("curl -s " + s_http + "/metrics");
  expect_contains(metrics.out, R"(cartorio_rate_limited_total{scope="client"})");
}

TEST_F(CliApi, MetricsCountRequestsByRouteAndIssuances) {
  curl(s_https + "/api/v1/ca");
  auto r = run("curl -s " + s_http + "/metrics");
  ASSERT_EQ(r.exit_code, 0);
  expect_contains(r.out, "# TYPE cartorio_http_requests_total counter");
  expect_contains(r.out, R"(route="/api/v1/ca")");
  expect_contains(r.out, "cartorio_http_request_duration_seconds_bucket");
  expect_contains(r.out, R"(cartorio_key_operations_total{purpose="issue-certificate"})");
}

// People: the operator creates a notary; the first password login only yields a token that
// can enrol TOTP; after enrolment (codes from oathtool) the password + OTP grant gives a
// full token; refresh tokens rotate and a reused one ends the whole session; revocation
// (RFC 7009) ends it too; recovery codes work once.
TEST_F(CliApi, TokenFlowWithTotpEnrolmentRefreshAndRevocation) {
  const std::string password = "correct horse battery staple 2026";
  write_file(tmp("pw"), password + "\n");
  auto r = run(s_env + CARTORIO_BIN " user add tabeliao --role notary --display-name 'Tabeliao' --password-file " +
               tmp("pw").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string login = "-d grant_type=password -d username=tabeliao --data-urlencode " +
                            shell_quote("password=" + password);

  // Password only: a token restricted to MFA enrolment.
  r = token_request(login);
  ASSERT_EQ(status_of(r), 200) << r.out;
  auto t = nlohmann::json::parse(body_of(r));
  EXPECT_EQ(t["scope"], "mfa_enroll");
  EXPECT_FALSE(t.contains("refresh_token"));
  const std::string restricted = "-H 'Authorization: Bearer " + t["access_token"].get<std::string>() + "' ";
  r = curl(restricted + s_https + "/api/v1/certificates", false);
  EXPECT_EQ(status_of(r), 403) << r.out;
  r = curl(restricted + s_https + "/api/v1/me", false);
  EXPECT_EQ(status_of(r), 403) << r.out;

  r = curl(restricted + "-X POST " + s_https + "/api/v1/me/mfa/totp", false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  auto enrol = nlohmann::json::parse(body_of(r));
  const std::string secret = enrol["secret"];
  expect_contains(enrol["otpauth_uri"].get<std::string>(), "otpauth://totp/");
  expect_contains(enrol["qr_svg"].get<std::string>(), "<svg");
  write_file(tmp("wrong.json"), R"({"code":"000000"})");
  r = curl(restricted + "-X POST --data-binary @" + tmp("wrong.json").string() + " " + s_https +
               "/api/v1/me/mfa/totp/confirm",
           false);
  EXPECT_EQ(status_of(r), 401) << r.out;
  write_file(tmp("code.json"), nlohmann::json{{"code", totp(secret)}}.dump());
  r = curl(restricted + "-X POST --data-binary @" + tmp("code.json").string() + " " + s_https +
               "/api/v1/me/mfa/totp/confirm",
           false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  const auto recovery = nlohmann::json::parse(body_of(r))["recovery_codes"];
  ASSERT_EQ(recovery.size(), 10u);

  // Now a password alone is not enough; password + the next TOTP step is.
  r = token_request(login);
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "invalid_grant");
  r = token_request(login + " -d otp=" + totp(secret, true));
  ASSERT_EQ(status_of(r), 200) << r.out;
  t = nlohmann::json::parse(body_of(r));
  EXPECT_EQ(t["token_type"], "Bearer");
  ASSERT_TRUE(t.contains("refresh_token"));
  const std::string access = t["access_token"], refresh = t["refresh_token"];
  // The access token is an ES256 JWT whose kid is in the published JWKS.
  const auto header = run("printf '%s' " + shell_quote(access.substr(0, access.find('.'))) +
                          " | tr '_-' '/+' | base64 -d 2>/dev/null");
  expect_contains(header.out, R"("alg":"ES256")");
  auto jwks = run("curl -s --cacert " + s_root + " " + s_https + "/.well-known/jwks.json");
  const auto kid = header.out.substr(header.out.find("\"kid\":\"") + 7, 43);
  expect_contains(jwks.out, kid);

  const std::string bearer = "-H 'Authorization: Bearer " + access + "' ";
  r = curl(bearer + s_https + "/api/v1/me", false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  expect_contains(r.out, R"("roles":["notary"])");
  expect_contains(r.out, R"("mfa_enabled":true)");

  // A notary issues, lists and revokes a certificate through the API.
  run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + tmp("n.key").string() +
      " -out " + tmp("n.csr").string() + " -subj /CN=notary.cartorio.test -addext subjectAltName=DNS:notary.cartorio.test");
  write_file(tmp("n.json"), nlohmann::json{{"profile", "tls-server"}, {"csr", read_file(tmp("n.csr"))}}.dump());
  r = curl(bearer + "-X POST --data-binary @" + tmp("n.json").string() + " " + s_https + "/api/v1/certificates", false);
  ASSERT_EQ(status_of(r), 201) << r.out;
  const std::string serial = nlohmann::json::parse(body_of(r))["serial"];
  write_file(tmp("leaf.pem"), nlohmann::json::parse(body_of(r))["pem"].get<std::string>());
  r = curl("'" + s_https + "/api/v1/certificates?status=good&limit=1000' " + bearer, false);
  expect_contains(r.out, serial);
  write_file(tmp("revoke.json"), R"({"reason":"keyCompromise"})");
  r = curl(bearer + "-X POST --data-binary @" + tmp("revoke.json").string() + " " + s_https + "/api/v1/certificates/" +
               serial + "/revoke",
           false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  r = curl("'" + s_https + "/api/v1/certificates?status=revoked&limit=1000' " + bearer, false);
  expect_contains(r.out, serial);
  // ...and the revocation is what relying parties see at once over OCSP.
  run("curl -s " + s_http + "/ca/tls.crt -o " + tmp("tls-ca.der").string() + " && openssl x509 -inform DER -in " +
      tmp("tls-ca.der").string() + " -out " + tmp("tls-ca.pem").string());
  auto ocsp = run("openssl ocsp -issuer " + tmp("tls-ca.pem").string() + " -cert " + tmp("leaf.pem").string() +
                  " -url " + s_http + "/ocsp/tls -CAfile " + s_root + " 2>&1");
  expect_contains(ocsp.out, "revoked");
  expect_contains(ocsp.out, "Reason: keyCompromise");

  // Refresh rotates; the old refresh token, used again, ends the whole session.
  r = token_request("-d grant_type=refresh_token -d refresh_token=" + refresh);
  ASSERT_EQ(status_of(r), 200) << r.out;
  const auto rotated = nlohmann::json::parse(body_of(r));
  const std::string access2 = rotated["access_token"], refresh2 = rotated["refresh_token"];
  EXPECT_NE(refresh2, refresh);
  r = curl("-H 'Authorization: Bearer " + access2 + "' " + s_https + "/api/v1/me", false);
  EXPECT_EQ(status_of(r), 200);
  r = token_request("-d grant_type=refresh_token -d refresh_token=" + refresh);
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "invalid_grant");
  r = token_request("-d grant_type=refresh_token -d refresh_token=" + refresh2);
  EXPECT_EQ(status_of(r), 400) << "the reuse revoked the family's newest refresh token too";
  for (const auto& tok : {access, access2}) {
    r = curl("-H 'Authorization: Bearer " + tok + "' " + s_https + "/api/v1/me", false);
    EXPECT_EQ(status_of(r), 401) << "a token of a revoked refresh chain";
  }

  // A recovery code stands in for the OTP once; RFC 7009 revocation ends that session.
  const std::string code = recovery[0];
  r = token_request(login + " -d otp=" + code);
  ASSERT_EQ(status_of(r), 200) << r.out;
  const auto via_recovery = nlohmann::json::parse(body_of(r));
  r = token_request(login + " -d otp=" + code);
  EXPECT_EQ(status_of(r), 400) << "a recovery code is single-use";
  r = token_request("-d token=" + via_recovery["refresh_token"].get<std::string>(), "/oauth/revoke");
  EXPECT_EQ(status_of(r), 200) << r.out;
  r = curl("-H 'Authorization: Bearer " + via_recovery["access_token"].get<std::string>() + "' " + s_https +
               "/api/v1/me",
           false);
  EXPECT_EQ(status_of(r), 401);

  // Malformed token requests: stable OAuth errors.
  r = token_request("-d grant_type=magic");
  EXPECT_EQ(status_of(r), 400);
  expect_contains(r.out, "unsupported_grant_type");
  r = token_request("-d grant_type=password -d grant_type=password");
  expect_contains(r.out, "invalid_request");
  r = curl("-H 'Content-Type: application/json' -d '{}' " + s_https + "/oauth/token", false);
  expect_contains(r.out, "invalid_request");
}

// Services: client_credentials with an API key (form or HTTP Basic) gives a token with the
// key's roles.
TEST_F(CliApi, ClientCredentialsGrantWithAnApiKey) {
  const std::string key = s_keys["service"];
  const auto second = key.find('_', 3);
  const std::string client_id = key.substr(0, second);
  auto r = token_request("-d grant_type=client_credentials -d client_id=" + client_id + " -d client_secret=" + key);
  ASSERT_EQ(status_of(r), 200) << r.out;
  auto t = nlohmann::json::parse(body_of(r));
  EXPECT_FALSE(t.contains("refresh_token"));
  r = curl("-H 'Authorization: Bearer " + t["access_token"].get<std::string>() + "' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 200) << r.out;
  r = token_request("-u " + shell_quote(client_id + ":" + key) + " -d grant_type=client_credentials");
  EXPECT_EQ(status_of(r), 200) << r.out;
  r = token_request("-u " + shell_quote(client_id + ":" + key + "x") + " -d grant_type=client_credentials");
  EXPECT_EQ(status_of(r), 401) << r.out;
  expect_contains(r.out, "invalid_client");
}

// Services: client_credentials by mutual TLS (RFC 8705) gives a token bound to the client
// certificate: useless without that certificate, and dead once it is revoked.
TEST_F(CliApi, ClientCredentialsByMutualTlsGiveACertificateBoundToken) {
  run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + tmp("svc2.key").string() +
      " -out " + tmp("svc2.csr").string() + " -subj /CN=archive");
  auto r = run(s_env + CARTORIO_BIN " cert issue --json --profile tls-client --csr " + tmp("svc2.csr").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto issued = nlohmann::json::parse(r.out);
  write_file(tmp("svc2.pem"), issued["pem"].get<std::string>());
  const std::string svc2 = "--cert " + tmp("svc2.pem").string() + " --key " + tmp("svc2.key").string() + " ";

  r = curl(svc2 + "-d grant_type=client_credentials " + s_https + "/oauth/token", false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  const std::string token = nlohmann::json::parse(body_of(r))["access_token"];
  const std::string payload = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  std::string padded = payload;
  while (padded.size() % 4) padded += '=';
  const auto claims = run("printf '%s' " + shell_quote(padded) + " | tr '_-' '/+' | base64 -d").out;
  expect_contains(claims, R"("cnf":{"x5t#S256":")");
  expect_contains(claims, R"("sub":"service:archive")");

  const std::string bearer = "-H 'Authorization: Bearer " + token + "' ";
  r = curl(svc2 + bearer + s_https + "/api/v1/ca", false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  r = curl(bearer + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401) << "a bound token without its certificate";
  r = curl(bearer + s_https + "/api/v1/ca", true);
  EXPECT_EQ(status_of(r), 401) << "a bound token with another service's certificate";

  const std::string serial = issued["serial"];
  ASSERT_EQ(run(s_env + CARTORIO_BIN " cert revoke " + serial + " --reason keyCompromise").exit_code, 0);
  r = curl(svc2 + bearer + s_https + "/api/v1/ca", false);
  EXPECT_NE(status_of(r), 200) << "the certificate was revoked: " << r.out;
  r = curl(svc2 + "-d grant_type=client_credentials " + s_https + "/oauth/token", false);
  EXPECT_NE(status_of(r), 200) << r.out;
}

// Forged or stale bearer tokens never pass.
TEST_F(CliApi, ForgedTokensAreRefused) {
  const std::string key = s_keys["clerk"];
  const std::string client_id = key.substr(0, key.find('_', 3));
  auto r = token_request("-d grant_type=client_credentials -d client_id=" + client_id + " -d client_secret=" + key);
  ASSERT_EQ(status_of(r), 200) << r.out;
  const std::string good = nlohmann::json::parse(body_of(r))["access_token"];
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  const std::string header = good.substr(0, dot1), payload = good.substr(dot1 + 1, dot2 - dot1 - 1),
                    signature = good.substr(dot2 + 1);
  auto b64url = [](const std::string& text) {
    auto out = run("printf '%s' " + shell_quote(text) + " | base64 -w0 | tr '+/' '-_' | tr -d '='").out;
    return out;
  };
  auto unb64url = [](const std::string& text) {
    std::string padded = text;
    while (padded.size() % 4) padded += '=';
    return run("printf '%s' " + shell_quote(padded) + " | tr '_-' '/+' | base64 -d").out;
  };
  const std::string claims = unb64url(payload);
  ASSERT_NE(claims.find("\"roles\":[\"clerk\"]"), std::string::npos) << claims;
  std::string elevated = claims;
  elevated.replace(elevated.find("\"roles\":[\"clerk\"]"), 17, "\"roles\":[\"admin\"]");
  std::string flipped = signature;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  const std::string forged[] = {
      b64url(R"({"alg":"none","typ":"at+jwt"})") + "." + b64url(elevated) + ".",        // alg none
      b64url(R"({"alg":"HS256","typ":"at+jwt"})") + "." + payload + "." + signature,     // alg swap
      header + "." + payload + "." + flipped,                                          // wrong signature
      header + "." + b64url(elevated) + "." + signature,                               // edited claims
      b64url(R"({"alg":"ES256","typ":"at+jwt","kid":"no-such-key"})") + "." + payload + "." + signature,  // kid
      "garbage",
  };
  for (const auto& token : forged) {
    r = curl("-H 'Authorization: Bearer " + token + "' " + s_https + "/api/v1/ca", false);
    EXPECT_EQ(status_of(r), 401) << token;
  }
  r = curl("-H 'Authorization: Bearer " + good + "' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 200) << "the untouched token still works";
  // A clerk's genuine token on a notary-only route.
  write_file(tmp("revoke.json"), R"({"reason":"keyCompromise"})");
  r = curl("-H 'Authorization: Bearer " + good + "' -X POST --data-binary @" + tmp("revoke.json").string() + " " +
               s_https + "/api/v1/certificates/00ff00/revoke",
           false);
  EXPECT_EQ(status_of(r), 403) << r.out;
  expect_contains(r.out, "auth.permission_denied");
}

// Administration through the API (an admin's API key) and the operator's CLI: users and
// roles, disabling, MFA reset, API keys listed by prefix only and revoked at once.
TEST_F(CliApi, UsersAndApiKeysAreAdministeredThroughTheApiAndTheCli) {
  const std::string admin = "-H 'X-API-Key: " + s_keys["admin"] + "' ";
  const std::string json = "-H 'Content-Type: application/json' ";
  write_file(tmp("u.json"), R"({"username":"escrevente1","display_name":"Escrevente","roles":["clerk"],)"
                            R"("password":"a long enough password 2026"})");
  auto r = curl(admin + json + "--data-binary @" + tmp("u.json").string() + " " + s_https + "/api/v1/users", false);
  ASSERT_EQ(status_of(r), 201) << r.out;
  expect_contains(r.out, R"("roles":["clerk"])");
  expect_contains(r.out, R"("mfa_required":true)");
  r = curl(admin + json + "--data-binary @" + tmp("u.json").string() + " " + s_https + "/api/v1/users", false);
  EXPECT_EQ(status_of(r), 409) << "the username is taken";
  write_file(tmp("weak.json"), R"({"username":"x1","roles":["clerk"],"password":"short"})");
  r = curl(admin + json + "--data-binary @" + tmp("weak.json").string() + " " + s_https + "/api/v1/users", false);
  EXPECT_EQ(status_of(r), 400) << r.out;

  r = curl(admin + s_https + "/api/v1/users/escrevente1", false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  write_file(tmp("patch.json"), R"({"roles":["clerk","auditor"]})");
  r = curl(admin + json + "-X PATCH --data-binary @" + tmp("patch.json").string() + " " + s_https +
               "/api/v1/users/escrevente1",
           false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  expect_contains(r.out, R"("roles":["clerk","auditor"])");
  r = curl("'" + s_https + "/api/v1/users?limit=1000' " + admin, false);
  expect_contains(r.out, "escrevente1");

  // The CLI sees the same users; disabling ends logins; enabling lifts it.
  r = run(s_env + CARTORIO_BIN " user show escrevente1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_contains(r.out, R"("roles":["clerk","auditor"])");
  const std::string login = "-d grant_type=password -d username=escrevente1 --data-urlencode "
                            "'password=a long enough password 2026'";
  r = token_request(login);
  EXPECT_EQ(status_of(r), 200) << r.out;  // the restricted enrolment token
  ASSERT_EQ(run(s_env + CARTORIO_BIN " user disable escrevente1").exit_code, 0);
  r = token_request(login);
  EXPECT_EQ(status_of(r), 400) << r.out;
  ASSERT_EQ(run(s_env + CARTORIO_BIN " user enable escrevente1").exit_code, 0);
  r = token_request(login);
  EXPECT_EQ(status_of(r), 200) << r.out;
  EXPECT_EQ(run(s_env + CARTORIO_BIN " user role escrevente1 --role wizard").exit_code, 3) << "unknown role";
  EXPECT_EQ(run(s_env + CARTORIO_BIN " user show nobody-here").exit_code, 5);

  // API keys: created through the API, shown once, listed by prefix, revoked at once.
  write_file(tmp("k.json"), R"({"name":"archive","roles":["service"]})");
  r = curl(admin + json + "--data-binary @" + tmp("k.json").string() + " " + s_https + "/api/v1/api-keys", false);
  ASSERT_EQ(status_of(r), 201) << r.out;
  const auto created = nlohmann::json::parse(body_of(r));
  const std::string key = created["key"], prefix = created["prefix"];
  r = curl("-H 'X-API-Key: " + key + "' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 200);
  r = curl(admin + s_https + "/api/v1/api-keys", false);
  expect_contains(r.out, prefix);
  EXPECT_EQ(r.out.find(key.substr(key.rfind('_') + 1)), std::string::npos) << "the secret is never listed";
  r = run(s_env + CARTORIO_BIN " apikey list --json");
  expect_contains(r.out, prefix);
  r = curl(admin + "-X DELETE " + s_https + "/api/v1/api-keys/" + prefix, false);
  EXPECT_EQ(status_of(r), 200) << r.out;
  r = curl("-H 'X-API-Key: " + key + "' " + s_https + "/api/v1/ca", false);
  EXPECT_EQ(status_of(r), 401) << "revoked at once";
  r = curl(admin + "-X DELETE " + s_https + "/api/v1/api-keys/zzzzzzzz", false);
  EXPECT_EQ(status_of(r), 404);
}

// Every HTTPS route of /openapi.json, called by a principal of every role: refused with 403
// exactly when the role lacks the route's permission (the matrix below is the product's
// policy, written here independently of the code that enforces it).
// Flow 1 through the API: a notary's API key signs (raw and multipart uploads), the signed
// PDF comes back through its expiring link and pdfsig accepts it, the public verify route
// reports it valid; clerks cannot sign nor see others' documents; bad input is refused and
// leaves nothing behind.
TEST_F(CliApi, DocumentsAreSignedDownloadedThroughTheirLinkAndVerified) {
  const auto samples = cartorio::signing::test::make_sample_pdfs(tmp("samples"));
  const std::string nss = cartorio::signing::test::make_nss_db(tmp("nss"), s_root);
  const std::string notary = "-H 'X-API-Key: " + s_keys["notary"] + "' ";
  const std::string clerk = "-H 'X-API-Key: " + s_keys["clerk"] + "' ";
  auto count = [&] {
    auto r = curl(notary + s_https + "/api/v1/documents?limit=1000", false);
    EXPECT_EQ(status_of(r), 200) << r.out;
    return nlohmann::json::parse(body_of(r))["documents"].size();
  };
  const std::size_t before = count();

  // Raw upload, options in the query.
  auto r = curl(notary + "-X POST -H 'Content-Type: application/pdf' --data-binary @" + samples[0].path.string() + " '" +
                    s_https + "/api/v1/documents?title=Escritura&level=B-LT&visible=true'",
                false);
  ASSERT_EQ(status_of(r), 201) << r.out;
  const auto doc = nlohmann::json::parse(body_of(r));
  EXPECT_EQ(doc["level"], "B-LT");
  EXPECT_EQ(doc["title"], "Escritura");
  const std::string link = doc["download_url"];
  expect_contains(link, "/api/v1/documents/" + doc["id"].get<std::string>() + "/content?expires=");

  // The link needs no credentials; the bytes are the recorded digest; pdfsig trusts them.
  r = run("curl -s --cacert " + s_root + " -o " + tmp("signed.pdf").string() + " -w '%{http_code} %{content_type}' '" +
          s_https + link + "'");
  ASSERT_EQ(r.out, "200 application/pdf") << r.out;
  auto sha = run("sha256sum " + tmp("signed.pdf").string());
  EXPECT_EQ(sha.out.substr(0, 64), doc["signed_sha256"].get<std::string>());
  auto verdict = run("pdfsig -nssdir " + nss + " -no-ocsp " + tmp("signed.pdf").string());
  expect_contains(verdict.out, "Signature is Valid.");
  expect_contains(verdict.out, "Certificate is Trusted.");

  // A forged or missing signature on the link is refused.
  std::string forged = link;
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  r = curl("'" + s_https + forged + "'", false);
  EXPECT_EQ(status_of(r), 403) << r.out;
  expect_contains(r.out, "link.invalid");
  r = curl("'" + s_https + link.substr(0, link.find('?')) + "'", false);
  EXPECT_EQ(status_of(r), 403) << r.out;

  // Multipart upload, as a browser sends it.
  r = curl(notary + "-F 'file=@" + samples[2].path.string() + ";type=application/pdf' -F level=B-T -F title=Procuracao " +
               s_https + "/api/v1/documents",
           false);
  ASSERT_EQ(status_of(r), 201) << r.out;
  EXPECT_EQ(nlohmann::json::parse(body_of(r))["level"], "B-T");

  // The record with a fresh link: the owner sees it, a clerk neither sees it nor signs.
  const std::string item = s_https + "/api/v1/documents/" + doc["id"].get<std::string>();
  r = curl(notary + item, false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  expect_contains(r.out, "download_url");
  r = curl(clerk + item, false);
  EXPECT_EQ(status_of(r), 404) << r.out;
  r = curl(clerk + "-X POST -H 'Content-Type: application/pdf' --data-binary @" + samples[0].path.string() + " " +
               s_https + "/api/v1/documents",
           false);
  EXPECT_EQ(status_of(r), 403) << r.out;

  // Public verification: valid, with the signer and the time-stamp in the report.
  r = curl("-X POST -H 'Content-Type: application/pdf' --data-binary @" + tmp("signed.pdf").string() + " " + s_https +
               "/api/v1/verify",
           false);
  ASSERT_EQ(status_of(r), 200) << r.out;
  auto report = nlohmann::json::parse(body_of(r));
  EXPECT_EQ(report["status"], "valid") << r.out;
  ASSERT_EQ(report["signatures"].size(), 1u);
  EXPECT_TRUE(report["signatures"][0]["timestamp"]["valid"].get<bool>()) << r.out;
  r = curl("-X POST -H 'Content-Type: application/pdf' --data-binary @" + tmp("signed.pdf").string() + " '" + s_https +
               "/api/v1/verify?format=text'",
           false);
  expect_contains(r.out, "all signatures are valid");

  // Bad input: a clear code, and no document (nor certificate) for it.
  write_file(tmp("not.pdf"), "definitely not a PDF\n");
  r = curl(notary + "-X POST -H 'Content-Type: application/pdf' --data-binary @" + tmp("not.pdf").string() + " " +
               s_https + "/api/v1/documents",
           false);
  EXPECT_EQ(status_of(r), 400) << r.out;
  expect_contains(r.out, "pdf.not_pdf");
  r = curl(notary + "-X POST -H 'Content-Type: text/plain' --data-binary @" + samples[0].path.string() + " " + s_https +
               "/api/v1/documents",
           false);
  EXPECT_EQ(status_of(r), 415) << r.out;
  EXPECT_EQ(count(), before + 2);
}

TEST_F(CliApi, RoleRouteMatrix) {
  const std::map<std::string, std::set<std::string>> policy = {
      {"admin",
       {"certificate:read", "certificate:issue", "certificate:revoke", "ca:read", "audit:read", "user:admin",
        "api_key:admin", "secret:list", "secret:read", "secret:rotate", "job:read", "self:manage", "self:mfa_enroll"}},
      {"notary",
       {"certificate:read", "certificate:issue", "certificate:revoke", "ca:read", "document:request", "document:sign",
        "self:manage", "self:mfa_enroll"}},
      {"clerk", {"certificate:read", "ca:read", "document:request", "self:manage", "self:mfa_enroll"}},
      {"auditor",
       {"certificate:read", "ca:read", "audit:read", "secret:list", "job:read", "self:manage", "self:mfa_enroll"}},
      {"service", {"certificate:read", "certificate:issue", "ca:read", "document:request"}},
  };
  auto doc = run("curl -s --cacert " + s_root + " " + s_https + "/openapi.json");
  auto api = nlohmann::json::parse(doc.out, nullptr, false);
  ASSERT_FALSE(api.is_discarded()) << doc.out;
  int walked = 0;
  for (const auto& [path, item] : api["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!op.is_object() || !op.contains("x-permission") || op.value("x-listener", "https") != "https") continue;
      const std::string permission = op["x-permission"];
      if (permission == "public") continue;
      std::string url = std::regex_replace(path, std::regex(R"(\{[a-z_]+\})"), "zz-no-such-thing");
      std::string verb = method;
      std::transform(verb.begin(), verb.end(), verb.begin(), ::toupper);
      const std::string body = verb == "POST" || verb == "PATCH" ? "-H 'Content-Type: application/json' -d '{}' " : "";
      for (const auto& [role, allowed] : policy) {
        auto r = curl("-X " + verb + " " + body + "-H 'X-API-Key: " + s_keys[role] + "' '" + s_https + url + "'",
                      false);
        const int status = status_of(r);
        if (allowed.count(permission)) {
          EXPECT_TRUE(status != 401 && status != 403 && status != 429)
              << role << " " << verb << " " << path << " -> " << status << " " << r.out;
        } else {
          EXPECT_EQ(status, 403) << role << " " << verb << " " << path << " " << r.out;
        }
        ++walked;
      }
    }
  }
  EXPECT_GE(walked, 5 * 15) << "the document lists the API's routes";
}

}  // namespace
