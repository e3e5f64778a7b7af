#include "pki/certificate_builder.h"

#include "crypto/x509.h"
#include "pki/pki_test_support.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <set>
#include <string>

namespace cartorio::pki {
namespace {

using core::Errc;
using namespace cartorio::pki::test;

const core::TimePoint kNotBefore = core::from_unix(1700000000);  // 2023-11-14
const core::TimePoint kNotAfter = core::from_unix(1700000000 + 90 * 86400);

crypto::X509Name make_name(std::vector<std::pair<const char*, const char*>> rdns) {
  crypto::X509Name n(X509_NAME_new());
  for (const auto& [f, v] : rdns)
    X509_NAME_add_entry_by_txt(n.get(), f, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v), -1, -1, 0);
  return n;
}

std::string ski_hex(const X509* c) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(c));
  return ski ? crypto::to_hex(crypto::ByteView(ASN1_STRING_get0_data(ski), static_cast<std::size_t>(ASN1_STRING_length(ski))))
             : "";
}

std::string aki_hex(const X509* c) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(const_cast<X509*>(c));
  return aki ? crypto::to_hex(crypto::ByteView(ASN1_STRING_get0_data(aki), static_cast<std::size_t>(ASN1_STRING_length(aki))))
             : "";
}

bool has_ext(const X509* c, int nid, int* critical = nullptr) {
  int loc = X509_get_ext_by_NID(c, nid, -1);
  if (loc < 0) return false;
  if (critical) *critical = X509_EXTENSION_get_critical(X509_get_ext(c, loc));
  return true;
}

crypto::X509Ptr self_signed(EVP_PKEY* k, const X509_NAME* subject,
                            std::vector<std::pair<int, std::string>> exts = {{NID_basic_constraints, "critical,CA:TRUE"},
                                                                            {NID_key_usage, "critical,keyCertSign,cRLSign"}},
                            std::vector<SubjectAltName> sans = {}) {
  CertificateSpec spec;
  spec.subject = subject;
  spec.public_key = k;
  spec.not_before = kNotBefore;
  spec.not_after = kNotAfter;
  spec.extensions = std::move(exts);
  spec.sans = std::move(sans);
  crypto::Asn1Integer serial = random_serial();
  auto r = build_certificate(spec, serial.get(), k);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(r).value() : crypto::X509Ptr();
}

// ---- random_serial -------------------------------------------------------------------------------------

TEST(RandomSerial, IsPositiveSixteenOctetsWithFixedTopBits) {
  for (int i = 0; i < 200; ++i) {
    crypto::Asn1Integer s = random_serial();
    ASSERT_TRUE(s);
    EXPECT_EQ(ASN1_STRING_type(s.get()), V_ASN1_INTEGER) << "negative serial";
    ASSERT_EQ(ASN1_STRING_length(s.get()), 16);
    const unsigned char first = ASN1_STRING_get0_data(s.get())[0];
    EXPECT_EQ(first & 0xc0, 0x40);  // positive, never shorter than 16 octets
    crypto::Bignum bn(ASN1_INTEGER_to_BN(s.get(), nullptr));
    EXPECT_EQ(BN_num_bytes(bn.get()), 16);
    EXPECT_FALSE(BN_is_negative(bn.get()));
    EXPECT_EQ(crypto::serial_hex(s.get()).size(), 32u);
  }
}

TEST(RandomSerial, IsDistinctAcrossCalls) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(crypto::serial_hex(random_serial().get()));
  EXPECT_EQ(seen.size(), 1000u);
}

// ---- self-signed ---------------------------------------------------------------------------------------------

class SelfSigned : public ::testing::TestWithParam<TestKey> {};

TEST_P(SelfSigned, VerifiesAndHasSkiEqualToAki) {
  EVP_PKEY* k = key(GetParam());
  auto subject = make_name({{"C", "BR"}, {"O", "Cartorio Digital"}, {"CN", "Cartorio Digital Root CA"}});
  crypto::X509Ptr c = self_signed(k, subject.get());
  ASSERT_TRUE(c);
  EXPECT_EQ(X509_verify(c.get(), k), 1);
  EXPECT_EQ(X509_get_version(c.get()), X509_VERSION_3);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(c.get()), subject.get()), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.get()), subject.get()), 0);
  const std::string ski = ski_hex(c.get());
  EXPECT_EQ(ski.size(), 40u) << "SKI should be the 160-bit key hash";
  EXPECT_EQ(aki_hex(c.get()), ski);
  EXPECT_EQ(X509_check_issued(c.get(), c.get()), X509_V_OK);
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_get0_notBefore(c.get())), core::to_unix(kNotBefore));
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_get0_notAfter(c.get())), core::to_unix(kNotAfter));
  int crit = 0;
  ASSERT_TRUE(has_ext(c.get(), NID_basic_constraints, &crit));
  EXPECT_EQ(crit, 1);
  EXPECT_TRUE(X509_check_ca(c.get()));
  ASSERT_TRUE(has_ext(c.get(), NID_key_usage, &crit));
  EXPECT_EQ(crit, 1);
  EXPECT_EQ(X509_get_key_usage(c.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_TRUE(has_ext(c.get(), NID_subject_key_identifier));
  EXPECT_TRUE(has_ext(c.get(), NID_authority_key_identifier));
}

TEST_P(SelfSigned, SignsWithTheDigestForTheKey) {
  EVP_PKEY* k = key(GetParam());
  auto subject = make_name({{"CN", "digest"}});
  crypto::X509Ptr c = self_signed(k, subject.get());
  ASSERT_TRUE(c);
  int md = 0, pk = 0;
  ASSERT_EQ(X509_get_signature_info(c.get(), &md, &pk, nullptr, nullptr), 1);
  EXPECT_EQ(md, GetParam() == TestKey::p384 ? NID_sha384 : NID_sha256);
}

INSTANTIATE_TEST_SUITE_P(Keys, SelfSigned, ::testing::Values(TestKey::rsa2048, TestKey::p256, TestKey::p384));

TEST(BuildCertificate, KeepsTheGivenSerial) {
  auto subject = make_name({{"CN", "s"}});
  CertificateSpec spec;
  spec.subject = subject.get();
  spec.public_key = key(TestKey::p256);
  spec.not_before = kNotBefore;
  spec.not_after = kNotAfter;
  auto serial = crypto::serial_from_hex("4bad1dea0000000000000000000000ff");
  ASSERT_TRUE(serial);
  auto c = build_certificate(spec, serial->get(), key(TestKey::p256));
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(crypto::serial_hex(c->get()), "4bad1dea0000000000000000000000ff");
}

TEST(BuildCertificate, UsesGeneralizedTimeFrom2050) {
  auto subject = make_name({{"CN", "long"}});
  CertificateSpec spec;
  spec.subject = subject.get();
  spec.public_key = key(TestKey::p256);
  spec.not_before = core::from_unix(2524608000);  // 2050-01-01
  spec.not_after = core::from_unix(2556144000);   // 2051-01-01
  auto c = build_certificate(spec, random_serial().get(), key(TestKey::p256));
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notBefore(c->get())), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(crypto::asn1_time_to_unix(X509_get0_notAfter(c->get())), 2556144000LL);
  auto early = self_signed(key(TestKey::p256), subject.get());
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notBefore(early.get())), V_ASN1_UTCTIME);  // RFC 5280 4.1.2.5
}

// ---- issued by a CA ----------------------------------------------------------------------------------------------

class Issued : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_name = make_name({{"C", "BR"}, {"O", "Cartorio Digital"}, {"CN", "Cartorio TLS CA"}});
    ca = self_signed(key(TestKey::p384), ca_name.get());
    ASSERT_TRUE(ca);
  }
  core::Result<crypto::X509Ptr> issue(const X509_NAME* subject, std::vector<SubjectAltName> sans,
                                      std::vector<std::pair<int, std::string>> exts = {}) {
    CertificateSpec spec;
    spec.subject = subject;
    spec.public_key = key(TestKey::p256);
    spec.issuer = ca.get();
    spec.not_before = kNotBefore;
    spec.not_after = kNotAfter;
    spec.extensions = std::move(exts);
    spec.sans = std::move(sans);
    return build_certificate(spec, random_serial().get(), key(TestKey::p384));
  }
  crypto::X509Name ca_name;
  crypto::X509Ptr ca;
};

TEST_F(Issued, ChainsToTheIssuer) {
  auto subject = make_name({{"CN", "www.example.com"}});
  auto leaf = issue(subject.get(), {{SanKind::dns, "www.example.com"}},
                    {{NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_key_usage, "critical,digitalSignature"},
                     {NID_ext_key_usage, "serverAuth"}});
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  EXPECT_EQ(X509_verify(leaf->get(), key(TestKey::p384)), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf->get()), ca_name.get()), 0);
  EXPECT_EQ(aki_hex(leaf->get()), ski_hex(ca.get()));
  EXPECT_NE(ski_hex(leaf->get()), ski_hex(ca.get()));
  EXPECT_EQ(X509_check_issued(ca.get(), leaf->get()), X509_V_OK);

  // A full path validation with OpenSSL at a time inside the validity window.
  crypto::X509Store store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  crypto::X509StoreCtx ctx(X509_STORE_CTX_new());
  ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), leaf->get(), nullptr), 1);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), core::to_unix(kNotBefore) + 3600);
  X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx.get()), X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  EXPECT_EQ(X509_get_extended_key_usage(leaf->get()), static_cast<uint32_t>(XKU_SSL_SERVER));
}

TEST_F(Issued, EncodesEverySanKind) {
  auto subject = make_name({{"CN", "multi"}});
  auto leaf = issue(subject.get(), {{SanKind::dns, "a.example.com"},
                                    {SanKind::ip, "192.0.2.1"},
                                    {SanKind::ip, "2001:db8::1"},
                                    {SanKind::email, "ops@example.com"},
                                    {SanKind::uri, "https://example.com/id"}});
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  int critical = -1;
  const auto sans = sans_of(leaf->get(), &critical);
  const std::vector<Gn> want = {dns("a.example.com"), ip("192.0.2.1"), ip("2001:db8::1"), email("ops@example.com"),
                                uri("https://example.com/id")};
  EXPECT_EQ(sans, want);
  EXPECT_EQ(critical, 0) << "SAN must not be critical when the subject is not empty";
  EXPECT_EQ(X509_check_host(leaf->get(), "a.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf->get(), "2001:db8::1", 0), 1);
  EXPECT_EQ(X509_check_email(leaf->get(), "ops@example.com", 0, 0), 1);
}

TEST_F(Issued, MarksSanCritical_WhenSubjectIsEmpty) {
  crypto::X509Name empty(X509_NAME_new());
  auto leaf = issue(empty.get(), {{SanKind::dns, "only-san.example.com"}});
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  int critical = -1;
  const auto sans = sans_of(leaf->get(), &critical);
  ASSERT_EQ(sans.size(), 1u);
  EXPECT_EQ(critical, 1);
}

TEST_F(Issued, HasNoSanExtension_WhenNoSans) {
  auto subject = make_name({{"CN", "TSA"}});
  auto leaf = issue(subject.get(), {});
  ASSERT_TRUE(leaf);
  EXPECT_FALSE(has_ext(leaf->get(), NID_subject_alt_name));
}

TEST_F(Issued, AddsRequestedExtensions) {
  auto subject = make_name({{"CN", "OCSP responder"}});
  auto leaf = issue(subject.get(), {},
                    {{NID_ext_key_usage, "critical,OCSPSigning"},
                     {NID_id_pkix_OCSP_noCheck, "ignored"},
                     {NID_crl_distribution_points, "URI:http://pki.example.com/crl/tls.crl"},
                     {NID_info_access, "caIssuers;URI:http://pki.example.com/ca/tls.cer"}});
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  int crit = 0;
  ASSERT_TRUE(has_ext(leaf->get(), NID_ext_key_usage, &crit));
  EXPECT_EQ(crit, 1);
  EXPECT_EQ(X509_get_extended_key_usage(leaf->get()), static_cast<uint32_t>(XKU_OCSP_SIGN));
  EXPECT_TRUE(has_ext(leaf->get(), NID_id_pkix_OCSP_noCheck));
  EXPECT_TRUE(has_ext(leaf->get(), NID_crl_distribution_points));
  EXPECT_TRUE(has_ext(leaf->get(), NID_info_access));
}

TEST_F(Issued, FailsWithCryptoError_ForABadExtensionValue) {
  auto subject = make_name({{"CN", "x"}});
  auto r = issue(subject.get(), {}, {{NID_key_usage, "notAKeyUsage"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::crypto_error);
  EXPECT_NE(r.error().message.find("keyUsage"), std::string::npos) << r.error().message;
}

TEST_F(Issued, FailsForAnIpSanThatIsNotAnAddress) {
  auto subject = make_name({{"CN", "x"}});
  auto r = issue(subject.get(), {{SanKind::ip, "not-an-ip"}});
  if (r) {
    const auto sans = sans_of(r->get());
    ADD_FAILURE() << "regression: src/pki/certificate_builder.cpp:42-45 add_sans ignores the inet_pton failure and encodes an "
                     "iPAddress of "
                  << (sans.empty() ? 0 : sans[0].value.size()) << " bytes instead of failing";
    return;
  }
  EXPECT_NE(r.error().code, Errc::internal);
}

TEST_F(Issued, FailsWithKeyBackend_WhenSigningKeyCannotSign) {
  // A public-only key cannot sign: the error is the signer's, not an assembly error.
  auto pub_der = crypto::public_key_to_der(key(TestKey::p384));
  ASSERT_TRUE(pub_der);
  auto pub = crypto::public_key_from_der(*pub_der);
  ASSERT_TRUE(pub);
  auto subject = make_name({{"CN", "x"}});
  CertificateSpec spec;
  spec.subject = subject.get();
  spec.public_key = key(TestKey::p256);
  spec.issuer = ca.get();
  spec.not_before = kNotBefore;
  spec.not_after = kNotAfter;
  auto r = build_certificate(spec, random_serial().get(), pub->get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::key_backend);
}

TEST_F(Issued, BuildsFromAValidatedCsr) {
  CsrSpec cs;
  cs.key = key(TestKey::rsa2048);
  cs.subject = {{"C", "BR"}, {"CN", "api.example.com"}, {"emailAddress", "dropped@example.com"}};
  cs.sans = {dns("api.example.com"), ip("198.51.100.4")};
  auto v = validate_csr(csr_der(cs), **find_profile("tls-server"));
  ASSERT_TRUE(v) << v.error().to_string();
  CertificateSpec spec;
  spec.subject = v->subject.get();
  spec.public_key = v->public_key.get();
  spec.issuer = ca.get();
  spec.not_before = kNotBefore;
  spec.not_after = kNotAfter;
  spec.sans = v->sans;
  auto leaf = build_certificate(spec, random_serial().get(), key(TestKey::p384));
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  EXPECT_TRUE(crypto::same_public_key(X509_get0_pubkey(leaf->get()), key(TestKey::rsa2048)));
  EXPECT_EQ(crypto::name_to_string(X509_get_subject_name(leaf->get())), "CN=api.example.com,C=BR");
  EXPECT_EQ(sans_of(leaf->get()), (std::vector<Gn>{dns("api.example.com"), ip("198.51.100.4")}));
}

}  // namespace
}  // namespace cartorio::pki
