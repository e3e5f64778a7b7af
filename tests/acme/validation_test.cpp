// What the ACME server may issue for and where its validations may connect (acme/policy.h),
// and http-01 validation (acme/validation.h) against real loopback HTTP servers: the right
// answer passes; a wrong answer, a 404, a redirect, an oversized body, a closed port and an
// address outside acme.validation_networks each fail with their ACME error type.
#include "acme/policy.h"
#include "acme/validation.h"
#include "http/server.h"
#include "support/loopback_http.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <memory>

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
