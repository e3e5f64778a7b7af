// parse_csr (crypto/csr.cpp) against OpenSSL's own reading of the same bytes: the request it
// returns encodes to what d2i_X509_REQ reads, its key is the same key, and it verifies. The
// canonical RSA and P-256/P-384 requests take the path without OpenSSL's key decoder (their
// X509_PUBKEY then holds no EVP_PKEY); everything else — other key types, compressed points,
// BER, trailing bytes — is read by d2i_X509_REQ, with OpenSSL's verdict.
#include "crypto/key_pair.h"
#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <string>
#include <utility>

namespace cartorio::crypto {
namespace {

using core::Errc;

PKey make_key(const char* type, const char* param = nullptr) {
  PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* k = nullptr;
  EXPECT_EQ(EVP_PKEY_keygen_init(ctx.get()), 1);
  if (param && std::string(type) == "EC") EVP_PKEY_CTX_set_group_name(ctx.get(), param);
  if (param && std::string(type) != "EC") EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), std::stoi(param));
  EXPECT_EQ(EVP_PKEY_generate(ctx.get(), &k), 1);
  return PKey(k);
}

Bytes der_of(const X509_REQ* r) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509_REQ(r, &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string pem_of(ByteView der, const char* label = "CERTIFICATE REQUEST") {
  const std::string b64 = to_base64(der);
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

// A request signed by `key`, with a subject, a SAN extension request and, if asked, a
// challengePassword attribute.
Bytes make_request(EVP_PKEY* key, bool extra_attribute = false, const EVP_MD* md = EVP_sha256()) {
  X509Req r(X509_REQ_new());
  auto name = make_name({{"C", "BR"}, {"O", "Cartorio"}, {"CN", "csr.example.test"}});
  EXPECT_TRUE(name);
  X509_REQ_set_subject_name(r.get(), name->get());
  EXPECT_EQ(X509_REQ_set_pubkey(r.get(), key), 1);
  X509Ext san(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, "DNS:csr.example.test,IP:10.0.0.1"));
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, san.get());
  EXPECT_EQ(X509_REQ_add_extensions(r.get(), exts), 1);
  sk_X509_EXTENSION_free(exts);
  if (extra_attribute) {
    EXPECT_EQ(X509_REQ_add1_attr_by_NID(r.get(), NID_pkcs9_challengePassword, MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("s3cret"), -1),
              1);
  }
  EXPECT_GT(X509_REQ_sign(r.get(), key, md), 0);
  return der_of(r.get());
}

struct OpenSslReading {
  X509Req request;
  EVP_PKEY* key = nullptr;  // owned by request
};
OpenSslReading openssl_reads(ByteView der) {
  const unsigned char* p = der.data();
  OpenSslReading o{X509Req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())))};
  if (o.request) o.key = X509_REQ_get0_pubkey(o.request.get());
  ERR_clear_error();
  return o;
}

// parse_csr read `der` (or its PEM) as OpenSSL does; true when it took the decoder-free path.
bool expect_same_as_openssl(ByteView input, ByteView der) {
  auto ours = parse_csr(input);
  EXPECT_TRUE(ours) << ours.error().to_string();
  if (!ours) return false;
  auto theirs = openssl_reads(der);
  EXPECT_TRUE(theirs.request && theirs.key);
  if (!theirs.request || !theirs.key) return false;
  EXPECT_EQ(der_of(ours->request.get()), der_of(theirs.request.get()));
  EXPECT_TRUE(ours->public_key);
  EXPECT_TRUE(same_public_key(ours->public_key.get(), theirs.key));
  const auto a = describe_key(ours->public_key.get()), b = describe_key(theirs.key);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.bits, b.bits);
  EXPECT_EQ(a.curve, b.curve);
  EXPECT_EQ(X509_REQ_verify(ours->request.get(), ours->public_key.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_REQ_get_subject_name(ours->request.get()), X509_REQ_get_subject_name(theirs.request.get())), 0);
  const bool fast = X509_REQ_get0_pubkey(ours->request.get()) == nullptr;
  ERR_clear_error();
  return fast;
}

TEST(CsrTest, CanonicalRsaAndEcRequests_TakeThePathWithoutTheDecoder_AndMatchOpenSsl) {
  for (auto alg : {KeyAlgorithm::rsa2048, KeyAlgorithm::rsa3072, KeyAlgorithm::ec_p256, KeyAlgorithm::ec_p384}) {
    SCOPED_TRACE(std::string(key_algorithm_name(alg)));
    auto key = generate_key(alg);
    ASSERT_TRUE(key);
    for (bool extra : {false, true}) {
      const Bytes der = make_request(key->get(), extra);
      EXPECT_TRUE(expect_same_as_openssl(der, der));
      const std::string pem = pem_of(der);
      EXPECT_TRUE(expect_same_as_openssl(as_bytes(pem), der));
      const std::string old_label = pem_of(der, "NEW CERTIFICATE REQUEST");
      EXPECT_TRUE(expect_same_as_openssl(as_bytes(old_label), der));
    }
  }
}

TEST(CsrTest, OtherKeyTypes_AreReadByOpenSsl) {
  for (const auto& [type, param] : {std::pair<const char*, const char*>{"ED25519", nullptr}, {"EC", "P-521"},
                                    {"EC", "secp256k1"}, {"RSA-PSS", nullptr}}) {
    SCOPED_TRACE(std::string(type) + (param ? std::string(" ") + param : ""));
    PKey key = make_key(type, param);
    ASSERT_TRUE(key);
    const bool ed = std::string(type) == "ED25519";
    const Bytes der = make_request(key.get(), false, ed ? nullptr : EVP_sha256());
    ASSERT_FALSE(der.empty());
    EXPECT_FALSE(expect_same_as_openssl(der, der));
  }
}

TEST(CsrTest, CompressedEcPoint_IsReadByOpenSsl) {
  auto key = generate_key(KeyAlgorithm::ec_p256);
  ASSERT_TRUE(key);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(key->get(), "point-format", "compressed"), 1);
  const Bytes der = make_request(key->get());
  EXPECT_FALSE(expect_same_as_openssl(der, der));
}

// The signed request with one length written in long form: BER, which OpenSSL reads (and
// verifies, over the bytes as sent) but the fast path must not, its re-encoding differing.
TEST(CsrTest, NonDerLengths_AreReadByOpenSsl) {
  auto key = generate_key(KeyAlgorithm::ec_p256);
  ASSERT_TRUE(key);
  const Bytes der = make_request(key->get());
  // The version, INTEGER 0, is 02 01 00 right after the two SEQUENCE headers. Re-encode its
  // length as 81 01 and grow both enclosing lengths by one: still a valid BER encoding.
  ASSERT_EQ(der[0], 0x30);
  ASSERT_EQ(der[1], 0x82);  // outer length in two bytes
  ASSERT_EQ(der[4], 0x30);
  ASSERT_EQ(der[5], 0x81);  // info length in one byte (a P-256 request's info is < 256 bytes)
  ASSERT_EQ(der[7], 0x02);
  Bytes ber(der.begin(), der.begin() + 8);
  ber.push_back(0x81);
  ber.insert(ber.end(), der.begin() + 8, der.end());
  const unsigned outer = (der[2] << 8 | der[3]) + 1;
  ber[2] = static_cast<std::uint8_t>(outer >> 8);
  ber[3] = static_cast<std::uint8_t>(outer & 0xff);
  ber[6] = static_cast<std::uint8_t>(der[6] + 1);
  auto theirs = openssl_reads(ber);
  ASSERT_TRUE(theirs.request) << "OpenSSL no longer reads this BER form: the test needs another";
  auto ours = parse_csr(ber);
  ASSERT_TRUE(ours) << ours.error().to_string();
  EXPECT_NE(X509_REQ_get0_pubkey(ours->request.get()), nullptr);  // OpenSSL's path
  ERR_clear_error();
  EXPECT_TRUE(same_public_key(ours->public_key.get(), theirs.key));
}

TEST(CsrTest, PointOffTheCurve_LeavesNoKey) {
  auto key = generate_key(KeyAlgorithm::ec_p256);
  ASSERT_TRUE(key);
  Bytes der = make_request(key->get());
  // The uncompressed point's last byte (the end of y): the point leaves the curve.
  const Bytes point_prefix = {0x03, 0x42, 0x00, 0x04};
  auto at = std::search(der.begin(), der.end(), point_prefix.begin(), point_prefix.end());
  ASSERT_NE(at, der.end());
  at[4 + 63] ^= 0x01;
  auto r = parse_csr(der);
  if (r) {
    EXPECT_FALSE(r->public_key);  // read by OpenSSL, which could not decode the key
  } else {
    EXPECT_EQ(r.error().code, Errc::malformed_csr);
  }
  ERR_clear_error();
}

TEST(CsrTest, PemWithBytesAfterTheRequest_IsReadAsOpenSslDoes) {
  auto key = generate_key(KeyAlgorithm::rsa2048);
  ASSERT_TRUE(key);
  const Bytes der = make_request(key->get());
  Bytes padded = der;
  padded.push_back(0x00);
  padded.push_back(0x00);
  auto ours = parse_csr(as_bytes(pem_of(padded)));
  ASSERT_TRUE(ours) << ours.error().to_string();  // PEM_read_bio_X509_REQ ignores them too
  EXPECT_EQ(der_of(ours->request.get()), der);
  auto raw = parse_csr(padded);  // but not in raw DER
  ASSERT_FALSE(raw);
  EXPECT_EQ(raw.error().code, Errc::malformed_csr);
}

TEST(CsrTest, ChangedSignature_StillParses_AndFailsToVerify) {
  auto key = generate_key(KeyAlgorithm::ec_p256);
  ASSERT_TRUE(key);
  Bytes der = make_request(key->get());
  der[der.size() - 3] ^= 0x01;  // inside the ECDSA signature's s
  auto ours = parse_csr(der);
  ASSERT_TRUE(ours) << ours.error().to_string();
  EXPECT_NE(X509_REQ_verify(ours->request.get(), ours->public_key.get()), 1);
  ERR_clear_error();
}

}  // namespace
}  // namespace cartorio::crypto
