// What the ACME server may issue for and where its validations may connect (acme/policy.h),
// and http-01 validation (acme/validation.h) against real loopback HTTP servers: the right
// answer passes; a wrong answer, a 404, a redirect, an oversized body, a closed port and an
// address outside acme.validation_networks each fail with their ACME error type.
#include "acme/policy.h"
#include "acme/validation.h"
#include "http/server.h"
#include "support/loopback_http.h"

#include <gtest/gtest.h>

#include "crypto/key_pair.h"
#include "crypto/ossl.h"
#include "crypto/primitives.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>
#include <thread>

namespace {

using cartorio::acme::IdentifierPolicy;
using cartorio::acme::NetworkPolicy;
using cartorio::acme::NetworkValidator;
using cartorio::acme::NetworkValidatorOptions;
using cartorio::core::Errc;
namespace http = cartorio::http;

sockaddr_storage address(const char* text) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr), 1) << text;
    ss.ss_family = AF_INET6;
  }
  return ss;
}

bool allows(const NetworkPolicy& p, const char* text) {
  auto ss = address(text);
  return p.allows(reinterpret_cast<sockaddr*>(&ss));
}

TEST(AcmeIdentifierPolicy, AllowsZonesAndTheirSubdomainsOnly) {
  auto p = IdentifierPolicy::parse(" corp.example , Internal ");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(*p->check("corp.example"), "corp.example");
  EXPECT_EQ(*p->check("WWW.Corp.Example"), "www.corp.example");
  EXPECT_EQ(*p->check("a.b.internal"), "a.b.internal");
  EXPECT_EQ(p->check("evilcorp.example").error().code, Errc::permission_denied);  // not under the zone
  EXPECT_EQ(p->check("corp.example.attacker.test").error().code, Errc::permission_denied);
  EXPECT_EQ(p->check("example").error().code, Errc::permission_denied);
  EXPECT_EQ(p->check("*.corp.example").error().code, Errc::invalid_san);  // wildcards need dns-01
  EXPECT_EQ(p->check("a..corp.example").error().code, Errc::invalid_san);
  EXPECT_EQ(p->check("under_score.corp.example").error().code, Errc::invalid_san);
  EXPECT_EQ(p->check("10.0.0.1").error().code, Errc::invalid_san);  // an IP is not a DNS name
  EXPECT_EQ(p->check("").error().code, Errc::invalid_san);
  EXPECT_FALSE(IdentifierPolicy::parse("ok.example, not a name"));
  EXPECT_TRUE(IdentifierPolicy::parse("")->empty());
}

TEST(AcmeNetworkPolicy, MatchesPrefixesAndAlwaysRefusesLinkLocalAndMulticast) {
  auto p = NetworkPolicy::parse("10.0.0.0/8, 192.168.1.0/25, 127.0.0.1, ::1/128, fd00::/8, 0.0.0.0/0");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_TRUE(allows(*p, "10.255.1.2"));
  EXPECT_TRUE(allows(*p, "192.168.1.127"));
  EXPECT_TRUE(allows(*p, "::1"));
  EXPECT_TRUE(allows(*p, "fd12::1"));
  EXPECT_TRUE(allows(*p, "::ffff:10.1.2.3"));  // IPv4-mapped: judged as IPv4
  // Whatever the CIDRs say (0.0.0.0/0 above): metadata, multicast, unspecified.
  EXPECT_FALSE(allows(*p, "169.254.169.254"));
  EXPECT_FALSE(allows(*p, "224.0.0.1"));
  EXPECT_FALSE(allows(*p, "255.255.255.255"));
  EXPECT_FALSE(allows(*p, "0.0.0.0"));
  EXPECT_FALSE(allows(*p, "fe80::1"));
  EXPECT_FALSE(allows(*p, "ff02::1"));
  EXPECT_FALSE(allows(*p, "::"));
  EXPECT_FALSE(allows(*p, "::ffff:169.254.169.254"));
  EXPECT_FALSE(allows(*p, "100.100.100.200"));       // a cloud metadata service inside 100.64/10
  EXPECT_FALSE(allows(*p, "fd00:ec2::254"));         // ... and one inside fc00::/7
  EXPECT_FALSE(allows(*p, "64:ff9b::a9fe:a9fe"));    // NAT64 of 169.254.169.254
  EXPECT_FALSE(allows(*p, "2002:a9fe:a9fe::1"));     // 6to4 of it
  EXPECT_FALSE(allows(*p, "::a9fe:a9fe"));           // IPv4-compatible form of it
  EXPECT_TRUE(allows(*p, "64:ff9b::a00:1"));         // NAT64 of 10.0.0.1: judged as 10.0.0.1

  auto narrow = NetworkPolicy::parse("192.168.1.0/25");
  ASSERT_TRUE(narrow);
  EXPECT_FALSE(allows(*narrow, "192.168.1.128"));
  EXPECT_FALSE(allows(*narrow, "127.0.0.1"));
  EXPECT_FALSE(allows(*narrow, "::1"));
  EXPECT_FALSE(allows(*narrow, "64:ff9b::7f00:1"));  // NAT64 of 127.0.0.1 is not in 192.168.1.0/25
  for (const char* bad : {"10.0.0.0/33", "::1/129", "10.0.0/8", "host.example", "10.0.0.0/", "10.0.0.0/x"})
    EXPECT_FALSE(NetworkPolicy::parse(bad)) << bad;
}

// A loopback HTTP server answering the well-known path with what a test sets.
class ChallengeServer {
 public:
  explicit ChallengeServer(std::function<http::Response(const http::Request&)> answer) {
    http::Router router;
    EXPECT_TRUE(router.get("/.well-known/acme-challenge/{token}", answer));
    EXPECT_TRUE(router.get("/central/{token}", answer));  // where a redirect test sends it
    m_server = cartorio::testing::start_loopback_server(std::move(router));
  }
  int port() const { return m_server->port(); }

 private:
  std::unique_ptr<http::Server> m_server;
};

NetworkValidator validator_for(int port, const char* networks = "127.0.0.0/8,::1/128") {
  NetworkValidatorOptions o;
  o.http01_port = port;
  o.timeout = std::chrono::seconds(5);
  o.networks = *NetworkPolicy::parse(networks);
  return NetworkValidator(std::move(o));
}

constexpr char kToken[] = "tok3n_-AbC";
constexpr char kKeyAuthorization[] = "tok3n_-AbC.thumbprint";

TEST(AcmeHttp01, TheKeyAuthorizationAtTheWellKnownPathValidates) {
  std::string asked;
  ChallengeServer server([&](const http::Request& req) {
    asked = req.target();
    return http::Response::text(std::string(kKeyAuthorization) + "\r\n");  // trailing whitespace is allowed
  });
  auto v = validator_for(server.port());
  const auto result = v.validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_TRUE(result.ok()) << result.failure.type << ": " << result.failure.detail;
  EXPECT_EQ(result.address, "127.0.0.1");
  EXPECT_EQ(asked, std::string("/.well-known/acme-challenge/") + kToken);
}

TEST(AcmeHttp01, RedirectsWithinThePolicyAreFollowed) {
  // RFC 8555 8.3: e.g. every path sent to a central responder; here another path and host name.
  ChallengeServer server([](const http::Request& req) {
    if (req.target() == std::string("/central/") + kToken) return http::Response::text(kKeyAuthorization);
    http::Response r(302);
    r.set_header("Location", "/central/" + std::string(req.param("token")));
    return r;
  });
  const auto result = validator_for(server.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_TRUE(result.ok()) << result.failure.type << ": " << result.failure.detail;
}

TEST(AcmeHttp01, WrongAnswersFailAsUnauthorized) {
  ChallengeServer wrong([](const http::Request&) { return http::Response::text("someone.else"); });
  auto result = validator_for(wrong.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "unauthorized") << result.failure.detail;

  ChallengeServer missing([](const http::Request&) { return http::Response::text("no", 404); });
  result = validator_for(missing.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "unauthorized");
  EXPECT_NE(result.failure.detail.find("404"), std::string::npos) << result.failure.detail;

  // A redirect to an address the policy refuses (cloud metadata) is not followed.
  ChallengeServer redirect([](const http::Request&) {
    http::Response r(302);
    r.set_header("Location", "http://169.254.169.254/latest/meta-data/");
    return r;
  });
  result = validator_for(redirect.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "unauthorized");
  EXPECT_NE(result.failure.detail.find("may not be reached"), std::string::npos) << result.failure.detail;
  // Nor one to another port, nor a loop.
  ChallengeServer other_port([](const http::Request&) {
    http::Response r(301);
    r.set_header("Location", "http://app.acme.localhost:6379/");
    return r;
  });
  result = validator_for(other_port.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "unauthorized");
  EXPECT_NE(result.failure.detail.find("only http(s)"), std::string::npos) << result.failure.detail;
  ChallengeServer loop([](const http::Request& req) {
    http::Response r(307);
    r.set_header("Location", std::string(req.target()));
    return r;
  });
  result = validator_for(loop.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "unauthorized");
  EXPECT_NE(result.failure.detail.find("too many redirects"), std::string::npos) << result.failure.detail;

  ChallengeServer huge([](const http::Request&) { return http::Response::text(std::string(64 * 1024, 'a')); });
  result = validator_for(huge.port()).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "incorrectResponse") << result.failure.detail;
}

TEST(AcmeHttp01, UnreachableOrForbiddenAddressesFail) {
  int closed_port = 0;
  {
    ChallengeServer gone([](const http::Request&) { return http::Response::text(""); });
    closed_port = gone.port();
  }
  auto result = validator_for(closed_port).validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "connection") << result.failure.detail;

  // Loopback is outside these networks: nothing is connected to at all.
  ChallengeServer server([](const http::Request&) { return http::Response::text(kKeyAuthorization); });
  result = validator_for(server.port(), "10.0.0.0/8").validate("http-01", "app.acme.localhost", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "rejectedIdentifier") << result.failure.detail;
  EXPECT_TRUE(result.address.empty());

  // A name that does not resolve.
  result = validator_for(server.port()).validate("http-01", "nothing.invalid", kToken, kKeyAuthorization);
  EXPECT_EQ(result.failure.type, "dns") << result.failure.detail;
}

}  // namespace

// --- tls-alpn-01 (RFC 8737) against a real TLS responder ---

namespace tls_alpn {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};

struct ResponderCert {
  std::vector<std::string> names = {"app.acme.localhost"};
  bool critical = true;
  std::string key_authorization = kKeyAuthorization;
  bool offer_alpn = true;
  bool hang_up = false;  // close the connection at once, before any TLS
};

// A self-signed certificate as RFC 8737 3 describes it (or spoilt as `spec` says).
cartorio::crypto::X509Ptr make_cert(EVP_PKEY* key, const ResponderCert& spec) {
  cartorio::crypto::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  std::string sans;
  for (const auto& n : spec.names) sans += (sans.empty() ? "DNS:" : ",DNS:") + n;
  cartorio::crypto::X509Ext san(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans.c_str()));
  X509_add_ext(cert.get(), san.get(), -1);
  const auto digest = cartorio::crypto::sha256(cartorio::crypto::as_bytes(spec.key_authorization));
  std::string der = {0x04, 0x20};
  der.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  cartorio::crypto::Asn1OctetString value(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>(der.data()), static_cast<int>(der.size()));
  cartorio::crypto::Asn1Object oid(OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
  cartorio::crypto::X509Ext ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), spec.critical ? 1 : 0, value.get()));
  X509_add_ext(cert.get(), ext.get(), -1);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

int select_acme_tls(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                    void*) {
  static const unsigned char ours[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, ours, sizeof ours, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// Serves one TLS handshake on a loopback port with the certificate `spec` describes.
class Responder {
 public:
  explicit Responder(const ResponderCert& spec) : m_hang_up(spec.hang_up) {
    auto key = cartorio::crypto::generate_key(cartorio::crypto::KeyAlgorithm::ec_p256);
    EXPECT_TRUE(key);
    m_key = std::move(*key);
    m_cert = make_cert(m_key.get(), spec);
    m_ctx.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(m_ctx.get(), m_cert.get());
    SSL_CTX_use_PrivateKey(m_ctx.get(), m_key.get());
    if (spec.offer_alpn) SSL_CTX_set_alpn_select_cb(m_ctx.get(), select_acme_tls, nullptr);
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(m_listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(m_listener, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    m_thread = std::thread([this] {
      // The validator hangs up once it has judged the certificate: our writes may hit a closed
      // socket (SIGPIPE, thread-directed, stays pending and dies with the thread).
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      const int fd = ::accept(m_listener, nullptr, nullptr);
      if (fd < 0) return;
      if (m_hang_up) {
        const linger reset{1, 0};  // RST: the validator's next write fails with EPIPE
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(fd);
        return;
      }
      std::unique_ptr<SSL, SslFree> ssl(SSL_new(m_ctx.get()));
      SSL_set_fd(ssl.get(), fd);
      if (SSL_accept(ssl.get()) == 1) SSL_shutdown(ssl.get());
      ::close(fd);
    });
  }
  ~Responder() {
    ::shutdown(m_listener, SHUT_RDWR);
    ::close(m_listener);
    m_thread.join();
  }
  int port() const { return m_port; }

 private:
  cartorio::crypto::PKey m_key;
  cartorio::crypto::X509Ptr m_cert;
  std::unique_ptr<SSL_CTX, SslCtxFree> m_ctx;
  bool m_hang_up = false;
  int m_listener = -1;
  int m_port = 0;
  std::thread m_thread;
};

cartorio::acme::ValidationResult validate(const ResponderCert& spec, const std::string& name = "app.acme.localhost") {
  Responder responder(spec);
  NetworkValidatorOptions o;
  o.tls_alpn01_port = responder.port();
  o.timeout = std::chrono::seconds(5);
  o.networks = *NetworkPolicy::parse("127.0.0.0/8");  // IPv4 only: the responder listens there
  NetworkValidator v(std::move(o));
  return v.validate("tls-alpn-01", name, kToken, kKeyAuthorization);
}

TEST(AcmeTlsAlpn01, TheAcmeIdentifierCertificateValidates_NamesCaseInsensitively) {
  auto result = validate({});
  EXPECT_TRUE(result.ok()) << result.failure.type << ": " << result.failure.detail;
  result = validate({{"App.ACME.localhost"}});
  EXPECT_TRUE(result.ok()) << result.failure.type << ": " << result.failure.detail;
}

TEST(AcmeTlsAlpn01, SpoiltCertificatesAndProtocolsFail) {
  ResponderCert two_names;
  two_names.names = {"app.acme.localhost", "other.acme.localhost"};
  auto result = validate(two_names);
  EXPECT_EQ(result.failure.type, "unauthorized") << result.failure.detail;

  ResponderCert not_critical;
  not_critical.critical = false;
  result = validate(not_critical);
  EXPECT_EQ(result.failure.type, "unauthorized") << result.failure.detail;
  EXPECT_NE(result.failure.detail.find("critical"), std::string::npos) << result.failure.detail;

  ResponderCert wrong_digest;
  wrong_digest.key_authorization = "someone.else";
  result = validate(wrong_digest);
  EXPECT_EQ(result.failure.type, "unauthorized") << result.failure.detail;

  // A peer that hangs up mid-handshake: a failure, not a SIGPIPE ending the process.
  ResponderCert rude;
  rude.hang_up = true;
  result = validate(rude);
  EXPECT_FALSE(result.ok());

  ResponderCert no_alpn;
  no_alpn.offer_alpn = false;
  result = validate(no_alpn);
  EXPECT_EQ(result.failure.type, "tls") << result.failure.detail;
}

}  // namespace tls_alpn
