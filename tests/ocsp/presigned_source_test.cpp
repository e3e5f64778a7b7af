// Root responses: pre-signed with the offline root key, served from files.
#include "ocsp/presigned_source.h"

#include "ocsp/root_presigner.h"
#include "ocsp_test_support.h"

namespace cartorio::ocsp {
namespace {

using test::make_request;

class PresignedSourceTest : public test::OcspFixture {
 protected:
  std::string dir() const { return (m_dir / "ocsp" / "root").string(); }
  PresignedSource source() { return PresignedSource(crypto::X509Ptr(X509_dup(ca("root"))), dir(), m_clock); }
  const ASN1_INTEGER* serial(const char* name) { return X509_get0_serialNumber(ca(name)); }
};

TEST_F(PresignedSourceTest, IntermediatesAreGoodOrRevokedAndVerifyAgainstTheRoot) {
  ASSERT_TRUE(m_store->revoke_certificate(crypto::serial_hex(ca("document")), 5, 1'700'000'000));
  auto n = presign_root_to_dir(ca("root"), m_root_key.get(), *m_store, m_clock, dir());
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 2u);  // tls and document; not the root itself

  auto src = source();
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    auto res = src.respond(make_request({{ca("root"), serial("tls")}}, md));
    ASSERT_EQ(res.status, ResponseStatus::successful);
    auto bs = test::basic_of(res.der);
    auto st = test::status_of(bs.get(), ca("root"), serial("tls"), md);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->status, V_OCSP_CERTSTATUS_GOOD);
    EXPECT_EQ(st->next_update - st->this_update, 30LL * 86400);
    crypto::X509Store trust(X509_STORE_new());
    X509_STORE_add_cert(trust.get(), ca("root"));
    EXPECT_EQ(OCSP_basic_verify(bs.get(), nullptr, trust.get(), 0), 1) << crypto::openssl_errors();
  }
  auto res = src.respond(make_request({{ca("root"), serial("document")}}));
  auto st = test::status_of(test::basic_of(res.der).get(), ca("root"), serial("document"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(st->reason, 5);
  EXPECT_EQ(st->revoked_at, 1'700'000'000);
}

TEST_F(PresignedSourceTest, WhatCannotBeAnsweredWithoutTheKey) {
  ASSERT_TRUE(presign_root_to_dir(ca("root"), m_root_key.get(), *m_store, m_clock, dir(), std::chrono::hours(1)));
  auto src = source();
  crypto::Asn1Integer n(ASN1_INTEGER_new());
  ASN1_INTEGER_set(n.get(), 0x1234);
  // No pre-signed response for the serial: unauthorized (RFC 5019 2.2.3).
  EXPECT_EQ(src.respond(make_request({{ca("root"), n.get()}})).status, ResponseStatus::unauthorized);
  // Another issuer.
  EXPECT_EQ(src.respond(make_request({{ca("tls"), serial("tls")}})).status, ResponseStatus::unauthorized);
  // One CertID per request (RFC 5019 2.1.1).
  EXPECT_EQ(src.respond(make_request({{ca("root"), serial("tls")}, {ca("root"), serial("document")}})).status,
            ResponseStatus::malformed_request);
  EXPECT_EQ(src.respond(crypto::Bytes{1, 2, 3}).status, ResponseStatus::malformed_request);
  // Expired: tryLater until the next ceremony.
  m_clock.advance(std::chrono::hours(1) + std::chrono::seconds(1));
  auto res = src.respond(make_request({{ca("root"), serial("tls")}}));
  EXPECT_EQ(res.status, ResponseStatus::try_later);
  EXPECT_EQ(test::response_status(res.der), OCSP_RESPONSE_STATUS_TRYLATER);
}

TEST_F(PresignedSourceTest, NoFilesYetAndWrongKey) {
  auto src = source();
  EXPECT_EQ(src.respond(make_request({{ca("root"), serial("tls")}})).status, ResponseStatus::unauthorized);
  auto other = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  ASSERT_TRUE(other);
  auto r = presign_root_responses(ca("root"), other->get(), *m_store, m_clock);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::permission_denied);
}

}  // namespace
}  // namespace cartorio::ocsp
