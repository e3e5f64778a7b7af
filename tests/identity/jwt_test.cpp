// The JOSE mechanics: ES256 compact JWS, R||S <-> DER, JWK.
#include "identity/jwt.h"

#include "crypto/key_pair.h"
#include "crypto/primitives.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace cartorio::identity {
namespace {

using core::Errc;
using crypto::to_base64url;

crypto::PKey p256() {
  auto k = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  EXPECT_TRUE(k) << k.error().to_string();
  return std::move(*k);
}

TEST(Jwt, SignAndVerifyEs256) {
  auto key = p256();
  auto token = jwt::sign_es256(key.get(), R"({"alg":"ES256","typ":"at+jwt","kid":"k1"})", R"({"sub":"user:alice"})");
  ASSERT_OK(token);
  auto jws = jwt::split_compact(*token);
  ASSERT_OK(jws);
  EXPECT_EQ(jws->header_json, R"({"alg":"ES256","typ":"at+jwt","kid":"k1"})");
  EXPECT_EQ(jws->payload_json, R"({"sub":"user:alice"})");
  ASSERT_EQ(jws->signature.size(), 64u);  // R || S, not DER
  EXPECT_EQ(jws->signing_input, token->substr(0, token->rfind('.')));
  EXPECT_TRUE(jwt::verify_es256(key.get(), jws->signing_input, jws->signature));

  // Another key, another input, a flipped bit, a DER signature: all refused.
  auto other = p256();
  EXPECT_FALSE(jwt::verify_es256(other.get(), jws->signing_input, jws->signature));
  EXPECT_FALSE(jwt::verify_es256(key.get(), jws->signing_input + "x", jws->signature));
  for (std::size_t i : {0u, 31u, 32u, 63u}) {
    auto bad = jws->signature;
    bad[i] ^= 0x01;
    EXPECT_FALSE(jwt::verify_es256(key.get(), jws->signing_input, bad)) << "byte " << i;
  }
  auto der = crypto::ecdsa_raw_to_der(jws->signature);
  ASSERT_OK(der);
  EXPECT_FALSE(jwt::verify_es256(key.get(), jws->signing_input, *der));
  EXPECT_FALSE(jwt::verify_es256(key.get(), jws->signing_input, crypto::Bytes{}));
  EXPECT_FALSE(jwt::verify_es256(nullptr, jws->signing_input, jws->signature));
}

TEST(Jwt, SignRefusesOtherKeyTypes) {
  auto p384 = crypto::generate_key(crypto::KeyAlgorithm::ec_p384);
  ASSERT_OK(p384);
  EXPECT_ERRC(jwt::sign_es256(p384->get(), "{}", "{}"), Errc::unsupported_key_type);
  EXPECT_ERRC(jwt::sign_es256(nullptr, "{}", "{}"), Errc::unsupported_key_type);
  EXPECT_ERRC(jwt::p256_public_jwk(p384->get()), Errc::unsupported_key_type);
}

TEST(Jwt, RawDerRoundTrip) {
  crypto::Bytes raw(64);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i + 1);
  raw[0] = 0;  // a leading zero byte of R survives the round trip as padding
  raw[1] = 0;
  auto der = crypto::ecdsa_raw_to_der(raw);
  ASSERT_OK(der);
  auto back = crypto::ecdsa_der_to_raw(*der, jwt::kP256CoordinateBytes);
  ASSERT_OK(back);
  EXPECT_EQ(*back, raw);
  EXPECT_ERRC(crypto::ecdsa_raw_to_der(crypto::Bytes(63)), Errc::crypto_error);
  EXPECT_ERRC(crypto::ecdsa_raw_to_der(crypto::Bytes{}), Errc::crypto_error);
  EXPECT_ERRC(crypto::ecdsa_der_to_raw(crypto::Bytes{0x30, 0x03, 0x02, 0x01}, jwt::kP256CoordinateBytes), Errc::crypto_error);
  // Trailing bytes after the DER sequence are refused.
  auto trailing = *der;
  trailing.push_back(0);
  EXPECT_ERRC(crypto::ecdsa_der_to_raw(trailing, jwt::kP256CoordinateBytes), Errc::crypto_error);
  // An integer wider than the coordinate size.
  auto wide = crypto::ecdsa_raw_to_der(crypto::Bytes(66, 0x7f));
  ASSERT_OK(wide);
  EXPECT_ERRC(crypto::ecdsa_der_to_raw(*wide, jwt::kP256CoordinateBytes), Errc::crypto_error);
}

TEST(Jwt, SplitCompactIsStrict) {
  const std::string h = to_base64url(crypto::as_bytes(std::string_view(R"({"alg":"ES256"})")));
  const std::string p = to_base64url(crypto::as_bytes(std::string_view(R"({"a":1})")));
  const std::string s = to_base64url(crypto::Bytes(64, 7));
  ASSERT_OK(jwt::split_compact(h + "." + p + "." + s));
  ASSERT_OK(jwt::split_compact(h + "." + p + "."));  // empty signature part decodes (and never verifies)
  EXPECT_ERRC(jwt::split_compact(""), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact("garbage"), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + "." + p), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + "." + p + "." + s + "." + s), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(".." ), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact("." + p + "." + s), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + ".." + s), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + "=." + p + "." + s), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + "." + p + "." + s + "="), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + "." + p + " ." + s), Errc::unauthenticated);
  EXPECT_ERRC(jwt::split_compact(h + "." + std::string(jwt::kMaxTokenBytes, 'A') + "." + s), Errc::unauthenticated);
}

TEST(Jwt, PublicJwkAndThumbprint) {
  auto key = p256();
  auto jwk = jwt::p256_public_jwk(key.get());
  ASSERT_OK(jwk);
  EXPECT_EQ(jwk->x.size(), 43u);  // 32 bytes, unpadded
  EXPECT_EQ(jwk->y.size(), 43u);
  const auto tp = jwt::jwk_thumbprint(*jwk);
  EXPECT_EQ(tp.size(), 43u);
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + jwk->x + R"(","y":")" + jwk->y + R"("})";
  EXPECT_EQ(tp, to_base64url(crypto::sha256(crypto::as_bytes(canonical))));
  auto other = jwt::p256_public_jwk(p256().get());
  ASSERT_OK(other);
  EXPECT_NE(jwt::jwk_thumbprint(*other), tp);
}

}  // namespace
}  // namespace cartorio::identity
