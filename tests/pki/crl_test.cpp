#include "crl/crl_generator.h"

#include "crypto/x509.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "pki/certificate_builder.h"
#include "pki/pki_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

namespace cartorio::crl {
namespace {

using core::Errc;
using namespace cartorio::pki::test;

const core::TimePoint kThisUpdate = core::from_unix(1700000000);
const core::TimePoint kNextUpdate = core::from_unix(1700000000 + 48 * 3600);

crypto::X509Ptr make_ca(EVP_PKEY* k, const char* cn) {
  crypto::X509Name name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Cartorio"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  pki::CertificateSpec spec;
  spec.subject = name.get();
  spec.public_key = k;
  spec.not_before = core::from_unix(1600000000);
  spec.not_after = core::from_unix(1900000000);
  spec.extensions = {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign,cRLSign"}};
  auto r = pki::build_certificate(spec, pki::random_serial().get(), k);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(r).value() : crypto::X509Ptr();
}

std::string hex_of(const ASN1_OCTET_STRING* s) {
  return s ? crypto::to_hex(crypto::ByteView(ASN1_STRING_get0_data(s), static_cast<std::size_t>(ASN1_STRING_length(s))))
           : "";
}

// Reason code of an entry, -1 when the extension is absent.
int reason_of(X509_REVOKED* r) {
  int crit = 0;
  auto* e = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, nullptr));
  if (!e) return -1;
  long v = ASN1_ENUMERATED_get(e);
  ASN1_ENUMERATED_free(e);
  return static_cast<int>(v);
}

class BuildCrl : public ::testing::Test {
 protected:
  void SetUp() override {
    ca = make_ca(key(TestKey::p256), "Cartorio TLS CA");
    ASSERT_TRUE(ca);
  }
  core::Result<crypto::X509Crl> build(std::vector<store::RevokedEntry> revoked, std::int64_t number = 7,
                                      EVP_PKEY* k = nullptr, const X509* cert = nullptr) {
    CrlContents c;
    c.number = number;
    c.this_update = kThisUpdate;
    c.next_update = kNextUpdate;
    c.revoked = std::move(revoked);
    return build_crl(cert ? cert : ca.get(), k ? k : key(TestKey::p256), c);
  }
  crypto::X509Ptr ca;
};

TEST_F(BuildCrl, IsVersion2WithNumberAkiAndTimes) {
  auto r = build({});
  ASSERT_TRUE(r) << r.error().to_string();
  X509_CRL* crl = r->get();
  EXPECT_EQ(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca.get())), 0);
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl)), 1700000000);
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl)), 1700000000 + 48 * 3600);

  int crit = -1;
  auto* number = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, nullptr));
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(number), 7);
  EXPECT_EQ(crit, 0);  // RFC 5280 5.2.3: non-critical
  ASN1_INTEGER_free(number);

  auto* akid = static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, nullptr));
  ASSERT_NE(akid, nullptr);
  EXPECT_EQ(hex_of(akid->keyid), hex_of(X509_get0_subject_key_id(ca.get())));
  EXPECT_FALSE(hex_of(akid->keyid).empty());
  AUTHORITY_KEYID_free(akid);

  EXPECT_EQ(X509_CRL_verify(crl, key(TestKey::p256)), 1);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  EXPECT_TRUE(revoked == nullptr || sk_X509_REVOKED_num(revoked) == 0);
}

TEST_F(BuildCrl, ListsEntriesSortedWithReasonCodesExceptUnspecified) {
  auto r = build({{"0a", 1700000300, 1},   // keyCompromise
                  {"ff00", 1700000100, 0},  // unspecified: no extension
                  {"01", 1700000200, 4},   // superseded
                  {"7f", 1700000400, 5}});  // cessationOfOperation
  ASSERT_TRUE(r) << r.error().to_string();
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(r->get());
  ASSERT_NE(revoked, nullptr);
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 4);
  std::vector<std::string> serials;
  std::vector<int> reasons;
  std::vector<long long> dates;
  for (int i = 0; i < 4; ++i) {
    X509_REVOKED* e = sk_X509_REVOKED_value(revoked, i);
    serials.push_back(crypto::serial_hex(X509_REVOKED_get0_serialNumber(e)));
    reasons.push_back(reason_of(e));
    dates.push_back(crypto::asn1_time_to_unix(X509_REVOKED_get0_revocationDate(e)));
  }
  EXPECT_EQ(serials, (std::vector<std::string>{"1", "a", "7f", "ff00"}));
  EXPECT_EQ(reasons, (std::vector<int>{4, 1, 5, -1}));
  EXPECT_EQ(dates, (std::vector<long long>{1700000200, 1700000300, 1700000400, 1700000100}));
  EXPECT_EQ(X509_CRL_verify(r->get(), key(TestKey::p256)), 1);
}

TEST_F(BuildCrl, KeepsEveryValidReasonCode) {
  std::vector<store::RevokedEntry> entries;
  for (int reason : {1, 2, 3, 4, 5, 6, 8, 9, 10}) entries.push_back({std::to_string(reason * 11), 1700000000, reason});
  auto r = build(entries);
  ASSERT_TRUE(r) << r.error().to_string();
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(r->get());
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 9);
  for (int i = 0; i < 9; ++i) {
    X509_REVOKED* e = sk_X509_REVOKED_value(revoked, i);
    const std::string serial = crypto::serial_hex(X509_REVOKED_get0_serialNumber(e));
    EXPECT_EQ(reason_of(e) * 11, std::stoi(serial, nullptr, 10)) << serial;
  }
}

TEST_F(BuildCrl, RejectsReasonCodesRfc5280DoesNotDefine) {
  // 7 is unused in RFC 5280 5.3.1; anything outside 0..10 is not a CRLReason.
  for (int reason : {7, 11, -1}) {
    auto r = build({{"01", 1700000000, reason}});
    ASSERT_FALSE(r) << "regression: src/crl/crl_generator.cpp:34 build_crl encodes reason code " << reason
                    << " into the CRL without checking it";
    EXPECT_EQ(r.error().code, Errc::invalid_reason);
  }
}

TEST_F(BuildCrl, FailsWithInvalidSerial_ForABadEntrySerial) {
  auto r = build({{"01", 1700000000, 1}, {"not-hex", 1700000000, 1}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_serial);
}

TEST_F(BuildCrl, EncodesLargeCrlNumbers) {
  auto r = build({}, std::int64_t{1} << 40);
  ASSERT_TRUE(r) << r.error().to_string();
  auto* number = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(r->get(), NID_crl_number, nullptr, nullptr));
  ASSERT_NE(number, nullptr);
  int64_t v = 0;
  ASSERT_EQ(ASN1_INTEGER_get_int64(&v, number), 1);
  EXPECT_EQ(v, std::int64_t{1} << 40);
  ASN1_INTEGER_free(number);
}

TEST_F(BuildCrl, SignsWithSha384ForAP384Ca) {
  crypto::X509Ptr ca384 = make_ca(key(TestKey::p384), "P-384 CA");
  ASSERT_TRUE(ca384);
  auto r = build({{"02", 1700000000, 1}}, 1, key(TestKey::p384), ca384.get());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(X509_CRL_verify(r->get(), key(TestKey::p384)), 1);
  EXPECT_EQ(X509_CRL_get_signature_nid(r->get()), NID_ecdsa_with_SHA384);
}

TEST_F(BuildCrl, SignsWithAnRsaCa) {
  crypto::X509Ptr rsa_ca = make_ca(key(TestKey::rsa2048), "RSA CA");
  ASSERT_TRUE(rsa_ca);
  auto r = build({{"02", 1700000000, 1}}, 1, key(TestKey::rsa2048), rsa_ca.get());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(X509_CRL_verify(r->get(), key(TestKey::rsa2048)), 1);
  EXPECT_NE(X509_CRL_verify(r->get(), key(TestKey::p256)), 1);
}

TEST_F(BuildCrl, RoundTripsThroughDerAndPem) {
  auto r = build({{"0abc", 1700000000, 1}});
  ASSERT_TRUE(r);
  const crypto::Bytes der = crypto::crl_to_der(r->get());
  auto from_der = crypto::parse_crl(der);
  ASSERT_TRUE(from_der) << from_der.error().to_string();
  EXPECT_EQ(crypto::crl_to_der(from_der->get()), der);
  const std::string pem = crypto::crl_to_pem(r->get());
  EXPECT_EQ(pem.rfind("-----BEGIN X509 CRL-----", 0), 0u);
  auto from_pem = crypto::parse_crl(crypto::as_bytes(pem));
  ASSERT_TRUE(from_pem);
  EXPECT_EQ(crypto::crl_to_der(from_pem->get()), der);
  EXPECT_EQ(X509_CRL_verify(from_der->get(), key(TestKey::p256)), 1);
}

TEST_F(BuildCrl, VerifiesInOpenSslPathValidationWithCrlCheck) {
  // Issue a leaf, revoke it in the CRL, and ask OpenSSL to validate with CRL checking.
  crypto::X509Name leaf_name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(leaf_name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("leaf"), -1, -1, 0);
  pki::CertificateSpec spec;
  spec.subject = leaf_name.get();
  spec.public_key = key(TestKey::p384);
  spec.issuer = ca.get();
  spec.not_before = core::from_unix(1690000000);
  spec.not_after = core::from_unix(1800000000);
  auto leaf = pki::build_certificate(spec, pki::random_serial().get(), key(TestKey::p256));
  ASSERT_TRUE(leaf);
  auto check = [&](const std::vector<store::RevokedEntry>& revoked) {
    auto crl = build(revoked);
    EXPECT_TRUE(crl);
    crypto::X509Store store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca.get());
    X509_STORE_add_crl(store.get(), crl->get());
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
    crypto::X509StoreCtx ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf->get(), nullptr);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), 1700000000 + 3600);
    X509_verify_cert(ctx.get());
    return X509_STORE_CTX_get_error(ctx.get());
  };
  EXPECT_EQ(check({}), X509_V_OK);
  EXPECT_EQ(check({{crypto::serial_hex(leaf->get()), 1700000000, 1}}), X509_V_ERR_CERT_REVOKED);
}

// ---- CrlGenerator and publishing ---------------------------------------------------------------------

class FakeRevocations : public store::RevocationLister {
 public:
  core::Result<std::vector<store::RevokedEntry>> list_revoked(const std::string& issuer,
                                                              std::int64_t not_after_min) override {
    asked_issuer = issuer;
    asked_not_after_min = not_after_min;
    return entries;
  }
  core::Result<std::int64_t> next_crl_number(const std::string&) override { return ++number; }
  std::vector<store::RevokedEntry> entries;
  std::int64_t number = 41;
  std::string asked_issuer;
  std::int64_t asked_not_after_min = 0;
};

TEST_F(BuildCrl, GeneratorUsesClockValidityAndNextNumber) {
  FakeRevocations revs;
  revs.entries = {{"05", 1700000000, 1}};
  core::ManualClock clock(core::from_unix(1710000000));
  CrlGenerator gen(revs, clock, std::chrono::hours(36));
  auto r = gen.generate("tls", ca.get(), key(TestKey::p256));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(revs.asked_issuer, "tls");
  EXPECT_EQ(revs.asked_not_after_min, 1710000000);
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_CRL_get0_lastUpdate(r->get())), 1710000000);
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_CRL_get0_nextUpdate(r->get())), 1710000000 + 36 * 3600);
  auto* n = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(r->get(), NID_crl_number, nullptr, nullptr));
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(n), 42);
  ASN1_INTEGER_free(n);
  auto again = gen.generate("tls", ca.get(), key(TestKey::p256));
  ASSERT_TRUE(again);
  n = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(again->get(), NID_crl_number, nullptr, nullptr));
  EXPECT_EQ(ASN1_INTEGER_get(n), 43);
  ASN1_INTEGER_free(n);
}

TEST_F(BuildCrl, PublishPutsTheDerInTheObjectStore) {
  cartorio::testing::TempDir tmp;
  core::ManualClock clock{kThisUpdate};
  auto objects = objectstore::FilesystemObjectStore::open({.root = tmp / "objects"}, clock);
  ASSERT_TRUE(objects) << objects.error().to_string();
  auto crl = build({{"01", 1700000000, 1}});
  ASSERT_TRUE(crl);
  EXPECT_EQ(crl_key("tls"), "crl/tls.crl");
  auto r = publish_crl(**objects, "tls", crl->get());
  ASSERT_TRUE(r) << r.error().to_string();
  auto stored = (*objects)->get(crl_key("tls"));
  ASSERT_TRUE(stored) << stored.error().to_string();
  EXPECT_EQ(crypto::Bytes(stored->data.begin(), stored->data.end()), crypto::crl_to_der(crl->get()));
  EXPECT_EQ(stored->info.content_type, "application/pkix-crl");
  // A second publication replaces the first.
  auto next = build({{"01", 1700000000, 1}, {"02", 1700000001, 4}});
  ASSERT_TRUE(next);
  ASSERT_TRUE(publish_crl(**objects, "tls", next->get()));
  stored = (*objects)->get(crl_key("tls"));
  ASSERT_TRUE(stored);
  EXPECT_EQ(crypto::Bytes(stored->data.begin(), stored->data.end()), crypto::crl_to_der(next->get()));
}

}  // namespace
}  // namespace cartorio::crl
