// OcspResponder: live answers from the store, signed by the delegated responder.
#include "ocsp/ocsp_responder.h"

#include "ocsp/ocsp_sources.h"
#include "ocsp_test_support.h"

namespace cartorio::ocsp {
namespace {

using test::make_request;
using test::Query;

class OcspResponderTest : public test::OcspFixture {
 protected:
  void SetUp() override {
    test::OcspFixture::SetUp();
    if (HasFatalFailure()) return;
    m_responder = make_responder(*m_store);
  }

  std::unique_ptr<OcspResponder> make_responder(store::CertificateRepository& certs, ResponderOptions o = {}) {
    auto r = OcspResponder::create(*m_hierarchy, "tls", certs, *m_keys, m_clock, o);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? std::move(*r) : nullptr;
  }

  // The response verifies against the root, with the TLS CA as the only extra certificate.
  void expect_verifies(OCSP_BASICRESP* bs) {
    crypto::X509Store trust(X509_STORE_new());
    X509_STORE_add_cert(trust.get(), ca("root"));
    crypto::X509Stack untrusted(sk_X509_new_null());
    X509_up_ref(ca("tls"));
    sk_X509_push(untrusted.get(), ca("tls"));
    EXPECT_EQ(OCSP_basic_verify(bs, untrusted.get(), trust.get(), 0), 1) << crypto::openssl_errors();
  }

  std::unique_ptr<OcspResponder> m_responder;
};

const ASN1_INTEGER* serial(const X509* c) { return X509_get0_serialNumber(c); }

TEST_F(OcspResponderTest, GoodVerifiesWithDelegatedResponderAndKeyHashId) {
  auto cert = issue("good.cartorio.test");
  auto res = m_responder->respond(make_request({{ca("tls"), serial(cert.get())}}));
  ASSERT_EQ(res.status, ResponseStatus::successful);
  ASSERT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_SUCCESSFUL);
  auto bs = test::basic_of(res.der);
  auto st = test::status_of(bs.get(), ca("tls"), serial(cert.get()));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, V_OCSP_CERTSTATUS_GOOD);
  expect_verifies(bs.get());
  // Signed by ocsp-tls, whose certificate travels in the response.
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(bs.get());
  ASSERT_EQ(sk_X509_num(certs), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 0), (*m_hierarchy->get("ocsp-tls"))->cert.get()), 0);
  const ASN1_OCTET_STRING* key_hash = nullptr;
  const X509_NAME* name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(bs.get(), &key_hash, &name), 1);
  EXPECT_NE(key_hash, nullptr);
  EXPECT_EQ(name, nullptr);
  EXPECT_TRUE(res.cacheable);
}

TEST_F(OcspResponderTest, RevokedCarriesTimeAndReasonUnspecifiedOmitted) {
  auto a = issue("a.cartorio.test");
  auto b = issue("b.cartorio.test");
  ASSERT_TRUE(m_store->revoke_certificate(crypto::serial_hex(a.get()), 1, 1'700'000'000));
  ASSERT_TRUE(m_store->revoke_certificate(crypto::serial_hex(b.get()), 0, 1'700'000'100));
  auto res = m_responder->respond(make_request({{ca("tls"), serial(a.get())}, {ca("tls"), serial(b.get())}}));
  ASSERT_EQ(res.status, ResponseStatus::successful);
  auto bs = test::basic_of(res.der);
  auto sa = test::status_of(bs.get(), ca("tls"), serial(a.get()));
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(sa->reason, 1);  // keyCompromise
  EXPECT_EQ(sa->revoked_at, 1'700'000'000);
  auto sb = test::status_of(bs.get(), ca("tls"), serial(b.get()));
  ASSERT_TRUE(sb);
  EXPECT_EQ(sb->status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(sb->reason, OCSP_REVOKED_STATUS_NOSTATUS);
  expect_verifies(bs.get());
}

TEST_F(OcspResponderTest, UnknownSerialAndOtherCasCertificates) {
  crypto::Asn1Integer n(ASN1_INTEGER_new());
  ASN1_INTEGER_set(n.get(), 0x1234);
  // The document CA was issued by the root: not one of the TLS CA's certificates.
  auto res = m_responder->respond(make_request({{ca("tls"), n.get()}, {ca("tls"), serial(ca("document"))}}));
  ASSERT_EQ(res.status, ResponseStatus::successful);
  auto bs = test::basic_of(res.der);
  EXPECT_EQ(test::status_of(bs.get(), ca("tls"), n.get())->status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(test::status_of(bs.get(), ca("tls"), serial(ca("document")))->status, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(OcspResponderTest, SeveralCertIdsAreAllAnswered) {
  auto a = issue("one.cartorio.test");
  auto b = issue("two.cartorio.test");
  auto c = issue("three.cartorio.test");
  ASSERT_TRUE(m_store->revoke_certificate(crypto::serial_hex(b.get()), 4, 1'700'000'000));
  auto res = m_responder->respond(
      make_request({{ca("tls"), serial(a.get())}, {ca("tls"), serial(b.get())}, {ca("tls"), serial(c.get())}}));
  auto bs = test::basic_of(res.der);
  EXPECT_EQ(OCSP_resp_count(bs.get()), 3);
  EXPECT_EQ(test::status_of(bs.get(), ca("tls"), serial(a.get()))->status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(test::status_of(bs.get(), ca("tls"), serial(b.get()))->status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(test::status_of(bs.get(), ca("tls"), serial(c.get()))->status, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspResponderTest, Sha256CertId) {
  auto cert = issue("sha256.cartorio.test");
  auto res = m_responder->respond(make_request({{ca("tls"), serial(cert.get())}}, EVP_sha256()));
  ASSERT_EQ(res.status, ResponseStatus::successful);
  auto bs = test::basic_of(res.der);
  auto st = test::status_of(bs.get(), ca("tls"), serial(cert.get()), EVP_sha256());
  ASSERT_TRUE(st) << "the response must carry the request's SHA-256 CertID";
  EXPECT_EQ(st->status, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspResponderTest, NonceIsEchoedAndMakesTheResponseUncacheable) {
  auto cert = issue("nonce.cartorio.test");
  crypto::OcspRequest req;
  auto der = make_request({{ca("tls"), serial(cert.get())}}, EVP_sha1(), true, &req);
  auto res = m_responder->respond(der);
  ASSERT_EQ(res.status, ResponseStatus::successful);
  auto bs = test::basic_of(res.der);
  EXPECT_EQ(OCSP_check_nonce(req.get(), bs.get()), 1);
  EXPECT_FALSE(res.cacheable);
}

TEST_F(OcspResponderTest, ForeignIssuerMakesTheWholeResponseUnauthorized) {
  auto cert = issue("mine.cartorio.test");
  crypto::Asn1Integer n(ASN1_INTEGER_new());
  ASN1_INTEGER_set(n.get(), 7);
  auto res = m_responder->respond(make_request({{ca("tls"), serial(cert.get())}, {ca("document"), n.get()}}));
  EXPECT_EQ(res.status, ResponseStatus::unauthorized);
  EXPECT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  res = m_responder->respond(make_request({{ca("root"), serial(ca("tls"))}}));
  EXPECT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
}

TEST_F(OcspResponderTest, GarbageIsMalformedRequest) {
  auto cert = issue("x.cartorio.test");
  auto good = make_request({{ca("tls"), serial(cert.get())}});
  const std::string garbage = "not an OCSP request";
  auto trailing = good;
  trailing.push_back(0);
  crypto::Bytes truncated(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
  for (const crypto::Bytes& bad : {crypto::Bytes(garbage.begin(), garbage.end()), crypto::Bytes{}, trailing,
                                   truncated, make_request({})}) {
    auto res = m_responder->respond(bad);
    EXPECT_EQ(res.status, ResponseStatus::malformed_request);
    EXPECT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
}

TEST_F(OcspResponderTest, ThisUpdateIsNowAndNextUpdateNowPlusValidity) {
  auto cert = issue("time.cartorio.test");
  m_clock.advance(std::chrono::minutes(10));
  const long long t0 = core::to_unix(m_clock.now());
  auto res = m_responder->respond(make_request({{ca("tls"), serial(cert.get())}}));
  auto st = test::status_of(test::basic_of(res.der).get(), ca("tls"), serial(cert.get()));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->this_update, t0);
  EXPECT_EQ(st->next_update, t0 + 3600);  // default validity: one hour
  EXPECT_EQ(core::to_unix(*res.this_update), t0);
  EXPECT_EQ(core::to_unix(*res.next_update), t0 + 3600);

  auto short_lived = make_responder(*m_store, ResponderOptions{.validity = std::chrono::minutes(5)});
  m_clock.advance(std::chrono::seconds(42));
  res = short_lived->respond(make_request({{ca("tls"), serial(cert.get())}}));
  st = test::status_of(test::basic_of(res.der).get(), ca("tls"), serial(cert.get()));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->this_update, t0 + 42);
  EXPECT_EQ(st->next_update, t0 + 42 + 300);
}

// A repository whose reads fail as a down database does.
class FailingRepository final : public store::CertificateRepository {
 public:
  explicit FailingRepository(core::Errc code) : m_code(code) {}
  core::Result<void> insert_certificate(const store::CertificateRecord&, const std::vector<store::AuditEvent>&) override {
    return fail();
  }
  core::Result<store::CertificateRecord> get_certificate(const std::string&) override { return fail(); }
  core::Result<std::vector<store::CertificateRecord>> list_certificates(const store::CertificateFilter&) override {
    return fail();
  }
  core::Result<std::int64_t> count_certificates() override { return fail(); }
  core::Result<void> revoke_certificate(const std::string&, int, std::int64_t) override { return fail(); }

 private:
  core::Error fail() const { return {m_code, "simulated store failure"}; }
  core::Errc m_code;
};

TEST_F(OcspResponderTest, StoreFailuresBecomeTryLaterOrInternalError) {
  auto cert = issue("down.cartorio.test");
  FailingRepository unavailable(core::Errc::store_unavailable);
  auto res = make_responder(unavailable)->respond(make_request({{ca("tls"), serial(cert.get())}}));
  EXPECT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_TRYLATER);
  FailingRepository broken(core::Errc::store_error);
  res = make_responder(broken)->respond(make_request({{ca("tls"), serial(cert.get())}}));
  EXPECT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_INTERNALERROR);
}

TEST_F(OcspResponderTest, DefaultSourcesServeEachCa) {
  auto sources = make_default_sources(*m_hierarchy, *m_store, *m_keys, m_clock, (m_dir / "ocsp-root").string());
  ASSERT_TRUE(sources) << sources.error().to_string();
  EXPECT_EQ(sources->size(), 3u);
  EXPECT_FALSE(OcspResponder::create(*m_hierarchy, "root", *m_store, *m_keys, m_clock));
}

}  // namespace
}  // namespace cartorio::ocsp
