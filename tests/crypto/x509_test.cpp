#include "crypto/x509.h"

#include "crypto/key_pair.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

namespace cartorio::crypto {
namespace {

using core::Errc;

EVP_PKEY* test_key() {
  static PKey key = [] {
    auto r = generate_key(KeyAlgorithm::ec_p256);
    return r ? std::move(r).value() : PKey();
  }();
  return key.get();
}

X509Name make_name(std::initializer_list<std::pair<const char*, const char*>> rdns) {
  X509Name n(X509_NAME_new());
  for (const auto& [field, value] : rdns)
    X509_NAME_add_entry_by_txt(n.get(), field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value), -1, -1, 0);
  return n;
}

// A minimal self-signed certificate made with OpenSSL directly (the builder under test lives in pki/).
X509Ptr make_cert(long serial, long long not_before, long long not_after, const char* cn = "x509 test") {
  X509Ptr c(X509_new());
  X509_set_version(c.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509Name n = make_name({{"C", "BR"}, {"O", "Cartório Digital"}, {"CN", cn}});
  X509_set_subject_name(c.get(), n.get());
  X509_set_issuer_name(c.get(), n.get());
  ASN1_TIME_set(X509_getm_notBefore(c.get()), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(c.get()), static_cast<time_t>(not_after));
  X509_set_pubkey(c.get(), test_key());
  X509_sign(c.get(), test_key(), EVP_sha256());
  return c;
}

struct X509PubkeyFree {
  void operator()(X509_PUBKEY* p) const { X509_PUBKEY_free(p); }
};
using X509PubkeyForTest = std::unique_ptr<X509_PUBKEY, X509PubkeyFree>;

X509Req make_csr() {
  X509Req r(X509_REQ_new());
  X509Name n = make_name({{"CN", "csr test"}});
  X509_REQ_set_subject_name(r.get(), n.get());
  X509_REQ_set_pubkey(r.get(), test_key());
  X509_REQ_sign(r.get(), test_key(), EVP_sha256());
  return r;
}

Bytes csr_der(const X509_REQ* r) {
  unsigned char* buf = nullptr;
  int len = i2d_X509_REQ(r, &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string csr_pem(X509_REQ* r) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), r);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(len)};
}

class X509Test : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(test_key(), nullptr); }
  X509Ptr cert = make_cert(0x1234, 1700000000, 1800000000);
};

// ---- parse_certificate -----------------------------------------------------------------------------

TEST_F(X509Test, ParsesCertificatePem) {
  const std::string pem = to_pem(cert.get());
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto r = parse_certificate(as_bytes(pem));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(X509_cmp(r->get(), cert.get()), 0);
}

TEST_F(X509Test, ParsesCertificateDer) {
  const Bytes der = to_der(cert.get());
  ASSERT_FALSE(der.empty());
  auto r = parse_certificate(der);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(to_der(r->get()), der);
}

TEST_F(X509Test, ParsesPemWithLeadingText) {
  const std::string pem = "subject=CN = x509 test\nissuer=CN = x509 test\n" + to_pem(cert.get());
  EXPECT_TRUE(parse_certificate(as_bytes(pem)));
}

TEST_F(X509Test, RejectsEmptyCertificate) {
  auto r = parse_certificate(ByteView{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed_input);
}

TEST_F(X509Test, RejectsGarbageCertificate) {
  for (const std::string& in : {std::string("hello world"), std::string(64, '\0'),
                                std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}) {
    auto r = parse_certificate(as_bytes(in));
    ASSERT_FALSE(r) << in;
    EXPECT_EQ(r.error().code, Errc::malformed_input);
    EXPECT_NE(r.error().message.find("certificate"), std::string::npos);
  }
}

TEST_F(X509Test, RejectsTruncatedCertificateDer) {
  Bytes der = to_der(cert.get());
  der.resize(der.size() - 1);
  auto r = parse_certificate(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed_input);
}

TEST_F(X509Test, RejectsCsrWhereCertificateExpected) {
  X509Req req = make_csr();
  EXPECT_FALSE(parse_certificate(as_bytes(csr_pem(req.get()))));
  EXPECT_FALSE(parse_certificate(csr_der(req.get())));
}

TEST_F(X509Test, RejectsCertificateDerWithTrailingBytes) {
  // parse_csr refuses trailing bytes; a certificate blob with appended data is no more a certificate.
  Bytes der = to_der(cert.get());
  der.push_back(0x00);
  der.push_back(0x42);
  auto r = parse_certificate(der);
  EXPECT_FALSE(r) << "regression: src/crypto/x509.cpp:37-40 parse_certificate accepts DER followed by trailing bytes "
                     "(parse_csr rejects the same input)";
  if (!r) {
    EXPECT_EQ(r.error().code, Errc::malformed_input);
  }
}

TEST_F(X509Test, ParsesChainInOrder) {
  X509Ptr second = make_cert(2, 1700000000, 1800000000, "second");
  const std::string pem = to_pem(cert.get()) + to_pem(second.get());
  auto r = parse_certificate_chain(pem);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(serial_hex((*r)[0].get()), "1234");
  EXPECT_EQ(serial_hex((*r)[1].get()), "2");
}

TEST_F(X509Test, RejectsChainWithoutCertificates) {
  for (const char* in : {"", "no pem here"}) {
    auto r = parse_certificate_chain(in);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::malformed_input);
  }
}

// ---- parse_csr --------------------------------------------------------------------------------------

TEST_F(X509Test, ParsesCsrPemAndDer) {
  X509Req req = make_csr();
  auto a = parse_csr(as_bytes(csr_pem(req.get())));
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = parse_csr(csr_der(req.get()));
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(csr_der(a->request.get()), csr_der(req.get()));
  EXPECT_EQ(csr_der(b->request.get()), csr_der(req.get()));
}

TEST_F(X509Test, RejectsEmptyAndGarbageCsr) {
  auto e = parse_csr(ByteView{});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::malformed_csr);
  for (const std::string& in :
       {std::string("garbage"), std::string(10, '\xff'),
        std::string("-----BEGIN CERTIFICATE REQUEST-----\nQUJD\n-----END CERTIFICATE REQUEST-----\n")}) {
    auto r = parse_csr(as_bytes(in));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::malformed_csr);
  }
}

TEST_F(X509Test, RejectsCertificateWhereCsrExpected) {
  auto r = parse_csr(as_bytes(to_pem(cert.get())));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed_csr);
}

TEST_F(X509Test, RejectsCsrDerWithTrailingBytes_NamingTheOffset) {
  X509Req req = make_csr();
  Bytes der = csr_der(req.get());
  const std::size_t len = der.size();
  der.push_back(0);
  auto r = parse_csr(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed_csr);
  EXPECT_NE(r.error().message.find("offset " + std::to_string(len)), std::string::npos) << r.error().message;
}

TEST_F(X509Test, RejectsTruncatedCsrDer) {
  X509Req req = make_csr();
  Bytes der = csr_der(req.get());
  der.resize(der.size() / 2);
  auto r = parse_csr(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed_csr);
}

// ---- serials -----------------------------------------------------------------------------------------

struct SerialCase {
  const char* in;
  const char* hex;  // expected serial_hex of the parsed value
};

class ParsesSerial : public ::testing::TestWithParam<SerialCase> {};

TEST_P(ParsesSerial, ToCanonicalHex) {
  auto r = serial_from_hex(GetParam().in);
  ASSERT_TRUE(r) << GetParam().in << ": " << r.error().to_string();
  EXPECT_EQ(serial_hex(r->get()), GetParam().hex);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParsesSerial,
    ::testing::Values(SerialCase{"1", "1"}, SerialCase{"01", "1"}, SerialCase{"0001", "1"}, SerialCase{"0", "0"},
                      SerialCase{"00", "0"}, SerialCase{"0x1A", "1a"}, SerialCase{"0X1a", "1a"},
                      SerialCase{"DEADBEEF", "deadbeef"}, SerialCase{"de:ad:be:ef", "deadbeef"},
                      SerialCase{"0x:de:AD", "dead"}, SerialCase{"7f", "7f"}, SerialCase{"80", "80"},
                      SerialCase{"0102030405060708090a0b0c0d0e0f1011121314", "102030405060708090a0b0c0d0e0f1011121314"},
                      SerialCase{"7fffffffffffffffffffffffffffffffffffffff", "7fffffffffffffffffffffffffffffffffffffff"}));

class RejectsSerial : public ::testing::TestWithParam<const char*> {};

TEST_P(RejectsSerial, WithInvalidSerial) {
  auto r = serial_from_hex(GetParam());
  ASSERT_FALSE(r) << "accepted \"" << GetParam() << "\"";
  EXPECT_EQ(r.error().code, Errc::invalid_serial);
}

INSTANTIATE_TEST_SUITE_P(Cases, RejectsSerial,
                         ::testing::Values("", "0x", ":", "::", "xyz", "12 34", "-1", "+1", "0x-1", "1g", "12\n",
                                           "0o17", "１２",  // full-width digits
                                           // 41 significant digits: 21 octets
                                           "10102030405060708090a0b0c0d0e0f1011121314"));

TEST(SerialFromHex, AcceptsLeadingZerosBeyondFortyDigits_WhenValueFitsTwentyOctets) {
  // Zero-padded input names the same serial; the 20-octet limit is about the value.
  const std::string padded = std::string(42, '0') + "01";
  auto r = serial_from_hex(padded);
  ASSERT_TRUE(r) << "regression: src/crypto/x509.cpp:141 serial_from_hex counts leading zeros against the 40-digit limit: "
                 << r.error().to_string();
  EXPECT_EQ(serial_hex(r->get()), "1");
}

TEST_F(X509Test, SerialHexOfCertificateHasNoLeadingZeros) {
  X509Ptr c = make_cert(0x00ff, 1700000000, 1800000000);
  EXPECT_EQ(serial_hex(c.get()), "ff");
  X509Ptr z = make_cert(0, 1700000000, 1800000000);
  EXPECT_EQ(serial_hex(z.get()), "0");
}

TEST(SerialHex, RoundTripsWithSerialFromHex) {
  for (const char* h : {"1", "abcdef", "4000000000000000000000000000000a", "ffffffffffffffffffffffffffffffffffffffff"}) {
    auto r = serial_from_hex(h);
    ASSERT_TRUE(r) << h;
    EXPECT_EQ(serial_hex(r->get()), h);
    EXPECT_FALSE(ASN1_STRING_type(r->get()) == V_ASN1_NEG_INTEGER) << h;
  }
}

// ---- names and times -------------------------------------------------------------------------------------

TEST_F(X509Test, NameToStringIsRfc2253WithUtf8) {
  EXPECT_EQ(name_to_string(X509_get_subject_name(cert.get())), "CN=x509 test,O=Cartório Digital,C=BR");
}

TEST_F(X509Test, NameToStringEscapesSpecials) {
  X509Name n = make_name({{"CN", "a,b+c"}});
  EXPECT_EQ(name_to_string(n.get()), "CN=a\\,b\\+c");
}

TEST_F(X509Test, Asn1TimeToUnixReadsUtcAndGeneralizedTime) {
  EXPECT_EQ(asn1_time_to_unix(X509_get0_notBefore(cert.get())), 1700000000);
  EXPECT_EQ(asn1_time_to_unix(X509_get0_notAfter(cert.get())), 1800000000);
  X509Ptr late = make_cert(3, 1700000000, 4102444800 /* 2100-01-01, GeneralizedTime */);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(late.get())), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(asn1_time_to_unix(X509_get0_notAfter(late.get())), 4102444800LL);
}

// ---- copy_public_key_info ----------------------------------------------------------------------

TEST_F(X509Test, CopiesACsrsPublicKeyInfoAsEncoded) {
  for (auto alg : {KeyAlgorithm::ec_p256, KeyAlgorithm::rsa2048}) {
    auto key = generate_key(alg);
    ASSERT_TRUE(key);
    X509Req req(X509_REQ_new());
    X509_REQ_set_pubkey(req.get(), key->get());
    X509_REQ_sign(req.get(), key->get(), EVP_sha256());
    X509Ptr c(X509_new());
    ASSERT_TRUE(copy_public_key_info(c.get(), X509_REQ_get_X509_PUBKEY(req.get())));
    // The certificate's SubjectPublicKeyInfo is the CSR's, byte for byte, and names the same
    // key once decoded (the copy itself decodes nothing, so X509_get0_pubkey on the object is
    // null until the certificate is encoded and parsed again).
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c.get()), &der);
    ASSERT_GT(len, 0);
    Bytes spki(der, der + len);
    OPENSSL_free(der);
    EXPECT_EQ(spki, *public_key_to_der(key->get()));
    const unsigned char* p = spki.data();
    PKey decoded(d2i_PUBKEY(nullptr, &p, len));
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(same_public_key(decoded.get(), key->get()));
  }
}

TEST_F(X509Test, CopyRefusesWhatIsNotTheKeysCanonicalEncoding) {
  X509Ptr c(X509_new());
  EXPECT_FALSE(copy_public_key_info(c.get(), nullptr));
  auto key = generate_key(KeyAlgorithm::rsa2048);
  ASSERT_TRUE(key);
  // A compressed EC point is re-encoded by X509_set_pubkey, as before.
  auto ec = generate_key(KeyAlgorithm::ec_p256);
  ASSERT_TRUE(ec);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(ec->get(), "point-format", "compressed"), 1);
  X509Req req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), ec->get());
  auto r = copy_public_key_info(c.get(), X509_REQ_get_X509_PUBKEY(req.get()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_supported);
  // An RSA key with junk after it (OpenSSL 3.0 parses it): refused, so it is re-encoded.
  auto der = public_key_to_der(key->get());
  ASSERT_TRUE(der);
  Bytes padded = *der;
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: grow the BIT STRING and both lengths by 2.
  ASSERT_EQ(padded[0], 0x30);
  ASSERT_EQ(padded[1], 0x82);
  const std::size_t outer = (std::size_t{padded[2]} << 8) | padded[3];
  padded[2] = static_cast<std::uint8_t>((outer + 2) >> 8);
  padded[3] = static_cast<std::uint8_t>((outer + 2) & 0xff);
  const std::size_t bit_string = 4 + 15;  // after the 15-byte rsaEncryption AlgorithmIdentifier
  ASSERT_EQ(padded[bit_string], 0x03);
  ASSERT_EQ(padded[bit_string + 1], 0x82);
  const std::size_t inner = (std::size_t{padded[bit_string + 2]} << 8) | padded[bit_string + 3];
  padded[bit_string + 2] = static_cast<std::uint8_t>((inner + 2) >> 8);
  padded[bit_string + 3] = static_cast<std::uint8_t>((inner + 2) & 0xff);
  padded.push_back(0);
  padded.push_back(0);
  const unsigned char* p = padded.data();
  X509PubkeyForTest lax(d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(padded.size())));
  if (lax) {  // this OpenSSL accepts it: the copy must not
    auto lax_copy = copy_public_key_info(c.get(), lax.get());
    ASSERT_FALSE(lax_copy);
    EXPECT_EQ(lax_copy.error().code, Errc::not_supported);
  }
  // A modulus written as a negative INTEGER (top bit set, no 0x00 pad): minimal DER that
  // OpenSSL's decoder reads as positive, so a copy would not be what X509_set_pubkey writes.
  X509PubkeyForTest negative(X509_PUBKEY_new());
  const unsigned char rsa_key[] = {0x30, 0x09, 0x02, 0x02, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01};
  auto* bits = static_cast<unsigned char*>(OPENSSL_memdup(rsa_key, sizeof rsa_key));
  ASSERT_EQ(X509_PUBKEY_set0_param(negative.get(), OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, nullptr, bits,
                                   static_cast<int>(sizeof rsa_key)),
            1);
  auto negative_copy = copy_public_key_info(c.get(), negative.get());
  ASSERT_FALSE(negative_copy);
  EXPECT_EQ(negative_copy.error().code, Errc::not_supported);
}

}  // namespace
}  // namespace cartorio::crypto
