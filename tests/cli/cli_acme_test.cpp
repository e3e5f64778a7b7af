// The ACME server (issue 9) end to end through the real binary, judged by the clients the
// world uses and by openssl:
//   - certbot (standalone, http-01 on loopback) obtains a certificate, `certbot renew
//     --force-renewal` renews it, `certbot revoke` revokes it; lego does the same obtain and
//     renew, and obtains one more with tls-alpn-01. Every certificate verifies against our root with `openssl verify`, is in the
//     store with the ACME account as requester, and its issuance is in the audit trail;
//   - by hand: orderNotReady, badCSR, download, key change, revocation by the certificate's
//     key, alreadyRevoked, deactivation;
//   - refusals, with RFC 8555 error types: a name outside acme.allowed_domains, a JWS with a
//     bad signature, a reused nonce, a JWS whose url is not where it was sent, alg "none",
//     an account registration without the External Account Binding the server requires
//     (second server), and one with a wrong EAB MAC.
#include "acme/acme_test_support.h"
#include "acme/jws.h"
#include "crypto/key_pair.h"
#include "http/server.h"
#include "support/cli_test_support.h"
#include "support/loopback_http.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <thread>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::trim;
using cartorio::testing::write_file;
using nlohmann::json;
namespace fs = std::filesystem;
namespace acmetest = cartorio::acme::test;

// The Location header of the last reply whose headers went to `dir`/h.
std::string last_location(const fs::path& dir) {
  const std::string headers = read_file(dir / "h");
  std::smatch m;
  return std::regex_search(headers, m, std::regex("[Ll]ocation: ([^\r\n]+)")) ? m[1].str() : "";
}

// A loopback port nobody listens on (released just before the client binds it).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Served {
  std::string pid;
  std::string https;
};

class CliAcme : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_http01_port = free_port();
    s_tls_alpn01_port = free_port();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
            " CARTORIO_ROOT_PASSPHRASE='acme test passphrase 2026' CARTORIO_LIMITS_PER_IP_BURST=5000"
            " CARTORIO_ACME_ALLOWED_DOMAINS=acme.localhost"
            " CARTORIO_ACME_HTTP01_PORT=" + std::to_string(s_http01_port) +
            " CARTORIO_ACME_TLS_ALPN01_PORT=" + std::to_string(s_tls_alpn01_port) + " ";
    auto r = run(s_env + CARTORIO_BIN " init --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    s_root = json::parse(r.out)["root_certificate"].get<std::string>();
    r = run(s_env + CARTORIO_BIN " apikey create --name acme-auditor --role auditor --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    s_auditor_key = json::parse(r.out)["key"].get<std::string>();
    auto served = cartorio::testing::start_serve(s_env, CARTORIO_BIN, d / "serve.log");
    s_pid = served.pid;
    s_https = served.https;
    s_http = served.http;
    ASSERT_FALSE(s_https.empty()) << read_file(d / "serve.log");
    s_directory = s_https + "/acme/directory";
  }
  static void TearDownTestSuite() {
    if (!s_pid.empty()) run("kill -9 " + s_pid + " 2>/dev/null || true");
    s_dir.reset();
  }

  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }

  // `openssl verify` of a leaf against our root, with the intermediate(s) as untrusted.
  static void expect_verifies(const fs::path& leaf, const fs::path& chain) {
    auto v = run("openssl verify -x509_strict -purpose sslserver -CAfile " + s_root + " -untrusted " +
                 chain.string() + " " + leaf.string());
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find(": OK"), std::string::npos) << v.out;
  }
  static std::string serial_of(const fs::path& pem) {
    auto r = run("openssl x509 -noout -serial -in " + pem.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string s = trim(r.out.substr(r.out.find('=') + 1));
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (s.size() > 1 && s[0] == '0') s.erase(0, 1);
    return s;
  }
  // The store's view of a certificate (cert show --json).
  static json stored(const std::string& serial) {
    auto r = run(s_env + CARTORIO_BIN " cert show " + serial + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  // --- raw ACME, for the refusals ---
  struct Reply {
    int status = 0;
    json body;
    std::string nonce;
    std::string location;
  };
  Reply post(const std::string& url, const std::string& jws) const {
    write_file(tmp("jws.json"), jws);
    auto r = run("curl -s --cacert " + s_root + " -D " + tmp("h").string() +
                 " -H 'Content-Type: application/jose+json' --data-binary @" + tmp("jws.json").string() +
                 " -o " + tmp("b").string() + " -w '%{http_code}' " + shell_quote(url));
    Reply reply;
    reply.status = std::atoi(r.out.c_str());
    reply.body = json::parse(read_file(tmp("b")), nullptr, false);
    const std::string headers = read_file(tmp("h"));
    std::smatch m;
    if (std::regex_search(headers, m, std::regex("[Rr]eplay-[Nn]once: ([A-Za-z0-9_-]+)"))) reply.nonce = m[1];
    if (std::regex_search(headers, m, std::regex("[Ll]ocation: ([^\r\n]+)"))) reply.location = m[1];
    return reply;
  }
  std::string nonce() const {
    auto r = run("curl -sI --cacert " + s_root + " " + s_https + "/acme/new-nonce");
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("[Rr]eplay-[Nn]once: ([A-Za-z0-9_-]+)"))) << r.out;
    return m.size() > 1 ? m[1].str() : "";
  }
  static std::string url(const std::string& path) { return s_https + "/acme/" + path; }

  static inline std::unique_ptr<TempDir> s_dir;
  static inline std::string s_env, s_root, s_pid, s_https, s_http, s_directory, s_auditor_key;
  static inline int s_http01_port = 0;
  static inline int s_tls_alpn01_port = 0;
  TempDir m_dir;
};

TEST_F(CliAcme, CertbotObtainsRenewsAndRevokesWithHttp01) {
  const fs::path cb = s_dir->path() / "certbot";
  const std::string certbot = "REQUESTS_CA_BUNDLE=" + s_root + " certbot --non-interactive --config-dir " +
                              (cb / "config").string() + " --work-dir " + (cb / "work").string() +
                              " --logs-dir " + (cb / "logs").string() + " ";
  auto r = run(certbot + "certonly --standalone --agree-tos --register-unsafely-without-email --server " + s_directory +
               " --http-01-address 127.0.0.1 --http-01-port " + std::to_string(s_http01_port) +
               " -d www.acme.localhost -d api.acme.localhost");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << read_file(cb / "logs" / "letsencrypt.log");
  const fs::path live = cb / "config" / "live" / "www.acme.localhost";
  expect_verifies(live / "cert.pem", live / "chain.pem");
  const std::string first = serial_of(live / "cert.pem");
  auto names = run("openssl x509 -noout -ext subjectAltName -in " + (live / "cert.pem").string());
  EXPECT_NE(names.out.find("DNS:www.acme.localhost"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("DNS:api.acme.localhost"), std::string::npos) << names.out;
  auto rec = stored(first);
  EXPECT_EQ(rec["status"], "good");
  EXPECT_EQ(rec["issuer"], "tls");
  EXPECT_EQ(rec["requester"].get<std::string>().rfind("acme:account/", 0), 0u) << rec.dump();

  // Renewal: a new order, new validations, a new certificate.
  r = run(certbot + "renew --force-renewal --no-random-sleep-on-renew --http-01-address 127.0.0.1 --http-01-port " +
          std::to_string(s_http01_port));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_verifies(live / "cert.pem", live / "chain.pem");
  const std::string second = serial_of(live / "cert.pem");
  EXPECT_NE(first, second);
  EXPECT_EQ(stored(second)["status"], "good");

  // Revocation by the account key; the store (and so CRL and OCSP) says revoked.
  r = run(certbot + "revoke --server " + s_directory + " --no-delete-after-revoke --reason keycompromise --cert-path " +
          (live / "cert.pem").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto revoked = stored(second);
  EXPECT_EQ(revoked["status"], "revoked") << revoked.dump();

  // The public transparency log has both certificates (with inclusion proofs)...
  for (const auto& serial : {first, second}) {
    auto t = run("curl -s -o /dev/null -w '%{http_code}' " + s_http + "/transparency/certificates/" + serial);
    EXPECT_EQ(t.out, "200") << serial;
  }
  // ... and the audit trail the account, the validations and the issuances (key uses by the
  // account), and it verifies against its signed heads.
  auto events = [&](const std::string& query) {
    auto e = run("curl -s --cacert " + s_root + " -H 'X-API-Key: " + s_auditor_key + "' " +
                 shell_quote(s_https + "/api/v1/audit/events?" + query));
    return json::parse(e.out, nullptr, false);
  };
  const std::string account = rec["requester"].get<std::string>();
  EXPECT_EQ(events("action=acme.account.create&actor=" + account)["events"].size(), 1u);
  EXPECT_GE(events("action=acme.challenge.validate&actor=" + account)["events"].size(), 4u);  // 2 names x 2 orders
  EXPECT_GE(events("target=" + second)["events"].size(), 1u);
  auto audit = run(s_env + CARTORIO_BIN " audit verify");
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

TEST_F(CliAcme, LegoObtainsAndRenewsWithHttp01) {
  const fs::path lp = s_dir->path() / "lego";
  const std::string lego = "LEGO_CA_CERTIFICATES=" + s_root + " lego --accept-tos --email ops@acme.localhost --server " +
                           s_directory + " --path " + lp.string() + " --domains lego.acme.localhost --http --http.port 127.0.0.1:" +
                           std::to_string(s_http01_port) + " ";
  auto r = run(lego + "run");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const fs::path crt = lp / "certificates" / "lego.acme.localhost.crt";
  const fs::path issuer = lp / "certificates" / "lego.acme.localhost.issuer.crt";
  expect_verifies(crt, issuer);
  const std::string first = serial_of(crt);
  EXPECT_EQ(stored(first)["status"], "good");

  // Our certificates live 90 days: renewing when fewer than 100 days are left renews now.
  r = run(lego + "renew --days 100 --no-random-sleep");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_verifies(crt, issuer);
  EXPECT_NE(serial_of(crt), first);
}

TEST_F(CliAcme, LegoObtainsWithTlsAlpn01) {
  // lego answers only tls-alpn-01 (RFC 8737): our validator checks ALPN acme-tls/1, the one
  // dNSName and the critical acmeIdentifier holding SHA-256 of the key authorization.
  const fs::path lp = m_dir.path() / "lego";
  auto r = run("LEGO_CA_CERTIFICATES=" + s_root + " lego --accept-tos --email ops@acme.localhost --server " + s_directory +
               " --path " + lp.string() + " --domains alpn.acme.localhost --tls --tls.port 127.0.0.1:" +
               std::to_string(s_tls_alpn01_port) + " run");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_verifies(lp / "certificates" / "alpn.acme.localhost.crt", lp / "certificates" / "alpn.acme.localhost.issuer.crt");
}

TEST_F(CliAcme, RefusesWhatRfc8555Refuses) {
  auto key = acmetest::p256_key();
  const json jwk = acmetest::public_jwk_json(key.get());
  auto header = [&](const std::string& u, const std::string& n) { return json{{"jwk", jwk}, {"nonce", n}, {"url", u}}; };

  // Registration.
  auto reply = post(url("new-account"), acmetest::sign_flattened_jws(key.get(), "ES256", header(url("new-account"), nonce()),
                                                                    R"({"termsOfServiceAgreed":true})"));
  ASSERT_EQ(reply.status, 201) << reply.body.dump();
  const std::string account = reply.location;
  ASSERT_FALSE(account.empty());
  auto kid_header = [&](const std::string& u, const std::string& n) { return json{{"kid", account}, {"nonce", n}, {"url", u}}; };
  const std::string order_payload = R"({"identifiers":[{"type":"dns","value":"ok.acme.localhost"}]})";

  // A name outside acme.allowed_domains.
  reply = post(url("new-order"), acmetest::sign_flattened_jws(key.get(), "ES256", kid_header(url("new-order"), nonce()),
                                                              R"({"identifiers":[{"type":"dns","value":"example.com"}]})"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:rejectedIdentifier") << reply.body.dump();

  // A bad signature: a valid JWS with one payload byte changed.
  std::string jws = acmetest::sign_flattened_jws(key.get(), "ES256", kid_header(url("new-order"), nonce()), order_payload);
  json tampered = json::parse(jws);
  tampered["payload"] = acmetest::b64url(R"({"identifiers":[{"type":"dns","value":"ok2.acme.localhost"}]})");
  reply = post(url("new-order"), tampered.dump());
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:malformed") << reply.body.dump();

  // The same nonce twice: the first use passes, the second is refused.
  const std::string n = nonce();
  reply = post(url("new-order"), acmetest::sign_flattened_jws(key.get(), "ES256", kid_header(url("new-order"), n), order_payload));
  EXPECT_EQ(reply.status, 201) << reply.body.dump();
  reply = post(url("new-order"), acmetest::sign_flattened_jws(key.get(), "ES256", kid_header(url("new-order"), n), order_payload));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:badNonce") << reply.body.dump();
  EXPECT_FALSE(reply.nonce.empty()) << "an error still hands out a fresh nonce";

  // A JWS signed for another URL.
  reply = post(url("new-order"), acmetest::sign_flattened_jws(key.get(), "ES256", kid_header(url("new-account"), nonce()),
                                                              order_payload));
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:unauthorized") << reply.body.dump();

  // alg "none" (with some signature bytes, so only the algorithm is wrong).
  json none = kid_header(url("new-order"), nonce());
  none["alg"] = "none";
  reply = post(url("new-order"), json{{"protected", acmetest::b64url(none.dump())},
                                      {"payload", acmetest::b64url(order_payload)},
                                      {"signature", "AAAA"}}
                                     .dump());
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:badSignatureAlgorithm") << reply.body.dump();

  // Another account's key cannot read this account.
  auto other = acmetest::p256_key();
  reply = post(account, acmetest::sign_flattened_jws(other.get(), "ES256", kid_header(account, nonce()), ""));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:malformed") << reply.body.dump();
}

// The whole protocol by hand, for what the clients above do not exercise: orderNotReady, a
// CSR for other names (badCSR), key change, revocation signed by the certificate's own key,
// alreadyRevoked, and account deactivation.
TEST_F(CliAcme, ByHand_KeyChangeRevocationByCertificateKeyAndDeactivation) {
  // The http-01 responder, on the port the server validates against.
  std::mutex mutex;
  std::map<std::string, std::string> answers;
  cartorio::http::Router router;
  ASSERT_TRUE(router.get("/.well-known/acme-challenge/{token}", [&](const cartorio::http::Request& req) {
    std::lock_guard lock(mutex);
    auto it = answers.find(std::string(req.param("token")));
    return it == answers.end() ? cartorio::http::Response::text("", 404) : cartorio::http::Response::text(it->second);
  }));
  auto responder = cartorio::testing::start_loopback_server(std::move(router), s_http01_port);
  ASSERT_TRUE(responder);

  auto key_a = acmetest::p256_key();
  auto key_b = acmetest::rsa2048_key();
  const json jwk_a = acmetest::public_jwk_json(key_a.get());
  const json jwk_b = acmetest::public_jwk_json(key_b.get());
  auto reply = post(url("new-account"), acmetest::sign_flattened_jws(key_a.get(), "ES256",
                                                                    json{{"jwk", jwk_a}, {"nonce", nonce()}, {"url", url("new-account")}},
                                                                    R"({"termsOfServiceAgreed":true})"));
  ASSERT_EQ(reply.status, 201) << reply.body.dump();
  const std::string account = reply.location;
  auto as = [&](EVP_PKEY* key, const std::string& alg, const std::string& u, const std::string& payload) {
    return post(u, acmetest::sign_flattened_jws(key, alg, json{{"kid", account}, {"nonce", nonce()}, {"url", u}}, payload));
  };

  reply = as(key_a.get(), "ES256", url("new-order"), R"({"identifiers":[{"type":"dns","value":"manual.acme.localhost"}]})");
  ASSERT_EQ(reply.status, 201) << reply.body.dump();
  const std::string order = reply.location;
  const std::string finalize = reply.body["finalize"].get<std::string>();
  const std::string authz = reply.body["authorizations"][0].get<std::string>();
  EXPECT_EQ(reply.body["status"], "pending");

  // A leaf key and CSRs, by openssl.
  auto leaf = acmetest::p256_key();
  write_file(tmp("leaf.key"), *cartorio::crypto::private_key_to_pem(leaf.get()));
  auto csr_for = [&](const std::string& name) {
    auto r = run("openssl req -new -key " + tmp("leaf.key").string() + " -subj /CN=" + name +
                 " -addext subjectAltName=DNS:" + name + " -outform DER -out " + tmp("csr.der").string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json{{"csr", acmetest::b64url(read_file(tmp("csr.der")))}}.dump();
  };
  reply = as(key_a.get(), "ES256", finalize, csr_for("manual.acme.localhost"));
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:orderNotReady") << reply.body.dump();

  // Validation: the key authorization at the well-known path, then "{}" to the challenge.
  reply = as(key_a.get(), "ES256", authz, "");
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  json http01;
  for (const auto& c : reply.body["challenges"])
    if (c["type"] == "http-01") http01 = c;
  ASSERT_FALSE(http01.is_null()) << reply.body.dump();
  const auto thumbprint = cartorio::acme::parse_jwk(jwk_a);
  ASSERT_TRUE(thumbprint);
  {
    std::lock_guard lock(mutex);
    answers[http01["token"].get<std::string>()] = http01["token"].get<std::string>() + "." + thumbprint->thumbprint;
  }
  reply = as(key_a.get(), "ES256", http01["url"].get<std::string>(), "{}");
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  json state;
  for (int i = 0; i < 100; ++i) {
    state = as(key_a.get(), "ES256", order, "").body;
    if (state["status"] != "pending") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(state["status"], "ready") << state.dump();

  reply = as(key_a.get(), "ES256", finalize, csr_for("other.acme.localhost"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:badCSR") << reply.body.dump();
  reply = as(key_a.get(), "ES256", finalize, csr_for("manual.acme.localhost"));
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["status"], "valid");
  const std::string cert_url = reply.body.value("certificate", std::string());

  // Download: leaf then the TLS CA, verified against the root.
  write_file(tmp("jws.json"), acmetest::sign_flattened_jws(key_a.get(), "ES256",
                                                          json{{"kid", account}, {"nonce", nonce()}, {"url", cert_url}}, ""));
  auto dl = run("curl -s --cacert " + s_root + " -H 'Content-Type: application/jose+json' --data-binary @" +
                tmp("jws.json").string() + " -o " + tmp("chain.pem").string() + " -w '%{http_code} %{content_type}' " +
                cert_url);
  EXPECT_EQ(dl.out, "200 application/pem-certificate-chain");
  auto split = run("cd " + m_dir.path().string() + " && awk '/BEGIN CERT/{n++} {print > (\"part\" n \".pem\")}' chain.pem");
  ASSERT_EQ(split.exit_code, 0) << split.err;
  expect_verifies(tmp("part1.pem"), tmp("part2.pem"));

  // Another account sees none of it and cannot revoke it.
  auto key_c = acmetest::p384_key();
  reply = post(url("new-account"), acmetest::sign_flattened_jws(key_c.get(), "ES384",
                                                                json{{"jwk", acmetest::public_jwk_json(key_c.get())},
                                                                     {"nonce", nonce()}, {"url", url("new-account")}},
                                                                "{}"));
  ASSERT_EQ(reply.status, 201) << reply.body.dump();
  const std::string intruder = reply.location;
  auto as_c = [&](const std::string& u, const std::string& payload) {
    return post(u, acmetest::sign_flattened_jws(key_c.get(), "ES384",
                                                json{{"kid", intruder}, {"nonce", nonce()}, {"url", u}}, payload));
  };
  EXPECT_EQ(as_c(order, "").status, 404);
  EXPECT_EQ(as_c(authz, "").status, 404);
  EXPECT_EQ(as_c(cert_url, "").status, 404);
  EXPECT_EQ(as_c(finalize, csr_for("manual.acme.localhost")).status, 404);
  EXPECT_EQ(as_c(account, "").status, 403);
  auto der_first = run("openssl x509 -in " + tmp("part1.pem").string() + " -outform DER -out " + tmp("leaf.der").string());
  ASSERT_EQ(der_first.exit_code, 0);
  reply = as_c(url("revoke-cert"), json{{"certificate", acmetest::b64url(read_file(tmp("leaf.der")))}}.dump());
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:unauthorized") << reply.body.dump();

  // Key change to an RSA key: the old key no longer speaks for the account, the new one does.
  const std::string inner = acmetest::sign_flattened_jws(key_b.get(), "RS256", json{{"jwk", jwk_b}, {"url", url("key-change")}},
                                                         json{{"account", account}, {"oldKey", jwk_a}}.dump());
  reply = as(key_a.get(), "ES256", url("key-change"), inner);
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  reply = as(key_a.get(), "ES256", account, "");
  EXPECT_EQ(reply.status, 400) << reply.body.dump();
  reply = as(key_b.get(), "RS256", account, "");
  EXPECT_EQ(reply.status, 200) << reply.body.dump();

  // Revocation signed by the certificate's own key (jwk), then once more.
  const json leaf_jwk = acmetest::public_jwk_json(leaf.get());
  const std::string revoke_payload = json{{"certificate", acmetest::b64url(read_file(tmp("leaf.der")))}, {"reason", 1}}.dump();
  auto revoke = [&] {
    return post(url("revoke-cert"), acmetest::sign_flattened_jws(leaf.get(), "ES256",
                                                                 json{{"jwk", leaf_jwk}, {"nonce", nonce()}, {"url", url("revoke-cert")}},
                                                                 revoke_payload));
  };
  reply = revoke();
  EXPECT_EQ(reply.status, 200) << reply.body.dump();
  reply = revoke();
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:alreadyRevoked") << reply.body.dump();
  auto ocsp_view = stored(serial_of(tmp("part1.pem")));
  EXPECT_EQ(ocsp_view["status"], "revoked");
  EXPECT_EQ(ocsp_view["revocation_reason"], "keyCompromise");

  // Deactivation: the account can do nothing more.
  reply = as(key_b.get(), "RS256", account, R"({"status":"deactivated"})");
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["status"], "deactivated");
  reply = as(key_b.get(), "RS256", url("new-order"), R"({"identifiers":[{"type":"dns","value":"manual.acme.localhost"}]})");
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body["type"], "urn:ietf:params:acme:error:unauthorized") << reply.body.dump();
  responder->stop();
}

TEST_F(CliAcme, ExternalAccountBindingIsRequiredWhenConfigured) {
  // A second installation that registers only accounts with an EAB key.
  const fs::path d = m_dir.path();
  const std::string env = "CARTORIO_DATA_DIR=" + shell_quote((d / "data").string()) +
                          " CARTORIO_ROOT_PASSPHRASE='acme eab passphrase 2026' CARTORIO_ACME_ALLOWED_DOMAINS=acme.localhost"
                          " CARTORIO_ACME_REQUIRE_EAB=true CARTORIO_ACME_NEW_ORDERS_PER_HOUR=2 ";
  auto r = run(env + CARTORIO_BIN " init --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string root = json::parse(r.out)["root_certificate"].get<std::string>();
  r = run(env + CARTORIO_BIN " acme eab create");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json eab = json::parse(r.out);
  auto served = cartorio::testing::start_serve(env, CARTORIO_BIN, d / "serve.log");
  // Stopped however the test ends (an ASSERT returns early).
  struct Stop {
    std::string pid;
    ~Stop() {
      if (!pid.empty()) run("kill " + pid + " 2>/dev/null || true");
    }
  } stop{served.pid};
  ASSERT_FALSE(served.https.empty()) << read_file(d / "serve.log");
  const std::string new_account = served.https + "/acme/new-account";
  auto fresh_nonce = [&] {
    auto h = run("curl -sI --cacert " + root + " " + served.https + "/acme/new-nonce");
    std::smatch m;
    std::regex_search(h.out, m, std::regex("[Rr]eplay-[Nn]once: ([A-Za-z0-9_-]+)"));
    return m.size() > 1 ? m[1].str() : "";
  };
  auto send = [&](const std::string& jws) {
    write_file(d / "jws.json", jws);
    auto c = run("curl -s --cacert " + root + " -D " + (d / "h").string() +
                 " -H 'Content-Type: application/jose+json' --data-binary @" + (d / "jws.json").string() + " -o " +
                 (d / "b").string() + " -w '%{http_code}' " + new_account);
    return std::make_pair(std::atoi(c.out.c_str()), json::parse(read_file(d / "b"), nullptr, false));
  };
  auto key = acmetest::p256_key();
  const json jwk = acmetest::public_jwk_json(key.get());
  auto outer = [&](const json& payload) {
    return acmetest::sign_flattened_jws(key.get(), "ES256", json{{"jwk", jwk}, {"nonce", fresh_nonce()}, {"url", new_account}},
                                        payload.dump());
  };

  auto [status, body] = send(outer(json{{"termsOfServiceAgreed", true}}));
  EXPECT_EQ(status, 403);
  EXPECT_EQ(body["type"], "urn:ietf:params:acme:error:externalAccountRequired") << body.dump();

  auto binding = [&](const std::string& mac_key_b64) {
    const auto mac_key = cartorio::crypto::from_base64url(mac_key_b64);
    EXPECT_TRUE(mac_key);
    return json::parse(acmetest::sign_flattened_jws_hmac(*mac_key, json{{"kid", eab["kid"]}, {"url", new_account}}, jwk.dump()));
  };
  // The wrong MAC key: refused.
  std::tie(status, body) = send(outer(json{{"termsOfServiceAgreed", true},
                                           {"externalAccountBinding", binding(acmetest::b64url(std::string(32, 'x')))}}));
  EXPECT_EQ(status, 403);
  EXPECT_EQ(body["type"], "urn:ietf:params:acme:error:unauthorized") << body.dump();
  // The right one: registered.
  std::tie(status, body) = send(outer(json{{"termsOfServiceAgreed", true},
                                           {"externalAccountBinding", binding(eab["hmac_key"].get<std::string>())}}));
  EXPECT_EQ(status, 201) << body.dump();
  EXPECT_EQ(body["status"], "valid");
  const std::string account = body.is_object() ? last_location(d) : "";

  // Two new orders an hour for this account (acme.new_orders_per_hour=2): the third waits.
  const std::string new_order = served.https + "/acme/new-order";
  auto order = [&] {
    write_file(d / "jws.json",
               acmetest::sign_flattened_jws(key.get(), "ES256", json{{"kid", account}, {"nonce", fresh_nonce()}, {"url", new_order}},
                                            R"({"identifiers":[{"type":"dns","value":"limited.acme.localhost"}]})"));
    auto c = run("curl -s --cacert " + root + " -D " + (d / "h").string() +
                 " -H 'Content-Type: application/jose+json' --data-binary @" + (d / "jws.json").string() + " -o " +
                 (d / "b").string() + " -w '%{http_code}' " + new_order);
    return std::make_pair(std::atoi(c.out.c_str()), json::parse(read_file(d / "b"), nullptr, false));
  };
  EXPECT_EQ(order().first, 201);
  EXPECT_EQ(order().first, 201);
  auto [limited, problem] = order();
  EXPECT_EQ(limited, 429);
  EXPECT_EQ(problem["type"], "urn:ietf:params:acme:error:rateLimited") << problem.dump();
  std::smatch retry;
  const std::string headers = read_file(d / "h");
  EXPECT_TRUE(std::regex_search(headers, retry, std::regex("[Rr]etry-[Aa]fter: ([0-9]+)"))) << headers;

  // The same EAB key for a second account: refused (it binds one account).
  auto second = acmetest::p256_key();
  const json second_jwk = acmetest::public_jwk_json(second.get());
  const auto mac_key = cartorio::crypto::from_base64url(eab["hmac_key"].get<std::string>());
  ASSERT_TRUE(mac_key);
  const json reused = json::parse(
      acmetest::sign_flattened_jws_hmac(*mac_key, json{{"kid", eab["kid"]}, {"url", new_account}}, second_jwk.dump()));
  std::tie(status, body) =
      send(acmetest::sign_flattened_jws(second.get(), "ES256",
                                        json{{"jwk", second_jwk}, {"nonce", fresh_nonce()}, {"url", new_account}},
                                        json{{"externalAccountBinding", reused}}.dump()));
  EXPECT_EQ(status, 403);
  EXPECT_EQ(body["type"], "urn:ietf:params:acme:error:unauthorized") << body.dump();
}

}  // namespace
