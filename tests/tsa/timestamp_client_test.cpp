// The clients documents are time-stamped through: TimestampRequest (the query and the one
// reply check), LocalTimestampClient (the own TSA in process) and HttpTimestampClient against
// the real HTTP server with the real POST /tsa route (plain HTTP and HTTPS), plus routes that
// answer wrongly on purpose; and the route itself through the router.
#include "api/tsa_routes.h"
#include "http/server.h"
#include "pki/certificate_issuer.h"
#include "tsa/http_timestamp_client.h"
#include "tsa/local_timestamp_client.h"
#include "tsa/timestamp_request.h"
#include "tsa_test_support.h"

#include "core/files.h"
#include "crypto/key_pair.h"
#include "crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace cartorio::tsa {
namespace {

using test::parse_reply;
using test::status_of;

core::TimePoint now_seconds() { return core::from_unix(core::to_unix(std::chrono::system_clock::now())); }

class TimestampClientTest : public test::TsaFixture {
 protected:
  void SetUp() override {
    // Real time: curl and the token verification check validity against the system clock.
    m_clock.set(now_seconds());
    test::TsaFixture::SetUp();
  }

  std::shared_ptr<const TimeStampAuthority> shared_tsa() {
    return std::shared_ptr<const TimeStampAuthority>(std::shared_ptr<void>(), m_tsa.get());  // not owning
  }

  // OpenSSL's verifier over a bare token and the time-stamped data: signature chaining to
  // the root with the CA certificates as untrusted, the TSA certificate's purpose, version,
  // the imprint recomputed from `data`, the TSA name against the signer.
  void expect_token_verifies(const std::string& token_der, std::string_view data) {
    const auto* p = reinterpret_cast<const unsigned char*>(token_der.data());
    crypto::Pkcs7 token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
    ASSERT_TRUE(token) << "not a ContentInfo";
    EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(token_der.data()) + token_der.size());
    crypto::TsVerifyCtx ctx(TS_VERIFY_CTX_new());
    ASSERT_TRUE(ctx);
    TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_DATA | TS_VFY_SIGNER);
    TS_VERIFY_CTX_set_data(ctx.get(), BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));  // owned by ctx
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, cert(pki::kRoot));
    TS_VERIFY_CTX_set_store(ctx.get(), store);  // owned by ctx
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    X509_up_ref(cert(pki::kDocumentCa));
    sk_X509_push(untrusted, cert(pki::kDocumentCa));
    TS_VERIFY_CTX_set_certs(ctx.get(), untrusted);  // owned by ctx
    EXPECT_EQ(TS_RESP_verify_token(ctx.get(), token.get()), 1) << crypto::openssl_errors();
  }

  static crypto::Bytes sha256_of(std::string_view data) { return test::digest_of(EVP_sha256(), data); }
};

// ---- TimestampRequest -------------------------------------------------------------------

TEST_F(TimestampClientTest, RequestIsVersion1WithNonceCertReqAndNoPolicy) {
  const auto digest = sha256_of("document");
  auto q = TimestampRequest::create(EVP_sha256(), digest);
  ASSERT_OK(q);
  const auto* p = reinterpret_cast<const unsigned char*>(q->der().data());
  crypto::TsReq req(d2i_TS_REQ(nullptr, &p, static_cast<long>(q->der().size())));
  ASSERT_TRUE(req);
  EXPECT_EQ(TS_REQ_get_version(req.get()), 1);
  EXPECT_EQ(TS_REQ_get_cert_req(req.get()), 1);
  EXPECT_NE(TS_REQ_get_nonce(req.get()), nullptr);
  EXPECT_EQ(TS_REQ_get_policy_id(req.get()), nullptr);
  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(req.get());
  EXPECT_EQ(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(imprint)->algorithm), NID_sha256);
  EXPECT_EQ(TS_MSG_IMPRINT_get_algo(imprint)->parameter, nullptr) << "parameters absent (RFC 5754)";
  // Two requests never share a nonce.
  auto again = TimestampRequest::create(EVP_sha256(), digest);
  ASSERT_OK(again);
  EXPECT_NE(q->der(), again->der());
}

TEST_F(TimestampClientTest, Request_RejectsOtherDigestsAndWrongLengths) {
  EXPECT_ERRC(TimestampRequest::create(EVP_sha1(), test::digest_of(EVP_sha1(), "x")), core::Errc::invalid_argument);
  EXPECT_ERRC(TimestampRequest::create(EVP_sha384(), sha256_of("x")), core::Errc::invalid_argument);
  EXPECT_ERRC(TimestampRequest::create(nullptr, sha256_of("x")), core::Errc::invalid_argument);
}

TEST_F(TimestampClientTest, CheckReply_RefusesAReplyToAnotherRequest) {
  auto mine = TimestampRequest::create(EVP_sha256(), sha256_of("mine"));
  auto other_digest = TimestampRequest::create(EVP_sha256(), sha256_of("theirs"));
  auto same_digest = TimestampRequest::create(EVP_sha256(), sha256_of("mine"));  // another nonce
  ASSERT_OK(mine);
  ASSERT_OK(other_digest);
  ASSERT_OK(same_digest);
  auto reply = m_tsa->respond(crypto::as_bytes(other_digest->der()));
  ASSERT_OK(reply);
  EXPECT_ERRC(mine->check_reply(crypto::as_bytes(*reply)), core::Errc::tsa_error);
  reply = m_tsa->respond(crypto::as_bytes(same_digest->der()));
  ASSERT_OK(reply);
  EXPECT_ERRC(mine->check_reply(crypto::as_bytes(*reply)), core::Errc::tsa_error);
  reply = m_tsa->respond(crypto::as_bytes(mine->der()));
  ASSERT_OK(reply);
  EXPECT_TRUE(mine->check_reply(crypto::as_bytes(*reply)));
}

TEST_F(TimestampClientTest, CheckReply_RefusesGarbageAndNamesTheTsasRefusal) {
  auto q = TimestampRequest::create(EVP_sha256(), sha256_of("x"));
  ASSERT_OK(q);
  EXPECT_ERRC(q->check_reply({}), core::Errc::tsa_error);
  EXPECT_ERRC(q->check_reply(crypto::as_bytes("<html>oops</html>")), core::Errc::tsa_error);
  auto rejection = m_tsa->respond(crypto::as_bytes("garbage"));
  ASSERT_OK(rejection);
  auto r = q->check_reply(crypto::as_bytes(*rejection));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::tsa_error);
  testing::expect_contains(r.error().message, "rejection (badDataFormat)");
  // A reply followed by junk is not a DER TimeStampResp.
  auto good = m_tsa->respond(crypto::as_bytes(q->der()));
  ASSERT_OK(good);
  EXPECT_ERRC(q->check_reply(crypto::as_bytes(*good + "x")), core::Errc::tsa_error);
}

// ---- LocalTimestampClient -----------------------------------------------------------------

TEST_F(TimestampClientTest, LocalClientTokenVerifiesWithOpenSsl) {
  LocalTimestampClient client(*m_tsa);
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
    SCOPED_TRACE(EVP_MD_get0_name(md));
    auto token = client.timestamp(md, test::digest_of(md, "the signed PDF's signature value"));
    ASSERT_OK(token);
    expect_token_verifies(*token, "the signed PDF's signature value");
  }
  const auto uses = m_keys->uses();
  ASSERT_EQ(uses.size(), 3u);
  EXPECT_EQ(uses[0].actor, "documents");
  EXPECT_EQ(uses[0].purpose, "sign-timestamp");
}

TEST_F(TimestampClientTest, LocalClient_KeyStoreDownIsUnavailable) {
  LocalTimestampClient client(*m_tsa, "user:alice");
  m_keys->fail = true;
  auto token = client.timestamp(EVP_sha256(), sha256_of("x"));
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_unavailable) << token.error().to_string();
  testing::expect_contains(token.error().message, "systemFailure");
  EXPECT_EQ(m_keys->uses().at(0).actor, "user:alice");
}

TEST_F(TimestampClientTest, LocalClient_RefusesSha1) {
  LocalTimestampClient client(*m_tsa);
  EXPECT_ERRC(client.timestamp(EVP_sha1(), test::digest_of(EVP_sha1(), "x")), core::Errc::invalid_argument);
}

// ---- POST /tsa through the router -----------------------------------------------------------

TEST_F(TimestampClientTest, Route_AnswersTimestampReplyAndRefusesOtherMediaTypesAndBigBodies) {
  http::Router router;
  ASSERT_OK(api::add_tsa_routes(router, shared_tsa()));
  auto post = [&](std::string content_type, std::string body) {
    auto req = http::Request::create("POST", "/tsa");
    EXPECT_TRUE(req);
    if (!content_type.empty()) req->headers().set("Content-Type", std::move(content_type));
    req->set_body(std::move(body));
    return router.dispatch(*req);
  };
  auto q = TimestampRequest::create(EVP_sha256(), sha256_of("x"));
  ASSERT_OK(q);
  auto ok = post("application/timestamp-query", q->der());
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.header("Content-Type").value_or(""), "application/timestamp-reply");
  EXPECT_TRUE(q->check_reply(crypto::as_bytes(ok.body())));
  // Media types are case-insensitive and may carry parameters.
  EXPECT_EQ(post("Application/TimeStamp-Query; charset=binary", q->der()).status(), 200);

  auto garbage = post("application/timestamp-query", "garbage");
  EXPECT_EQ(garbage.status(), 200) << "a refusal is an RFC 3161 answer";
  auto r = parse_reply(garbage.body());
  EXPECT_EQ(status_of(r.get()), TS_STATUS_REJECTION);
  EXPECT_EQ(test::failures_of(r.get()), std::vector<int>{TS_INFO_BAD_DATA_FORMAT});

  auto wrong_type = post("application/octet-stream", q->der());
  EXPECT_EQ(wrong_type.status(), 415);
  testing::expect_contains(wrong_type.body(), "tsa.unsupported_media_type");
  EXPECT_EQ(post("", q->der()).status(), 415);

  auto big = post("application/timestamp-query", std::string(api::kMaxTimestampRequestBytes + 1, '\x30'));
  EXPECT_EQ(big.status(), 413);
  testing::expect_contains(big.body(), "tsa.request_too_large");

  auto get = http::Request::create("GET", "/tsa");
  ASSERT_TRUE(get);
  EXPECT_EQ(router.dispatch(*get).status(), 405);
}

// ---- HttpTimestampClient against the real server --------------------------------------------

class HttpTimestampClientTest : public TimestampClientTest {
 protected:
  void SetUp() override {
    TimestampClientTest::SetUp();
    if (HasFatalFailure()) return;
    m_other = TimestampRequest::create(EVP_sha256(), sha256_of("somebody else's document")).value();
  }

  void TearDown() override {
    if (m_server) m_server->stop();
  }

  // The real route at /tsa, and routes that answer wrongly on purpose.
  http::Router router() {
    http::Router r;
    EXPECT_TRUE(api::add_tsa_routes(r, shared_tsa()));
    auto* tsa = m_tsa.get();
    auto* other = &*m_other;
    bool ok = true;
    ok &= r.post("/wrong-type", [tsa](const http::Request& req) {
      return http::Response::bytes("application/octet-stream", tsa->respond(crypto::as_bytes(req.body())).value());
    }).has_value();
    ok &= r.post("/other-request", [tsa, other](const http::Request&) {
      return http::Response::bytes("application/timestamp-reply", tsa->respond(crypto::as_bytes(other->der())).value());
    }).has_value();
    ok &= r.post("/huge", [](const http::Request&) {
      return http::Response::bytes("application/timestamp-reply", std::string(100 * 1024, '\x30'));
    }).has_value();
    ok &= r.post("/down", [](const http::Request&) {
      return http::Response::problem(503, "unavailable", "Unavailable", "maintenance");
    }).has_value();
    ok &= r.post("/slow", [tsa](const http::Request& req) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      return http::Response::bytes("application/timestamp-reply", tsa->respond(crypto::as_bytes(req.body())).value());
    }).has_value();
    EXPECT_TRUE(ok);
    return r;
  }

  std::string start(std::optional<http::TlsOptions> tls = std::nullopt) {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.tls = std::move(tls);
    m_server = std::make_unique<http::Server>(o, router());
    auto started = m_server->start();
    EXPECT_TRUE(started) << started.error().to_string();
    return std::string(o.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(m_server->port());
  }

  core::Result<std::string> timestamp_at(const std::string& url, std::string ca_file = "",
                                         std::chrono::seconds timeout = std::chrono::seconds(10)) {
    auto client = HttpTimestampClient::create({.url = url, .timeout = timeout, .ca_file = std::move(ca_file)});
    if (!client) return client.error();
    return (*client)->timestamp(EVP_sha256(), sha256_of("the document"));
  }

  // A TLS server identity from the fixture's TLS CA, for 127.0.0.1.
  http::TlsOptions tls_options() {
    auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256).value();
    crypto::X509Name subject(X509_NAME_new());
    X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("127.0.0.1"),
                               -1, -1, 0);
    pki::CertificateIssuer issuer(*m_hierarchy, *m_software, *m_store, m_clock, pki::make_urls("http://pki.test.example"));
    pki::CertificateIssuer::KeyedRequest req;
    req.profile = "tls-server";
    req.issuer = pki::kTlsCa;
    req.subject = subject.get();
    req.public_key = key.get();
    req.requester = "test";
    req.sans = {{pki::SanKind::ip, "127.0.0.1"}};
    auto issued = issuer.issue_for_key(req);
    EXPECT_TRUE(issued) << issued.error().to_string();
    http::TlsOptions tls;
    tls.identity = http::TlsIdentity::from_pem(issued->record.pem + issued->chain_pem, std::move(key)).value();
    return tls;
  }

  std::optional<TimestampRequest> m_other;
  std::unique_ptr<http::Server> m_server;
};

TEST_F(HttpTimestampClientTest, GrantedTokenOverPlainHttpVerifies) {
  const auto base = start();
  auto token = timestamp_at(base + "/tsa");
  ASSERT_OK(token);
  expect_token_verifies(*token, "the document");
}

TEST_F(HttpTimestampClientTest, HttpsWithTheRootAsTrustAnchorVerifies) {
  const auto base = start(tls_options());
  const auto root_pem = m_dir / "root.pem";
  testing::write_file(root_pem, crypto::to_pem(cert(pki::kRoot)));
  auto token = timestamp_at(base + "/tsa", root_pem.string());
  ASSERT_OK(token);
  expect_token_verifies(*token, "the document");
}

TEST_F(HttpTimestampClientTest, HttpsWithAnUntrustedCertificateIsRefused) {
  const auto base = start(tls_options());
  // The system trust store does not know this installation's root.
  auto token = timestamp_at(base + "/tsa");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_error) << token.error().to_string();
}

TEST_F(HttpTimestampClientTest, ReplyToAnotherRequestIsATsaError) {
  const auto base = start();
  auto token = timestamp_at(base + "/other-request");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_error) << token.error().to_string();
  testing::expect_contains(token.error().message, "does not answer this request");
}

TEST_F(HttpTimestampClientTest, WrongMediaTypeIsATsaError) {
  const auto base = start();
  auto token = timestamp_at(base + "/wrong-type");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_error);
  testing::expect_contains(token.error().message, "application/octet-stream");
}

TEST_F(HttpTimestampClientTest, ReplyOverTheSizeLimitIsATsaError) {
  const auto base = start();
  auto token = timestamp_at(base + "/huge");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_error);
  testing::expect_contains(token.error().message, "larger than 65536 bytes");
}

TEST_F(HttpTimestampClientTest, HttpStatusesAreChecked) {
  const auto base = start();
  auto down = timestamp_at(base + "/down");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, core::Errc::tsa_unavailable) << "503: try again later";
  auto missing = timestamp_at(base + "/no-such-route");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::Errc::tsa_error);
  testing::expect_contains(missing.error().message, "HTTP 404");
}

TEST_F(HttpTimestampClientTest, UnreachableTsaIsUnavailable) {
  // A port nobody listens on: bound, then closed.
  core::UniqueFd socket(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_GE(socket.get(), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  socket.close();
  auto token = timestamp_at("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/tsa");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_unavailable) << token.error().to_string();
  EXPECT_ERRC(timestamp_at("http://no-such-host.invalid/tsa"), core::Errc::tsa_unavailable);
}

TEST_F(HttpTimestampClientTest, SlowTsaTimesOutAsUnavailable) {
  const auto base = start();
  const auto t0 = std::chrono::steady_clock::now();
  auto token = timestamp_at(base + "/slow", "", std::chrono::seconds(1));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, core::Errc::tsa_unavailable) << token.error().to_string();
  EXPECT_LT(elapsed, std::chrono::milliseconds(2400)) << "the timeout was not applied";
}

TEST_F(HttpTimestampClientTest, CreateRefusesBadOptions) {
  EXPECT_ERRC(HttpTimestampClient::create({.url = "ftp://tsa.example/"}), core::Errc::config_invalid);
  EXPECT_ERRC(HttpTimestampClient::create({.url = "http://tsa.example/", .timeout = std::chrono::seconds(0)}),
              core::Errc::config_invalid);
}

TEST_F(HttpTimestampClientTest, MakeTimestampClientFollowsTsaUrl) {
  const auto base = start();
  core::Config config;
  auto local = make_timestamp_client(config, m_tsa.get());
  ASSERT_OK(local);
  EXPECT_NE(dynamic_cast<LocalTimestampClient*>(local->get()), nullptr);
  ASSERT_OK((*local)->timestamp(EVP_sha256(), sha256_of("x")));
  EXPECT_ERRC(make_timestamp_client(config, nullptr), core::Errc::tsa_unavailable);

  config.tsa.url = base + "/tsa";
  auto remote = make_timestamp_client(config, nullptr);
  ASSERT_OK(remote);
  EXPECT_NE(dynamic_cast<HttpTimestampClient*>(remote->get()), nullptr);
  auto token = (*remote)->timestamp(EVP_sha256(), sha256_of("the document"));
  ASSERT_OK(token);
  expect_token_verifies(*token, "the document");
}

}  // namespace
}  // namespace cartorio::tsa
