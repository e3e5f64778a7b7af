// The HTTPS listener in-process on 127.0.0.1:0, against a throwaway PKI made with the
// openssl CLI (root -> TLS CA -> server and client certificates), driven by real clients:
// `openssl s_client` (protocol and cipher policy, the certificate presented), curl
// (HTTPS, HSTS, client certificates) and raw/libssl sockets (plain HTTP on the TLS port,
// connections held open across an identity swap or stop()).
#include "http/server.h"

#include "crypto/key_pair.h"
#include "crypto/x509.h"
#include "support/test_support.h"
#include "test_clients.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

namespace cartorio::http {
namespace {

using namespace std::chrono_literals;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using testing::curl;
using testing::RawClient;
using testing::TlsClient;

constexpr const char* kHsts = "max-age=63072000; includeSubDomains";

constexpr const char* kOpensslConfig = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://cartorio.test/service/signer,DNS:signer.cartorio.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
)";

// Runs a shell command that must succeed (PKI set-up).
void must_run(const std::string& command) {
  auto r = run(command);
  if (r.exit_code != 0) throw std::runtime_error(command + " failed: " + r.err);
}

// The throwaway PKI, made once per test process (ctest runs each test in its own), the
// parts few tests need only when first asked for.
class Pki {
 public:
  Pki() {
    cartorio::testing::write_file(m_dir / "openssl.cnf", kOpensslConfig);
    make_root("root", "/CN=Test Root CA");
    make_intermediate("tls-ca", "/O=Cartorio Test/CN=Test TLS CA", "root");
    m_identity_a = make_server_identity("server-a", crypto::KeyAlgorithm::ec_p256, "5eed01");
  }

  // EC P-256, serial 5eed01.
  const TlsIdentity& identity_a() const { return m_identity_a; }
  // RSA 2048, serial 5eed02.
  const TlsIdentity& identity_b() {
    if (!m_identity_b) m_identity_b = make_server_identity("server-b", crypto::KeyAlgorithm::rsa2048, "5eed02");
    return *m_identity_b;
  }

  // client (serial c11e47), foreign-client (another CA), server-eku-client.
  void make_client_certificates() {
    if (m_clients_made) return;
    make_root("other-ca", "/CN=Other CA");
    issue_with_cli_key("client", "/O=Cartorio Test/CN=signer-service", "tls-ca", "client_ext", "c11e47");
    issue_with_cli_key("foreign-client", "/O=Cartorio Test/CN=signer-service", "other-ca", "client_ext", "f0e1");
    // Issued by the right CA, but for servers: the clientAuth purpose check refuses it.
    issue_with_cli_key("server-eku-client", "/CN=signer-service", "tls-ca", "server_ext", "5eed03");
    m_clients_made = true;
  }

  std::string file(const std::string& name) const { return (m_dir / name).string(); }
  std::string pem(const std::string& name) const { return read_file(m_dir / (name + ".pem")); }
  // "--cert X.pem --key X.key" for curl.
  std::string curl_identity(const std::string& name) const {
    return "--cert " + shell_quote(file(name + ".pem")) + " --key " + shell_quote(file(name + ".key"));
  }
  // Lowercase hex SHA-256 of the DER certificate, as openssl computes it.
  std::string fingerprint(const std::string& name) const {
    auto r = run("openssl x509 -in " + shell_quote(file(name + ".pem")) + " -noout -fingerprint -sha256");
    std::string out;
    for (char c : r.out.substr(r.out.find('=') + 1))
      if (std::isxdigit(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::tolower(c)));
    return out;
  }

 private:
  std::string cnf() const { return shell_quote(file("openssl.cnf")); }

  void make_root(const std::string& name, const std::string& subject) {
    must_run("openssl req -x509 -config " + cnf() + " -extensions ca_ext -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -days 2 -subj " + shell_quote(subject) + " -keyout " + shell_quote(file(name + ".key")) +
             " -out " + shell_quote(file(name + ".pem")));
  }

  void sign(const std::string& name, const std::string& issuer, const std::string& ext, const std::string& serial) {
    must_run("openssl x509 -req -in " + shell_quote(file(name + ".csr")) + " -CA " + shell_quote(file(issuer + ".pem")) +
             " -CAkey " + shell_quote(file(issuer + ".key")) + " -set_serial 0x" + serial + " -days 1 -extfile " +
             cnf() + " -extensions " + ext + " -out " + shell_quote(file(name + ".pem")));
  }

  void issue_with_cli_key(const std::string& name, const std::string& subject, const std::string& issuer,
                          const std::string& ext, const std::string& serial) {
    must_run("openssl req -new -config " + cnf() + " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj " +
             shell_quote(subject) + " -keyout " + shell_quote(file(name + ".key")) + " -out " +
             shell_quote(file(name + ".csr")));
    sign(name, issuer, ext, serial);
  }

  void make_intermediate(const std::string& name, const std::string& subject, const std::string& issuer) {
    issue_with_cli_key(name, subject, issuer, "ca_ext", "02");
  }

  // As in production: the key is made in memory, the TLS CA issues the certificate. The
  // key goes to a file here only because the openssl CLI writes the CSR.
  TlsIdentity make_server_identity(const std::string& name, crypto::KeyAlgorithm alg, const std::string& serial) {
    auto key = crypto::generate_key(alg);
    if (!key) throw std::runtime_error(key.error().to_string());
    auto der = crypto::private_key_to_der(key->get());
    if (!der) throw std::runtime_error(der.error().to_string());
    cartorio::testing::write_file(m_dir / (name + ".key.der"), std::string(der->str()));
    must_run("openssl req -new -config " + cnf() + " -key " + shell_quote(file(name + ".key.der")) +
             " -keyform DER -subj /CN=localhost -out " + shell_quote(file(name + ".csr")));
    sign(name, "tls-ca", "server_ext", serial);
    // Leaf, then the TLS CA: clients that trust only the root need the intermediate.
    auto identity = TlsIdentity::from_pem(pem(name) + pem("tls-ca"), std::move(*key));
    if (!identity) throw std::runtime_error(identity.error().to_string());
    return std::move(*identity);
  }

  cartorio::testing::TempDir m_dir;
  TlsIdentity m_identity_a;
  std::optional<TlsIdentity> m_identity_b;
  bool m_clients_made = false;
};

// A key no certificate here belongs to.
crypto::PKey unrelated_key() {
  auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  if (!key) throw std::runtime_error(key.error().to_string());
  return std::move(*key);
}

Router make_router() {
  Router r;
  auto must = [](const core::Result<void>& added) {
    if (!added) throw std::logic_error(added.error().to_string());
  };
  must(r.get("/healthz", [](const Request&) { return Response::text("ok\n"); }));
  must(r.get("/hsts", [](const Request&) {
    return Response::text("h").set_header("Strict-Transport-Security", "max-age=1");  // not the handler's to set
  }));
  must(r.get("/whoami", [](const Request& q) {
    const auto& c = q.client_certificate();
    if (!c) return Response::json(nlohmann::json{{"client", nullptr}}.dump());
    nlohmann::json j{{"cn", c->subject_cn},
                     {"dn", c->subject_dn},
                     {"issuer", c->issuer_dn},
                     {"serial", c->serial},
                     {"sha256", c->sha256_fingerprint},
                     {"not_after", core::to_unix(c->not_after)},
                     {"not_before", core::to_unix(c->not_before)},
                     {"uris", c->san_uris},
                     {"dns", c->san_dns}};
    return Response::json(nlohmann::json{{"client", j}}.dump());
  }));
  return r;
}

class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_pki = std::make_unique<Pki>(); }
  static void TearDownTestSuite() { s_pki.reset(); }
  static Pki& pki() { return *s_pki; }

  static ServerOptions options(ClientAuth auth = ClientAuth::none) {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    TlsOptions tls;
    tls.identity = pki().identity_a();
    tls.client_auth = auth;
    // Pinned to the TLS CA (an intermediate): it is a trust anchor in its own right.
    if (auth != ClientAuth::none) {
      tls.client_trust_anchors_pem = pki().pem("tls-ca");
      pki().make_client_certificates();
    }
    o.tls = std::move(tls);
    return o;
  }

  void start(ServerOptions o = options()) {
    m_server = std::make_unique<Server>(std::move(o), make_router());
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_NE(m_server->port(), 0);
  }

  std::string port() const { return std::to_string(m_server->port()); }
  std::string https(std::string_view path) const {
    return shell_quote("https://127.0.0.1:" + port() + std::string(path));
  }
  // curl trusting only the root; the server must send the TLS CA itself.
  testing::CurlReply curl_https(std::string_view path, const std::string& extra = "") const {
    return curl("--cacert " + shell_quote(pki().file("root.pem")) + " " + extra + " " + https(path));
  }
  // `openssl s_client` verifying the server against the root; stdout + stderr.
  cartorio::testing::CommandResult s_client(const std::string& args) const {
    auto r = run("openssl s_client -connect 127.0.0.1:" + port() + " -servername localhost -CAfile " +
                 shell_quote(pki().file("root.pem")) + " -verify_return_error " + args);
    r.out += r.err;
    return r;
  }
  // The serial a fresh connection is shown, as `openssl x509 -serial` prints it.
  std::string presented_serial() const {
    return run("openssl s_client -connect 127.0.0.1:" + port() + " -servername localhost </dev/null 2>/dev/null"
               " | openssl x509 -noout -serial").out;
  }

  static std::unique_ptr<Pki> s_pki;
  std::unique_ptr<Server> m_server;
};

std::unique_ptr<Pki> TlsServerTest::s_pki;

TEST_F(TlsServerTest, Tls10And11_RefusedByTheServer) {
  start();
  // SECLEVEL=0 lets this client offer TLS 1.0/1.1, so the refusal is the server's:
  // the client receives a protocol_version alert instead of never sending a hello.
  for (const char* version : {"-tls1", "-tls1_1"}) {
    auto r = s_client(std::string(version) + " -cipher DEFAULT@SECLEVEL=0");
    EXPECT_NE(r.exit_code, 0) << version << "\n" << r.out;
    cartorio::testing::expect_contains(r.out, "alert protocol version");
  }
}

TEST_F(TlsServerTest, Tls12And13_Accepted_WithVerifiedChain) {
  start();
  auto v12 = s_client("-tls1_2");
  EXPECT_EQ(v12.exit_code, 0) << v12.out;
  cartorio::testing::expect_contains(v12.out, "New, TLSv1.2, Cipher is ECDHE-ECDSA-");
  cartorio::testing::expect_contains(v12.out, "Verify return code: 0 (ok)");
  auto v13 = s_client("-tls1_3");
  EXPECT_EQ(v13.exit_code, 0) << v13.out;
  cartorio::testing::expect_contains(v13.out, "New, TLSv1.3, Cipher is TLS_");
  cartorio::testing::expect_contains(v13.out, "Verify return code: 0 (ok)");
}

TEST_F(TlsServerTest, Tls12_OnlyEcdheAead_InServerOrder) {
  start();
  // CBC suites with ECDHE: the server has no suite in common with this client.
  auto cbc = s_client("-tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0'");
  EXPECT_NE(cbc.exit_code, 0) << cbc.out;
  cartorio::testing::expect_contains(cbc.out, "alert handshake failure");
  // The client prefers AES-256; the server's order (AES-128 first) wins.
  auto order = s_client("-tls1_2 -cipher 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256'");
  EXPECT_EQ(order.exit_code, 0) << order.out;
  cartorio::testing::expect_contains(order.out, "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsServerTest, Tls12_NoRenegotiation_NoCompression) {
  start();
  // "R" asks s_client to renegotiate; the server answers with a no_renegotiation alert.
  auto r = run("(sleep 0.3; echo R; sleep 2) | openssl s_client -connect 127.0.0.1:" + port() +
               " -tls1_2 -servername localhost -CAfile " + shell_quote(pki().file("root.pem")) + " 2>&1");
  cartorio::testing::expect_contains(r.out, "RENEGOTIATING");
  cartorio::testing::expect_contains(r.out, ":no renegotiation:");
  cartorio::testing::expect_contains(r.out, "Compression: NONE");
}

TEST_F(TlsServerTest, Curl_GetsResponseWithHsts) {
  start();
  auto r = curl_https("/healthz");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(r.headers["strict-transport-security"], kHsts);
  // A handler's own value never replaces the server's.
  EXPECT_EQ(curl_https("/hsts").headers["strict-transport-security"], kHsts);
}

TEST_F(TlsServerTest, PlainAndTlsListeners_InOneProcess_HstsOnlyOverTls) {
  start();
  ServerOptions plain_options;
  plain_options.listen = "127.0.0.1:0";
  plain_options.threads = 1;
  Server plain(plain_options, make_router());
  ASSERT_OK(plain.start());
  auto plain_url = [&](std::string_view path) {
    return shell_quote("http://127.0.0.1:" + std::to_string(plain.port()) + std::string(path));
  };
  for (const char* path : {"/healthz", "/hsts"}) {
    auto over_http = curl(plain_url(path));
    EXPECT_EQ(over_http.status, 200) << path;
    EXPECT_EQ(over_http.headers.count("strict-transport-security"), 0u) << path;
    auto over_tls = curl_https(path);
    EXPECT_EQ(over_tls.status, 200) << path;
    EXPECT_EQ(over_tls.headers["strict-transport-security"], kHsts) << path;
  }
  plain.stop();
  EXPECT_EQ(curl_https("/healthz").status, 200);  // one stopping leaves the other alone
}

TEST_F(TlsServerTest, PlainHttpOnTlsPort_NoResponse_ServerCarriesOn) {
  start();
  ::testing::internal::CaptureStderr();
  {
    RawClient raw(m_server->port());
    ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    auto got = raw.read_until_close(&closed);
    EXPECT_TRUE(closed);  // refused at once, not after our 10 s receive timeout
    EXPECT_EQ(got.find("HTTP/"), std::string::npos) << got;
  }
  auto r = curl("http://127.0.0.1:" + port() + "/healthz");
  EXPECT_NE(r.status, 200);
  m_server->stop();  // flushes the log lines
  std::string log = ::testing::internal::GetCapturedStderr();
  cartorio::testing::expect_contains(log, "\"msg\":\"http.tls_handshake_failed\"");
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(TlsServerTest, StalledHandshake_ClosedAfterHandshakeTimeout) {
  auto o = options();
  o.tls->handshake_timeout = 300ms;
  start(o);
  auto t0 = std::chrono::steady_clock::now();
  RawClient silent(m_server->port());  // connects, never says hello
  bool closed = false;
  EXPECT_EQ(silent.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(curl_https("/healthz").status, 200);
}

TEST_F(TlsServerTest, MutualTlsRequired_VerifiedClientSeenByHandler) {
  start(options(ClientAuth::required));
  ::testing::internal::CaptureStderr();
  auto without = curl_https("/whoami");
  EXPECT_NE(without.exit_code, 0);
  EXPECT_NE(without.status, 200);

  auto with = curl_https("/whoami", pki().curl_identity("client"));
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(with.status, 200);
  EXPECT_EQ(with.headers["strict-transport-security"], kHsts);
  auto j = nlohmann::json::parse(with.body)["client"];
  ASSERT_TRUE(j.is_object()) << with.body;
  EXPECT_EQ(j["cn"], "signer-service");
  EXPECT_EQ(j["dn"], "CN=signer-service,O=Cartorio Test");
  EXPECT_EQ(j["issuer"], "CN=Test TLS CA,O=Cartorio Test");
  EXPECT_EQ(j["serial"], "c11e47");
  EXPECT_EQ(j["sha256"], pki().fingerprint("client"));
  EXPECT_EQ(j["uris"], nlohmann::json::array({"spiffe://cartorio.test/service/signer"}));
  EXPECT_EQ(j["dns"], nlohmann::json::array({"signer.cartorio.test"}));
  auto now = core::to_unix(std::chrono::system_clock::now());
  EXPECT_GT(j["not_after"].get<long long>(), now);
  EXPECT_LE(j["not_before"].get<long long>(), now + 60);

  // Same subject, another CA; and the right CA but a server-only certificate.
  for (const char* other : {"foreign-client", "server-eku-client"}) {
    auto refused = curl_https("/whoami", pki().curl_identity(other));
    EXPECT_NE(refused.exit_code, 0) << other;
    EXPECT_NE(refused.status, 200) << other << ": " << refused.body;
  }
  m_server->stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  cartorio::testing::expect_contains(log, "\"client_certificate\":\"unable to get local issuer certificate\"");
  cartorio::testing::expect_contains(log, "\"client_certificate\":\"unsuitable certificate purpose\"");
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(TlsServerTest, MutualTlsOptional_NoCertificateIsNullopt) {
  start(options(ClientAuth::optional));
  auto anonymous = curl_https("/whoami");
  ASSERT_EQ(anonymous.exit_code, 0) << anonymous.err;
  EXPECT_EQ(anonymous.status, 200);
  EXPECT_TRUE(nlohmann::json::parse(anonymous.body)["client"].is_null()) << anonymous.body;

  auto known = curl_https("/whoami", pki().curl_identity("client"));
  EXPECT_EQ(known.status, 200);
  EXPECT_EQ(nlohmann::json::parse(known.body)["client"]["serial"], "c11e47") << known.body;
  // Presenting a certificate that does not verify is still refused.
  EXPECT_NE(curl_https("/whoami", pki().curl_identity("foreign-client")).status, 200);
}

TEST_F(TlsServerTest, NoClientAuth_CertificateIgnored) {
  pki().make_client_certificates();
  start();
  auto r = curl_https("/whoami", pki().curl_identity("client"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(nlohmann::json::parse(r.body)["client"].is_null()) << r.body;
}

TEST_F(TlsServerTest, SetTlsIdentity_NewConnectionsGetIt_EstablishedKeepTheirs) {
  start();
  EXPECT_EQ(presented_serial(), "serial=5EED01\n");
  TlsClient old_connection(m_server->port(), pki().file("root.pem"));
  ASSERT_TRUE(old_connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(old_connection.read_response().status, 200);

  ASSERT_OK(m_server->set_tls_identity(pki().identity_b()));
  EXPECT_EQ(presented_serial(), "serial=5EED02\n");
  auto fresh = s_client("-tls1_2");  // RSA key now: the ECDHE-RSA suites
  cartorio::testing::expect_contains(fresh.out, "Cipher is ECDHE-RSA-");
  EXPECT_EQ(curl_https("/healthz").status, 200);

  // The connection made before the swap still works, on the old certificate.
  ASSERT_TRUE(old_connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto r = old_connection.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(old_connection.peer_serial(), "5eed01");
  bool closed = false;
  EXPECT_EQ(old_connection.read_until_close(&closed), "");  // close_notify
  EXPECT_TRUE(closed);
}

TEST_F(TlsServerTest, SetTlsIdentity_BadIdentityRefused_OldOneStays) {
  start();
  TlsIdentity mismatched = pki().identity_a();
  mismatched.private_key = unrelated_key();
  EXPECT_ERRC(m_server->set_tls_identity(mismatched), core::Errc::invalid_argument);
  EXPECT_ERRC(m_server->set_tls_identity(TlsIdentity{}), core::Errc::invalid_argument);
  EXPECT_EQ(presented_serial(), "serial=5EED01\n");

  ServerOptions plain_options;
  plain_options.listen = "127.0.0.1:0";
  Server plain(plain_options, Router{});
  EXPECT_ERRC(plain.set_tls_identity(pki().identity_b()), core::Errc::invalid_argument);
}

TEST_F(TlsServerTest, SetTlsIdentity_BeforeStart_IsUsed) {
  m_server = std::make_unique<Server>(options(), make_router());
  ASSERT_OK(m_server->set_tls_identity(pki().identity_b()));
  ASSERT_OK(m_server->start());
  EXPECT_EQ(presented_serial(), "serial=5EED02\n");
}

TEST_F(TlsServerTest, Start_RefusesBadTlsSettings) {
  auto expect_refused = [](ServerOptions o, core::Errc code) {
    Server s(std::move(o), Router{});
    EXPECT_ERRC(s.start(), code);
    EXPECT_EQ(s.port(), 0);  // never listened
  };
  auto mismatched = options();
  mismatched.tls->identity.private_key = unrelated_key();
  expect_refused(mismatched, core::Errc::invalid_argument);

  auto empty = options();
  empty.tls->identity = TlsIdentity{};
  expect_refused(empty, core::Errc::invalid_argument);

  auto no_anchors = options(ClientAuth::required);
  no_anchors.tls->client_trust_anchors_pem.clear();
  expect_refused(no_anchors, core::Errc::invalid_argument);

  auto bad_anchors = options(ClientAuth::optional);
  bad_anchors.tls->client_trust_anchors_pem = "not a certificate";
  expect_refused(bad_anchors, core::Errc::malformed_input);
}

TEST_F(TlsServerTest, ConnectionClose_ClientStillSending_ResponseAndCloseNotifyArrive) {
  start();
  TlsClient client(m_server->port(), pki().file("root.pem"));
  // More bytes after the request the server closes on: it must linger past them (they are
  // an error to OpenSSL once close_notify is sent) rather than reset the connection.
  ASSERT_TRUE(client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  client.send(std::string(200'000, 'j'));  // may fail once the server has closed: fine
  auto r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");
  bool closed = false;
  EXPECT_EQ(client.read_until_close(&closed), "");  // the second request is not answered
  EXPECT_TRUE(closed);
  EXPECT_EQ(curl_https("/healthz").status, 200);
}

TEST_F(TlsServerTest, Stop_ClosesIdleTlsConnectionPromptly) {
  auto o = options();
  o.idle_timeout = 60s;
  o.stop_timeout = 30s;
  start(o);
  TlsClient client(m_server->port(), pki().file("root.pem"));
  ASSERT_TRUE(client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 200);
  auto t0 = std::chrono::steady_clock::now();
  m_server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);  // not the 30 s stop_timeout
  bool closed = false;
  EXPECT_EQ(client.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
}

TEST(TlsIdentity, CopiesShareTheOpenSslObjects) {
  auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  ASSERT_OK(key);
  auto pem = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null "
                 "-subj /CN=x -days 1 2>/dev/null");
  ASSERT_EQ(pem.exit_code, 0);
  auto identity = TlsIdentity::from_pem(pem.out, std::move(*key));
  ASSERT_OK(identity);
  EXPECT_TRUE(identity->chain.empty());
  auto copy = std::make_unique<TlsIdentity>(*identity);
  EXPECT_EQ(copy->certificate.get(), identity->certificate.get());
  EXPECT_EQ(copy->private_key.get(), identity->private_key.get());
  copy.reset();  // the original stays valid
  EXPECT_FALSE(crypto::serial_hex(identity->certificate.get()).empty());
  EXPECT_ERRC(TlsIdentity::from_pem("garbage", nullptr), core::Errc::malformed_input);
}

}  // namespace
}  // namespace cartorio::http
