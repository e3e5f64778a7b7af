#include "crypto/key_pair.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

namespace cartorio::crypto {
namespace {

using core::Errc;

const KeyAlgorithm kAll[] = {KeyAlgorithm::rsa2048, KeyAlgorithm::rsa3072, KeyAlgorithm::rsa4096,
                             KeyAlgorithm::ec_p256, KeyAlgorithm::ec_p384};

// RSA generation is slow; every test shares one key per algorithm.
EVP_PKEY* shared_key(KeyAlgorithm a) {
  static std::map<KeyAlgorithm, PKey> cache;
  auto it = cache.find(a);
  if (it == cache.end()) {
    auto r = generate_key(a);
    if (!r) {
      ADD_FAILURE() << r.error().to_string();
      return nullptr;
    }
    it = cache.emplace(a, std::move(r).value()).first;
  }
  return it->second.get();
}

PKey raw_keygen(const char* type, const char* curve_or_null, size_t bits = 0) {
  if (curve_or_null) return PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve_or_null));
  if (bits) return PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits));
  return PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

std::string alg_name(const ::testing::TestParamInfo<KeyAlgorithm>& i) {
  std::string n(key_algorithm_name(i.param));
  for (auto& c : n)
    if (c == '-') c = '_';
  return n;
}

// ---- names -----------------------------------------------------------------------------------------

TEST(KeyAlgorithmName, StableNamesAndParseRoundTrip) {
  EXPECT_EQ(key_algorithm_name(KeyAlgorithm::rsa2048), "rsa2048");
  EXPECT_EQ(key_algorithm_name(KeyAlgorithm::rsa3072), "rsa3072");
  EXPECT_EQ(key_algorithm_name(KeyAlgorithm::rsa4096), "rsa4096");
  EXPECT_EQ(key_algorithm_name(KeyAlgorithm::ec_p256), "ec-p256");
  EXPECT_EQ(key_algorithm_name(KeyAlgorithm::ec_p384), "ec-p384");
  for (auto a : kAll) EXPECT_EQ(parse_key_algorithm(key_algorithm_name(a)), a);
}

TEST(KeyAlgorithmName, ParseRejectsUnknownNames) {
  for (const char* n : {"", "rsa1024", "RSA2048", "ec-p521", "ec_p256", "ed25519", "rsa2048 "})
    EXPECT_FALSE(parse_key_algorithm(n)) << n;
}

TEST(KeyAlgorithmName, RsaBitsAndCurves) {
  EXPECT_TRUE(is_rsa(KeyAlgorithm::rsa2048));
  EXPECT_TRUE(is_rsa(KeyAlgorithm::rsa4096));
  EXPECT_FALSE(is_rsa(KeyAlgorithm::ec_p256));
  EXPECT_EQ(rsa_bits(KeyAlgorithm::rsa3072), 3072u);
  EXPECT_EQ(rsa_bits(KeyAlgorithm::ec_p384), 0u);
  EXPECT_EQ(ec_curve_name(KeyAlgorithm::ec_p256), "P-256");
  EXPECT_EQ(ec_curve_name(KeyAlgorithm::ec_p384), "P-384");
  EXPECT_EQ(ec_curve_name(KeyAlgorithm::rsa2048), "");
}

// ---- generate / describe -------------------------------------------------------------------------------

class EachAlgorithm : public ::testing::TestWithParam<KeyAlgorithm> {};

TEST_P(EachAlgorithm, GeneratesAKeyItDescribesAsItself) {
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  const auto d = describe_key(k);
  if (is_rsa(GetParam())) {
    EXPECT_EQ(d.type, KeyDescription::Type::rsa);
    EXPECT_EQ(d.bits, static_cast<int>(rsa_bits(GetParam())));
    EXPECT_EQ(d.curve, "");
  } else {
    EXPECT_EQ(d.type, KeyDescription::Type::ec);
    EXPECT_EQ(d.curve, ec_curve_name(GetParam()));
    EXPECT_EQ(d.bits, GetParam() == KeyAlgorithm::ec_p256 ? 256 : 384);
  }
  EXPECT_EQ(key_algorithm_of(k), GetParam());
}

TEST_P(EachAlgorithm, PrivateKeyDerRoundTrips) {
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  auto der = private_key_to_der(k);
  ASSERT_TRUE(der) << der.error().to_string();
  auto back = private_key_from_der(der->view());
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_TRUE(same_public_key(k, back->get()));
  EXPECT_EQ(key_algorithm_of(back->get()), GetParam());
  auto again = private_key_to_der(back->get());
  ASSERT_TRUE(again);
  EXPECT_EQ(to_hex(again->view()), to_hex(der->view()));
}

TEST_P(EachAlgorithm, PrivateKeyDerIsPkcs8) {
  // key_pair.h promises PKCS#8 (and sealed_key.h documents the sealed blob as PKCS#8 DER).
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  auto der = private_key_to_der(k);
  ASSERT_TRUE(der) << der.error().to_string();
  const unsigned char* p = der->data();
  PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der->size()));
  EXPECT_NE(p8, nullptr) << "regression: src/crypto/key_pair.cpp:96 private_key_to_der uses i2d_PrivateKey, which writes the "
                            "traditional structure (PKCS#1 RSAPrivateKey / SEC1 ECPrivateKey), not PKCS#8; DER starts "
                         << to_hex(der->view().first(std::min<std::size_t>(12, der->size())));
  PKCS8_PRIV_KEY_INFO_free(p8);
}

TEST_P(EachAlgorithm, PublicKeyDerRoundTrips) {
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  auto der = public_key_to_der(k);
  ASSERT_TRUE(der) << der.error().to_string();
  auto back = public_key_from_der(*der);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_TRUE(same_public_key(k, back->get()));
  EXPECT_EQ(key_algorithm_of(back->get()), GetParam());
  auto again = public_key_to_der(back->get());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *der);
}

TEST_P(EachAlgorithm, PublicKeyPemIsSpki) {
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  auto pem = public_key_to_pem(k);
  ASSERT_TRUE(pem) << pem.error().to_string();
  EXPECT_EQ(pem->rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_NE(pem->find("-----END PUBLIC KEY-----"), std::string::npos);
  EXPECT_EQ(pem->find("PRIVATE"), std::string::npos);
}

TEST_P(EachAlgorithm, PrivateKeyPemIsPkcs8_AndReadsBackAsTheSameKey) {
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  auto pem = private_key_to_pem(k);
  ASSERT_TRUE(pem) << pem.error().to_string();
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> back(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                                           EVP_PKEY_free);
  ASSERT_NE(back, nullptr);
  EXPECT_TRUE(same_public_key(back.get(), k));
}

TEST_P(EachAlgorithm, SignsWithTheExpectedDigest) {
  EVP_PKEY* k = shared_key(GetParam());
  ASSERT_NE(k, nullptr);
  const EVP_MD* want = GetParam() == KeyAlgorithm::ec_p384 ? EVP_sha384() : EVP_sha256();
  EXPECT_EQ(EVP_MD_get_type(signing_digest_for(k)), EVP_MD_get_type(want));
}

INSTANTIATE_TEST_SUITE_P(All, EachAlgorithm, ::testing::ValuesIn(kAll), alg_name);

TEST(GenerateKey, MakesDistinctKeys) {
  auto a = generate_key(KeyAlgorithm::ec_p256);
  auto b = generate_key(KeyAlgorithm::ec_p256);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(same_public_key(a->get(), b->get()));
}

TEST(DescribeKey, ReportsUnsupportedKeysWithoutAnAlgorithm) {
  PKey p521 = raw_keygen("EC", "P-521");
  ASSERT_TRUE(p521);
  auto d = describe_key(p521.get());
  EXPECT_EQ(d.type, KeyDescription::Type::ec);
  EXPECT_EQ(d.curve, "secp521r1");
  EXPECT_EQ(d.bits, 521);
  EXPECT_FALSE(key_algorithm_of(p521.get()));

  PKey ed = raw_keygen("ED25519", nullptr);
  ASSERT_TRUE(ed);
  EXPECT_EQ(describe_key(ed.get()).type, KeyDescription::Type::other);
  EXPECT_FALSE(key_algorithm_of(ed.get()));

  PKey rsa1024 = raw_keygen("RSA", nullptr, 1024);
  ASSERT_TRUE(rsa1024);
  EXPECT_EQ(describe_key(rsa1024.get()).type, KeyDescription::Type::rsa);
  EXPECT_EQ(describe_key(rsa1024.get()).bits, 1024);
  EXPECT_FALSE(key_algorithm_of(rsa1024.get()));
}

TEST(DescribeKey, NullKeyIsOther) {
  EXPECT_EQ(describe_key(nullptr).type, KeyDescription::Type::other);
  EXPECT_FALSE(key_algorithm_of(nullptr));
}

TEST(KeyDer, RejectsGarbageAndEmpty) {
  const Bytes garbage = {0x30, 0x03, 0x02, 0x01, 0x01, 0xff};
  for (const Bytes& in : {Bytes{}, garbage, Bytes(100, 0x41)}) {
    auto a = private_key_from_der(in);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, Errc::crypto_error);
    auto b = public_key_from_der(in);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code, Errc::crypto_error);
  }
}

TEST(KeyDer, PublicDecoderRejectsPrivateDer) {
  auto der = private_key_to_der(shared_key(KeyAlgorithm::ec_p256));
  ASSERT_TRUE(der);
  EXPECT_FALSE(public_key_from_der(der->view()));
}

TEST(KeyDer, PrivateDecoderRejectsTruncatedDer) {
  auto der = private_key_to_der(shared_key(KeyAlgorithm::ec_p256));
  ASSERT_TRUE(der);
  EXPECT_FALSE(private_key_from_der(der->view().first(der->size() - 1)));
}

TEST(SamePublicKey, FalseForDifferentOrNullKeys) {
  EVP_PKEY* a = shared_key(KeyAlgorithm::ec_p256);
  EVP_PKEY* b = shared_key(KeyAlgorithm::ec_p384);
  EXPECT_TRUE(same_public_key(a, a));
  EXPECT_FALSE(same_public_key(a, b));
  EXPECT_FALSE(same_public_key(a, nullptr));
  EXPECT_FALSE(same_public_key(nullptr, nullptr));
}

}  // namespace
}  // namespace cartorio::crypto
