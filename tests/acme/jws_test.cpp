// The JOSE layer of the ACME server: flattened JWS requests signed by an independent signer
// (acme_test_support.h, straight OpenSSL) are parsed and verified; every refusal of RFC 8555
// 6.2 / RFC 7515 / RFC 7517 / RFC 7518 comes back with the code the API maps to its ACME
// error; RFC 7515 and RFC 7638 known-answer vectors pin the byte-level details.
#include "acme/jws.h"

#include "acme_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <filesystem>
#include <string>

namespace cartorio::acme {
namespace {

using core::Errc;
using nlohmann::json;
using test::b64url;
using test::flattened_jws;
using test::public_jwk_json;
using test::sign_flattened_jws;
using test::sign_flattened_jws_hmac;

const std::string kUrl = "https://ca.example/acme/new-account";
const std::string kNonce = "oFvnlFP1wIhRlYS2jTaXbA";  // 16 random bytes, as the server mints them

// Keys are slow to make under the sanitizers: one of each per process.
EVP_PKEY* rsa() {
  static const crypto::PKey key = test::rsa2048_key();
  return key.get();
}
EVP_PKEY* p256() {
  static const crypto::PKey key = test::p256_key();
  return key.get();
}
EVP_PKEY* p384() {
  static const crypto::PKey key = test::p384_key();
  return key.get();
}

json header_with_jwk(EVP_PKEY* key) { return {{"nonce", kNonce}, {"url", kUrl}, {"jwk", public_jwk_json(key)}}; }
json header_with_kid() { return {{"nonce", kNonce}, {"url", kUrl}, {"kid", "https://ca.example/acme/acct/1"}}; }

// A JWS with the protected header replaced by `header` (the signature no longer matches).
std::string with_header(const std::string& body, const json& header) {
  json doc = json::parse(body);
  doc["protected"] = b64url(header.dump());
  return doc.dump();
}
json decoded_header(const std::string& body) {
  auto bytes = crypto::from_base64url(json::parse(body)["protected"].get<std::string>());
  return json::parse(crypto::to_string(*bytes));
}

Jwk jwk_of(EVP_PKEY* key) {
  auto jwk = parse_jwk(public_jwk_json(key));
  EXPECT_TRUE(jwk) << jwk.error().to_string();
  return std::move(*jwk);
}

struct AlgCase {
  const char* alg;
  EVP_PKEY* (*key)();
  std::size_t signature_size;
};
const AlgCase kAlgs[] = {{"RS256", rsa, 256}, {"ES256", p256, 64}, {"ES384", p384, 96}};

// ---------------------------------------------------------------------------------------------
// Accepted requests

TEST(JwsRoundTrip, JwkSignedRequestsVerifyForEveryAlg) {
  for (const auto& c : kAlgs) {
    SCOPED_TRACE(c.alg);
    const std::string payload = R"({"termsOfServiceAgreed":true,"contact":["mailto:a@example.org"]})";
    const std::string body = sign_flattened_jws(c.key(), c.alg, header_with_jwk(c.key()), payload);
    auto msg = parse_jws(body);
    ASSERT_OK(msg);
    EXPECT_EQ(msg->alg, c.alg);
    EXPECT_EQ(msg->nonce, kNonce);
    EXPECT_EQ(msg->url, kUrl);
    EXPECT_EQ(msg->kid, "");
    ASSERT_TRUE(msg->jwk.has_value());
    EXPECT_EQ(msg->payload, payload);
    EXPECT_FALSE(msg->post_as_get());
    EXPECT_EQ(msg->signature.size(), c.signature_size);  // RSA: modulus length; EC: R || S
    const json doc = json::parse(body);
    EXPECT_EQ(msg->protected_b64, doc["protected"]);
    EXPECT_EQ(msg->payload_b64, doc["payload"]);
    // The key in the header is the signer's key.
    EXPECT_EQ(EVP_PKEY_eq(msg->jwk->key.get(), c.key()), 1);
    EXPECT_EQ(msg->jwk->thumbprint, jwk_of(c.key()).thumbprint);
    ASSERT_OK(verify_jws(*msg, *msg->jwk));
  }
}

TEST(JwsRoundTrip, KidSignedRequestsVerifyWithTheStoredKey) {
  for (const auto& c : kAlgs) {
    SCOPED_TRACE(c.alg);
    auto msg = parse_jws(sign_flattened_jws(c.key(), c.alg, header_with_kid(), R"({"status":"deactivated"})"));
    ASSERT_OK(msg);
    EXPECT_EQ(msg->kid, "https://ca.example/acme/acct/1");
    EXPECT_FALSE(msg->jwk.has_value());
    // The account key as the server stores it: its canonical JSON.
    auto stored = parse_jwk_text(jwk_of(c.key()).canonical_json);
    ASSERT_OK(stored);
    ASSERT_OK(verify_jws(*msg, *stored));
  }
}

TEST(JwsRoundTrip, PostAsGetHasAnEmptyPayload) {
  for (const auto& c : kAlgs) {
    SCOPED_TRACE(c.alg);
    const std::string body = sign_flattened_jws(c.key(), c.alg, header_with_kid(), "");
    EXPECT_EQ(json::parse(body)["payload"], "");
    auto msg = parse_jws(body);
    ASSERT_OK(msg);
    EXPECT_TRUE(msg->post_as_get());
    EXPECT_EQ(msg->payload, "");
    EXPECT_EQ(msg->payload_b64, "");
    ASSERT_OK(verify_jws(*msg, jwk_of(c.key())));
  }
  // "{}" is not POST-as-GET.
  auto msg = parse_jws(sign_flattened_jws(p256(), "ES256", header_with_kid(), "{}"));
  ASSERT_OK(msg);
  EXPECT_FALSE(msg->post_as_get());
  EXPECT_EQ(msg->payload, "{}");
}

TEST(JwsRoundTrip, InnerJwsWithoutNonce) {
  // The key-change inner JWS (RFC 8555 7.3.5): jwk of the new key, url, no nonce.
  json header = {{"url", "https://ca.example/acme/key-change"}, {"jwk", public_jwk_json(p384())}};
  const std::string body = sign_flattened_jws(p384(), "ES384", header, R"({"account":"x","oldKey":{}})");
  JwsParseOptions inner;
  inner.require_nonce = false;
  auto msg = parse_jws(body, inner);
  ASSERT_OK(msg);
  EXPECT_EQ(msg->nonce, "");
  ASSERT_OK(verify_jws(*msg, *msg->jwk));
  // The outer-request defaults need the nonce.
  EXPECT_ERRC(parse_jws(body), Errc::malformed_input);
}

TEST(JwsRoundTrip, IgnoredHeaderMembersAndWhitespaceAreFine) {
  json header = header_with_jwk(p256());
  header["typ"] = "JOSE";
  header["b64"] = true;  // the default, RFC 7797
  header["jwk"]["kid"] = "client label";
  header["jwk"]["use"] = "sig";
  const std::string body = sign_flattened_jws(p256(), "ES256", header, "{}");
  auto msg = parse_jws(" \n" + json::parse(body).dump(2) + "\n");
  ASSERT_OK(msg);
  ASSERT_OK(verify_jws(*msg, *msg->jwk));
  EXPECT_EQ(msg->jwk->thumbprint, jwk_of(p256()).thumbprint);  // extra JWK members do not count
}

// RFC 7515 A.3: an ES256 signature made by someone else, over a header without url or nonce
// (so verify_jws is driven directly): pins R || S, SHA-256 and the signing input.
TEST(JwsRoundTrip, Rfc7515AppendixA3Es256Vector) {
  auto key = parse_jwk(json{{"kty", "EC"},
                            {"crv", "P-256"},
                            {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                            {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}});
  ASSERT_OK(key);
  JwsMessage msg;
  msg.alg = "ES256";
  msg.protected_b64 = "eyJhbGciOiJFUzI1NiJ9";
  msg.payload_b64 = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
  msg.signature = *crypto::from_base64url(
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q");
  ASSERT_OK(verify_jws(msg, *key));
  msg.payload_b64.back() = 'R';
  EXPECT_ERRC(verify_jws(msg, *key), Errc::unauthenticated);
}

// RFC 7515 A.1: the HS256 example (key, signing input and MAC from the RFC).
TEST(JwsEab, Rfc7515AppendixA1Hs256Vector) {
  auto mac_key = crypto::from_base64url(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(mac_key);
  JwsMessage msg;
  msg.alg = "HS256";
  msg.protected_b64 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
  msg.payload_b64 = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
  msg.signature = *crypto::from_base64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  ASSERT_OK(verify_jws_hmac(msg, *mac_key));
  msg.signature[0] ^= 1;
  EXPECT_ERRC(verify_jws_hmac(msg, *mac_key), Errc::unauthenticated);
}

// ---------------------------------------------------------------------------------------------
// JWKs and thumbprints

// RFC 7638 3.1: the example RSA key (with "alg" and "kid", which are not hashed).
const json kRfc7638Jwk = {
    {"kty", "RSA"},
    {"n",
     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6"
     "4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n"
     "91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
    {"e", "AQAB"},
    {"alg", "RS256"},
    {"kid", "2011-04-29"}};

TEST(JwsJwk, Rfc7638ThumbprintVector) {
  auto jwk = parse_jwk(kRfc7638Jwk);
  ASSERT_OK(jwk);
  EXPECT_EQ(jwk->thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(jwk->canonical_json, R"({"e":"AQAB","kty":"RSA","n":")" + kRfc7638Jwk["n"].get<std::string>() + R"("})");
  // The stored form gives the same key back.
  auto stored = parse_jwk_text(jwk->canonical_json);
  ASSERT_OK(stored);
  EXPECT_EQ(stored->thumbprint, jwk->thumbprint);
  EXPECT_EQ(stored->canonical_json, jwk->canonical_json);
  EXPECT_EQ(EVP_PKEY_eq(stored->key.get(), jwk->key.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(jwk->key.get()), 2048);
}

TEST(JwsJwk, EcCanonicalFormAndThumbprint) {
  for (EVP_PKEY* key : {p256(), p384()}) {
    const json j = public_jwk_json(key);
    auto jwk = parse_jwk(j);
    ASSERT_OK(jwk);
    const std::string canonical = R"({"crv":")" + j["crv"].get<std::string>() + R"(","kty":"EC","x":")" +
                                  j["x"].get<std::string>() + R"(","y":")" + j["y"].get<std::string>() + R"("})";
    EXPECT_EQ(jwk->canonical_json, canonical);
    EXPECT_EQ(jwk->thumbprint, crypto::to_base64url(crypto::sha256(crypto::as_bytes(canonical))));
    EXPECT_EQ(jwk->thumbprint.size(), 43u);
    EXPECT_EQ(EVP_PKEY_eq(jwk->key.get(), key), 1);
  }
  EXPECT_NE(jwk_of(p256()).thumbprint, jwk_of(test::p256_key().get()).thumbprint);
}

TEST(JwsJwk, FromPublicKeyMatchesTheJwk) {
  for (EVP_PKEY* key : {rsa(), p256(), p384()}) {
    auto from_key = jwk_from_public_key(key);  // a private key: only its public half is used
    ASSERT_OK(from_key);
    const Jwk from_json = jwk_of(key);
    EXPECT_EQ(from_key->thumbprint, from_json.thumbprint);
    EXPECT_EQ(from_key->canonical_json, from_json.canonical_json);
    // The same through the SubjectPublicKeyInfo a certificate carries.
    auto spki = crypto::public_key_to_der(key);
    ASSERT_OK(spki);
    auto pub = crypto::public_key_from_der(*spki);
    ASSERT_OK(pub);
    auto from_pub = jwk_from_public_key(pub->get());
    ASSERT_OK(from_pub);
    EXPECT_EQ(from_pub->thumbprint, from_json.thumbprint);
  }
  EXPECT_NE(jwk_from_public_key(rsa())->thumbprint, jwk_from_public_key(p256())->thumbprint);
  EXPECT_ERRC(jwk_from_public_key(test::generate_ec_key("P-521").get()), Errc::unsupported_key_type);
  EXPECT_ERRC(jwk_from_public_key(test::generate_rsa_key(1024).get()), Errc::weak_key);
  crypto::PKey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(ed);
  EXPECT_ERRC(jwk_from_public_key(ed.get()), Errc::unsupported_key_type);
  EXPECT_ERRC(jwk_from_public_key(nullptr), Errc::invalid_argument);
}

TEST(JwsJwk, RsaRefusals) {
  auto rsa_jwk = [](const crypto::Bytes& n, const crypto::Bytes& e) {
    return json{{"kty", "RSA"}, {"n", crypto::to_base64url(n)}, {"e", crypto::to_base64url(e)}};
  };
  const crypto::Bytes n = *crypto::from_base64url(kRfc7638Jwk["n"].get<std::string>());
  const crypto::Bytes f4 = {0x01, 0x00, 0x01};
  ASSERT_OK(parse_jwk(rsa_jwk(n, f4)));
  ASSERT_OK(parse_jwk(rsa_jwk(n, {0x03})));  // small odd exponents are legal

  // Too small: a real 1024-bit key, and one bit short of 2048.
  EXPECT_ERRC(parse_jwk(public_jwk_json(test::generate_rsa_key(1024).get())), Errc::weak_key);
  crypto::Bytes n2047 = n;
  n2047[0] = 0x7f;
  EXPECT_ERRC(parse_jwk(rsa_jwk(n2047, f4)), Errc::weak_key);
  // 8192 bits is the largest accepted; one more is refused before any arithmetic.
  crypto::Bytes n8192(1024, 0xab), n8193(1025, 0xab);
  n8193[0] = 0x01;
  ASSERT_OK(parse_jwk(rsa_jwk(n8192, f4)));
  EXPECT_ERRC(parse_jwk(rsa_jwk(n8193, f4)), Errc::unsupported_key_type);

  // Exponent 1, even, longer than 64 bits; an even modulus.
  EXPECT_ERRC(parse_jwk(rsa_jwk(n, {0x01})), Errc::weak_key);
  EXPECT_ERRC(parse_jwk(rsa_jwk(n, {0x01, 0x00, 0x00})), Errc::weak_key);
  EXPECT_ERRC(parse_jwk(rsa_jwk(n, crypto::Bytes(9, 0x01))), Errc::unsupported_key_type);
  crypto::Bytes even = n;
  even.back() &= 0xfe;
  EXPECT_ERRC(parse_jwk(rsa_jwk(even, f4)), Errc::weak_key);

  // Non-minimal integers (a second encoding of the same key), empty, missing, not strings.
  crypto::Bytes padded_n = n;
  padded_n.insert(padded_n.begin(), 0x00);
  EXPECT_ERRC(parse_jwk(rsa_jwk(padded_n, f4)), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(rsa_jwk(n, {0x00, 0x01, 0x00, 0x01})), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(rsa_jwk(n, {})), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(json{{"kty", "RSA"}, {"n", kRfc7638Jwk["n"]}}), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(json{{"kty", "RSA"}, {"n", kRfc7638Jwk["n"]}, {"e", 65537}}), Errc::malformed_input);
  json padded_b64 = kRfc7638Jwk;
  padded_b64["e"] = "AQAB=";
  EXPECT_ERRC(parse_jwk(padded_b64), Errc::malformed_input);
}

TEST(JwsJwk, PrivateMembersAreRefused) {
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    SCOPED_TRACE(member);
    json j = kRfc7638Jwk;
    j[member] = "AQAB";
    EXPECT_ERRC(parse_jwk(j), Errc::malformed_input);
    json ec = public_jwk_json(p256());
    ec[member] = "AQAB";
    EXPECT_ERRC(parse_jwk(ec), Errc::malformed_input);
  }
  // Through a request, as a client that leaks its private key would send it.
  json header = header_with_jwk(p256());
  header["jwk"]["d"] = "jpsQnnGQmL-YBIffH1136cLyG8tmxdt-pf1gDyqk9Q8";
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", header, "{}")), Errc::malformed_input);
}

TEST(JwsJwk, UnsupportedKeyTypesAndCurves) {
  EXPECT_ERRC(parse_jwk(json{{"kty", "oct"}, {"k", "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"}}), Errc::unsupported_key_type);
  EXPECT_ERRC(parse_jwk(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}),
              Errc::unsupported_key_type);
  EXPECT_ERRC(parse_jwk(public_jwk_json(test::generate_ec_key("P-521").get())), Errc::unsupported_key_type);
  json k1 = public_jwk_json(p256());
  k1["crv"] = "secp256k1";
  EXPECT_ERRC(parse_jwk(k1), Errc::unsupported_key_type);
  // Structural problems are malformed.
  EXPECT_ERRC(parse_jwk(json{{"n", "AQAB"}}), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(json{{"kty", 1}}), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(json::array()), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk(json("RSA")), Errc::malformed_input);
  json no_crv = public_jwk_json(p256());
  no_crv.erase("crv");
  EXPECT_ERRC(parse_jwk(no_crv), Errc::malformed_input);
  // Through a request: a P-521 account key is badPublicKey whatever the alg says.
  auto p521 = test::generate_ec_key("P-521");
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p521.get(), "ES256", header_with_jwk(p521.get()), "{}")),
              Errc::unsupported_key_type);
}

TEST(JwsJwk, EcPointMustBeOnTheCurveAndFullSize) {
  const json good = public_jwk_json(p256());
  ASSERT_OK(parse_jwk(good));
  auto y = *crypto::from_base64url(good["y"].get<std::string>());
  y.back() ^= 0x01;
  json off_curve = good;
  off_curve["y"] = crypto::to_base64url(y);
  EXPECT_ERRC(parse_jwk(off_curve), Errc::malformed_input);
  // Coordinates at or above the field prime, and the P-256 point under the P-384 name.
  json big = good;
  big["x"] = crypto::to_base64url(crypto::Bytes(32, 0xff));
  EXPECT_ERRC(parse_jwk(big), Errc::malformed_input);
  json renamed = good;
  renamed["crv"] = "P-384";
  EXPECT_ERRC(parse_jwk(renamed), Errc::malformed_input);
  json zero = good;
  zero["x"] = crypto::to_base64url(crypto::Bytes(32, 0));
  zero["y"] = crypto::to_base64url(crypto::Bytes(32, 0));
  EXPECT_ERRC(parse_jwk(zero), Errc::malformed_input);
  // Exactly the field size: not shorter (leading zeros dropped), not longer.
  auto x = *crypto::from_base64url(good["x"].get<std::string>());
  json short_x = good;
  short_x["x"] = crypto::to_base64url(crypto::ByteView(x).subspan(1));
  EXPECT_ERRC(parse_jwk(short_x), Errc::malformed_input);
  json long_x = good;
  x.insert(x.begin(), 0x00);
  long_x["x"] = crypto::to_base64url(x);
  EXPECT_ERRC(parse_jwk(long_x), Errc::malformed_input);
  json missing_y = good;
  missing_y.erase("y");
  EXPECT_ERRC(parse_jwk(missing_y), Errc::malformed_input);
  // Through a request.
  json header = header_with_jwk(p256());
  header["jwk"] = off_curve;
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", header, "{}")), Errc::malformed_input);
}

TEST(JwsJwk, ParseJwkTextRefusesNonJson) {
  EXPECT_ERRC(parse_jwk_text(""), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk_text("{"), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk_text(R"({"kty":"RSA"} trailing)"), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk_text("[]"), Errc::malformed_input);
  EXPECT_ERRC(parse_jwk_text(std::string(kMaxJwsBytes + 1, ' ')), Errc::malformed_input);
  ASSERT_OK(parse_jwk_text(kRfc7638Jwk.dump()));
}

// ---------------------------------------------------------------------------------------------
// Signatures that do not verify

TEST(JwsVerify, TamperedPayloadSignatureOrHeaderIsUnauthenticated) {
  for (const auto& c : kAlgs) {
    SCOPED_TRACE(c.alg);
    const Jwk key = jwk_of(c.key());
    const std::string body = sign_flattened_jws(c.key(), c.alg, header_with_kid(), R"({"csr":"abc"})");
    json doc = json::parse(body);

    json payload = doc;
    payload["payload"] = b64url(R"({"csr":"abd"})");
    auto m1 = parse_jws(payload.dump());
    ASSERT_OK(m1);
    EXPECT_ERRC(verify_jws(*m1, key), Errc::unauthenticated);

    // The same signature over a POST-as-GET of the same header.
    json emptied = doc;
    emptied["payload"] = "";
    auto m2 = parse_jws(emptied.dump());
    ASSERT_OK(m2);
    EXPECT_ERRC(verify_jws(*m2, key), Errc::unauthenticated);

    json header = decoded_header(body);
    header["url"] = "https://ca.example/acme/revoke-cert";
    auto m3 = parse_jws(with_header(body, header));
    ASSERT_OK(m3);
    EXPECT_ERRC(verify_jws(*m3, key), Errc::unauthenticated);

    auto sig = *crypto::from_base64url(doc["signature"].get<std::string>());
    for (std::size_t i : {std::size_t{0}, sig.size() / 2, sig.size() - 1}) {
      auto bad = sig;
      bad[i] ^= 0x01;
      json flipped = doc;
      flipped["signature"] = crypto::to_base64url(bad);
      auto m = parse_jws(flipped.dump());
      ASSERT_OK(m);
      SCOPED_TRACE(::testing::Message() << "byte " << i);
      EXPECT_ERRC(verify_jws(*m, key), Errc::unauthenticated);
    }
    // Truncated or extended.
    for (std::size_t size : {sig.size() - 1, sig.size() + 1}) {
      auto resized = sig;
      resized.resize(size);
      json r = doc;
      r["signature"] = crypto::to_base64url(resized);
      auto m = parse_jws(r.dump());
      ASSERT_OK(m);
      SCOPED_TRACE(::testing::Message() << "size " << size);
      EXPECT_ERRC(verify_jws(*m, key), Errc::unauthenticated);
    }
    // Another key of the same kind.
    auto msg = parse_jws(body);
    ASSERT_OK(msg);
    ASSERT_OK(verify_jws(*msg, key));
    auto other = c.key == rsa ? test::rsa2048_key() : c.key == p256 ? test::p256_key() : test::p384_key();
    EXPECT_ERRC(verify_jws(*msg, jwk_of(other.get())), Errc::unauthenticated);
  }
}

TEST(JwsVerify, DerEcdsaSignatureIsNotRs) {
  const std::string body = sign_flattened_jws(p256(), "ES256", header_with_kid(), "{}");
  json doc = json::parse(body);
  auto raw = *crypto::from_base64url(doc["signature"].get<std::string>());
  auto der = crypto::ecdsa_raw_to_der(raw);
  ASSERT_OK(der);
  doc["signature"] = crypto::to_base64url(*der);
  auto msg = parse_jws(doc.dump());
  ASSERT_OK(msg);
  EXPECT_ERRC(verify_jws(*msg, jwk_of(p256())), Errc::unauthenticated);
}

TEST(JwsVerify, AlgMustMatchTheKey) {
  struct Mismatch {
    const char* alg;
    EVP_PKEY* (*signer)();
    EVP_PKEY* (*verifier)();
  };
  const Mismatch cases[] = {
      {"ES256", rsa, rsa},    // RSA key labelled ES256
      {"RS256", p256, p256},  // EC key labelled RS256
      {"ES384", p256, p256},  // P-256 labelled ES384
      {"ES256", p384, p384},  // P-384 labelled ES256
      {"ES256", p256, p384},  // right label, the account key is another curve
      {"RS256", rsa, p256},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.alg);
    auto msg = parse_jws(sign_flattened_jws(c.signer(), c.alg, header_with_jwk(c.signer()), "{}"));
    ASSERT_OK(msg);
    EXPECT_ERRC(verify_jws(*msg, jwk_of(c.verifier())), Errc::not_supported);
  }
  // A MAC-signed message is never verified as a public-key signature, and the reverse.
  JwsParseOptions eab;
  eab.require_nonce = false;
  eab.allow_hmac = true;
  const crypto::Bytes mac_key(32, 0x5a);
  auto hs = parse_jws(sign_flattened_jws_hmac(mac_key, {{"url", kUrl}, {"kid", "eab-1"}}, "{}"), eab);
  ASSERT_OK(hs);
  EXPECT_ERRC(verify_jws(*hs, jwk_of(p256())), Errc::not_supported);
  auto es = parse_jws(sign_flattened_jws(p256(), "ES256", header_with_kid(), "{}"));
  ASSERT_OK(es);
  EXPECT_ERRC(verify_jws_hmac(*es, mac_key), Errc::not_supported);
}

// ---------------------------------------------------------------------------------------------
// Refused requests

TEST(JwsRefusal, ForbiddenOrUnsupportedAlg) {
  const json header = header_with_jwk(p256());
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "none", header, "{}")), Errc::not_supported);
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "HS256", header, "{}")), Errc::not_supported);
  for (const char* alg : {"RS384", "RS512", "PS256", "ES512", "EdDSA", "HS384", "es256", ""}) {
    SCOPED_TRACE(alg);
    json h = header;
    h["alg"] = alg;
    EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "", h, "{}")), Errc::not_supported);
  }
  // HS256 without allow_hmac, even with kid and no nonce (the EAB shape on the outer parser).
  JwsParseOptions inner;
  inner.require_nonce = false;
  EXPECT_ERRC(parse_jws(sign_flattened_jws_hmac(crypto::Bytes(32, 1), {{"url", kUrl}, {"kid", "k"}}, "{}"), inner),
              Errc::not_supported);
  // Missing or not a string: structural.
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "", header, "{}")), Errc::malformed_input);
  json numeric = header;
  numeric["alg"] = 256;
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "", numeric, "{}")), Errc::malformed_input);
}

TEST(JwsRefusal, ExactlyOneOfJwkAndKid) {
  json both = header_with_jwk(p256());
  both["kid"] = "https://ca.example/acme/acct/1";
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", both, "{}")), Errc::malformed_input);
  json neither = header_with_kid();
  neither.erase("kid");
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", neither, "{}")), Errc::malformed_input);
  for (const json& bad : {json(""), json(1), json::object(), json(nullptr)}) {
    json h = header_with_kid();
    h["kid"] = bad;
    SCOPED_TRACE(::testing::Message() << bad);
    EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", h, "{}")), Errc::malformed_input);
  }
  for (const json& bad : {json("{}"), json::array(), json(nullptr)}) {
    json h = header_with_kid();
    h.erase("kid");
    h["jwk"] = bad;
    SCOPED_TRACE(::testing::Message() << bad);
    EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", h, "{}")), Errc::malformed_input);
  }
}

TEST(JwsRefusal, UrlIsRequired) {
  json missing = header_with_kid();
  missing.erase("url");
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", missing, "{}")), Errc::malformed_input);
  for (const json& bad : {json(""), json(1), json::array({kUrl})}) {
    json h = header_with_kid();
    h["url"] = bad;
    SCOPED_TRACE(::testing::Message() << bad);
    EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", h, "{}")), Errc::malformed_input);
  }
}

TEST(JwsRefusal, NonceRules) {
  json missing = header_with_kid();
  missing.erase("nonce");
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", missing, "{}")), Errc::malformed_input);
  for (const json& bad : {json(""), json(7), json("abc="), json("a+b/"), json("a b"), json("x")}) {
    json h = header_with_kid();
    h["nonce"] = bad;
    SCOPED_TRACE(::testing::Message() << bad);
    EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", h, "{}")), Errc::malformed_input);
  }
  // An inner JWS must not carry one (RFC 8555 7.3.4, 7.3.5), whatever its value.
  JwsParseOptions inner;
  inner.require_nonce = false;
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", header_with_jwk(p256()), "{}"), inner),
              Errc::malformed_input);
  json null_nonce = header_with_jwk(p256());
  null_nonce["nonce"] = nullptr;
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", null_nonce, "{}"), inner), Errc::malformed_input);
  ASSERT_OK(parse_jws(sign_flattened_jws(p256(), "ES256", missing, "{}"), inner));
}

TEST(JwsRefusal, CritAndUnencodedPayload) {
  json crit = header_with_kid();
  crit["crit"] = json::array({"b64"});
  crit["b64"] = false;
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", crit, "{}")), Errc::malformed_input);
  json crit_only = header_with_kid();
  crit_only["crit"] = json::array({"exp"});
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", crit_only, "{}")), Errc::malformed_input);
  json b64 = header_with_kid();
  b64["b64"] = false;
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", b64, "{}")), Errc::malformed_input);
  b64["b64"] = "true";
  EXPECT_ERRC(parse_jws(sign_flattened_jws(p256(), "ES256", b64, "{}")), Errc::malformed_input);
}

TEST(JwsRefusal, OnlyTheFlattenedSerialization) {
  const std::string body = sign_flattened_jws(p256(), "ES256", header_with_kid(), "{}");
  const json doc = json::parse(body);
  ASSERT_OK(parse_jws(body));

  json unprotected = doc;
  unprotected["header"] = {{"kid", "x"}};
  EXPECT_ERRC(parse_jws(unprotected.dump()), Errc::malformed_input);
  json general = {{"payload", doc["payload"]},
                  {"signatures", json::array({{{"protected", doc["protected"]}, {"signature", doc["signature"]}}})}};
  EXPECT_ERRC(parse_jws(general.dump()), Errc::malformed_input);
  json extra = doc;
  extra["extra"] = 1;
  EXPECT_ERRC(parse_jws(extra.dump()), Errc::malformed_input);
  for (const char* member : {"protected", "payload", "signature"}) {
    SCOPED_TRACE(member);
    json missing = doc;
    missing.erase(member);
    EXPECT_ERRC(parse_jws(missing.dump()), Errc::malformed_input);
    json number = doc;
    number[member] = 1;
    EXPECT_ERRC(parse_jws(number.dump()), Errc::malformed_input);
    json nested = doc;
    nested[member] = json::object();
    EXPECT_ERRC(parse_jws(nested.dump()), Errc::malformed_input);
  }
  json no_sig = doc;
  no_sig["signature"] = "";
  EXPECT_ERRC(parse_jws(no_sig.dump()), Errc::malformed_input);
  json no_header = doc;
  no_header["protected"] = "";
  EXPECT_ERRC(parse_jws(no_header.dump()), Errc::malformed_input);
  // The compact serialization, and bodies that are not a JSON object.
  const std::string compact = doc["protected"].get<std::string>() + "." + doc["payload"].get<std::string>() + "." +
                              doc["signature"].get<std::string>();
  for (const std::string& bad : {compact, std::string(""), std::string("[]"), std::string("null"),
                                 std::string("\"x\""), body + "}", body.substr(0, body.size() - 1), body + " x"}) {
    SCOPED_TRACE(::testing::Message() << bad);
    EXPECT_ERRC(parse_jws(bad), Errc::malformed_input);
  }
  // The protected header must be a JSON object.
  for (const std::string& header : {std::string("[]"), std::string("\"alg\""), std::string("{"), std::string("{}x")}) {
    json h = doc;
    h["protected"] = b64url(header);
    SCOPED_TRACE(::testing::Message() << header);
    EXPECT_ERRC(parse_jws(h.dump()), Errc::malformed_input);
  }
}

TEST(JwsRefusal, StrictBase64url) {
  const std::string body = sign_flattened_jws(p256(), "ES256", header_with_kid(), R"({"a":1})");
  const json doc = json::parse(body);
  auto mangle = [&](const char* member, const std::string& value) {
    json d = doc;
    d[member] = value;
    return parse_jws(d.dump());
  };
  for (const char* member : {"protected", "payload", "signature"}) {
    SCOPED_TRACE(member);
    const std::string v = doc[member];
    EXPECT_ERRC(mangle(member, v + "="), Errc::malformed_input);      // padding
    EXPECT_ERRC(mangle(member, v + "=="), Errc::malformed_input);
    EXPECT_ERRC(mangle(member, "+" + v.substr(1)), Errc::malformed_input);  // standard alphabet
    EXPECT_ERRC(mangle(member, "/" + v.substr(1)), Errc::malformed_input);
    EXPECT_ERRC(mangle(member, v.substr(0, 4) + " " + v.substr(4)), Errc::malformed_input);
    EXPECT_ERRC(mangle(member, v.substr(0, 4) + "\n" + v.substr(4)), Errc::malformed_input);
  }
  // A signature in standard base64 with padding: what a careless client would send.
  auto sig = *crypto::from_base64url(doc["signature"].get<std::string>());
  EXPECT_ERRC(mangle("signature", crypto::to_base64(sig)), Errc::malformed_input);
  // Non-canonical trailing bits: "e30" is "{}", "e31" decodes to the same byte in lax decoders.
  EXPECT_ERRC(mangle("payload", "e31"), Errc::malformed_input);
}

TEST(JwsRefusal, BodySizeLimit) {
  const std::string body = sign_flattened_jws(p256(), "ES256", header_with_kid(), "{}");
  ASSERT_LT(body.size(), kMaxJwsBytes);
  // Whitespace keeps the JWS valid, so the limit itself is what refuses.
  const std::string at_limit = body + std::string(kMaxJwsBytes - body.size(), ' ');
  auto ok = parse_jws(at_limit);
  ASSERT_OK(ok);
  ASSERT_OK(verify_jws(*ok, jwk_of(p256())));
  EXPECT_ERRC(parse_jws(at_limit + " "), Errc::malformed_input);
  // A signed request with a large payload.
  const std::string big = sign_flattened_jws(p256(), "ES256", header_with_kid(), std::string(kMaxJwsBytes, 'a'));
  EXPECT_ERRC(parse_jws(big), Errc::malformed_input);
}

TEST(JwsRefusal, MessagesDoNotEchoLongInput) {
  json h = header_with_kid();
  h["alg"] = std::string(1000, 'A') + "\"\n";
  auto r = parse_jws(sign_flattened_jws(p256(), "", h, "{}"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_supported);
  EXPECT_LT(r.error().message.size(), 200u);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// External Account Binding (RFC 8555 7.3.4)

TEST(JwsEab, Hs256InnerJwsVerifiesWithTheEabKey) {
  const crypto::Bytes eab_key = crypto::random_bytes(32);
  const std::string account_jwk = public_jwk_json(p256()).dump();
  const std::string body =
      sign_flattened_jws_hmac(eab_key, {{"url", kUrl}, {"kid", "eab-key-1"}}, account_jwk);
  JwsParseOptions eab;
  eab.require_nonce = false;
  eab.allow_hmac = true;
  auto msg = parse_jws(body, eab);
  ASSERT_OK(msg);
  EXPECT_EQ(msg->alg, "HS256");
  EXPECT_EQ(msg->kid, "eab-key-1");
  EXPECT_EQ(msg->url, kUrl);
  EXPECT_EQ(msg->payload, account_jwk);
  EXPECT_FALSE(msg->jwk.has_value());
  ASSERT_OK(verify_jws_hmac(*msg, eab_key));
  // The payload is the account key: it parses to the outer JWS's key.
  auto bound = parse_jwk_text(msg->payload);
  ASSERT_OK(bound);
  EXPECT_EQ(bound->thumbprint, jwk_of(p256()).thumbprint);

  // Wrong key, a key one byte shorter, no key.
  auto wrong = eab_key;
  wrong[0] ^= 0x80;
  EXPECT_ERRC(verify_jws_hmac(*msg, wrong), Errc::unauthenticated);
  EXPECT_ERRC(verify_jws_hmac(*msg, crypto::ByteView(eab_key).first(31)), Errc::unauthenticated);
  EXPECT_ERRC(verify_jws_hmac(*msg, crypto::ByteView{}), Errc::invalid_argument);
  // Another account's key in the payload under the same MAC.
  json doc = json::parse(body);
  doc["payload"] = b64url(public_jwk_json(p384()).dump());
  auto swapped = parse_jws(doc.dump(), eab);
  ASSERT_OK(swapped);
  EXPECT_ERRC(verify_jws_hmac(*swapped, eab_key), Errc::unauthenticated);
  // A truncated MAC.
  doc = json::parse(body);
  auto mac = *crypto::from_base64url(doc["signature"].get<std::string>());
  mac.resize(16);
  doc["signature"] = crypto::to_base64url(mac);
  auto truncated = parse_jws(doc.dump(), eab);
  ASSERT_OK(truncated);
  EXPECT_ERRC(verify_jws_hmac(*truncated, eab_key), Errc::unauthenticated);
}

TEST(JwsEab, Hs256ShapeRules) {
  JwsParseOptions eab;
  eab.require_nonce = false;
  eab.allow_hmac = true;
  const crypto::Bytes key(32, 0x11);
  // A MAC-signed JWS names its key by kid.
  EXPECT_ERRC(parse_jws(sign_flattened_jws_hmac(key, {{"url", kUrl}, {"jwk", public_jwk_json(p256())}}, "{}"), eab),
              Errc::malformed_input);
  // Only HS256 among the MACs.
  EXPECT_ERRC(parse_jws(sign_flattened_jws_hmac(key, {{"url", kUrl}, {"kid", "k"}}, "{}", "HS384"), eab),
              Errc::not_supported);
  EXPECT_ERRC(parse_jws(sign_flattened_jws_hmac(key, {{"url", kUrl}, {"kid", "k"}}, "{}", "none"), eab),
              Errc::not_supported);
  // No nonce in the inner JWS.
  EXPECT_ERRC(parse_jws(sign_flattened_jws_hmac(key, {{"url", kUrl}, {"kid", "k"}, {"nonce", kNonce}}, "{}"), eab),
              Errc::malformed_input);
  // allow_hmac does not make the outer parser accept a MAC without the options asking.
  EXPECT_ERRC(parse_jws(sign_flattened_jws_hmac(key, {{"url", kUrl}, {"kid", "k"}, {"nonce", kNonce}}, "{}")),
              Errc::not_supported);
}

// ---------------------------------------------------------------------------------------------

TEST(JwsKeyAuthorization, TokenDotThumbprint) {
  auto jwk = parse_jwk(kRfc7638Jwk);
  ASSERT_OK(jwk);
  EXPECT_EQ(key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", *jwk),
            "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  const Jwk ec = jwk_of(p256());
  EXPECT_EQ(key_authorization("tok", ec), "tok." + ec.thumbprint);
}

// ---------------------------------------------------------------------------------------------
// The fuzzer's committed seeds (fuzz/make-acme-jws-seeds.sh): requests signed by the openssl
// CLI, a signer independent of this code, must parse and verify, so the fuzzer starts from
// the success paths and the seeds stay valid when the parser changes.

TEST(JwsSeeds, CommittedFuzzSeedsParseAndVerify) {
  const std::filesystem::path dir = CARTORIO_ACME_JWS_SEEDS_DIR;
  const std::string eab_key = "cartorio-acme-jws-fuzz-eab-key!!";  // kSeedEabKey of the harness
  JwsParseOptions inner;
  inner.require_nonce = false;
  inner.allow_hmac = true;
  int requests = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("header-", 0) == 0) continue;  // the harness's second form: a bare header
    SCOPED_TRACE(name);
    ++requests;
    const std::string body = cartorio::testing::read_file(entry.path());
    const bool is_inner = name.find("-inner-") != std::string::npos;
    auto msg = parse_jws(body, is_inner ? inner : JwsParseOptions{});
    ASSERT_OK(msg);
    if (msg->alg == "HS256") {
      ASSERT_OK(verify_jws_hmac(*msg, crypto::as_bytes(eab_key)));
    } else if (msg->jwk) {
      ASSERT_OK(verify_jws(*msg, *msg->jwk));
    }
    if (name == "new-account-es256-eab.json") {
      // The EAB flow: the inner JWS's payload is the outer JWS's key, MAC'd with the EAB key.
      const json eab = json::parse(msg->payload).at("externalAccountBinding");
      auto binding = parse_jws(eab.dump(), inner);
      ASSERT_OK(binding);
      ASSERT_OK(verify_jws_hmac(*binding, crypto::as_bytes(eab_key)));
      EXPECT_EQ(binding->url, msg->url);
      auto bound = parse_jwk_text(binding->payload);
      ASSERT_OK(bound);
      EXPECT_EQ(bound->thumbprint, msg->jwk->thumbprint);
    }
  }
  EXPECT_GE(requests, 6);
}

}  // namespace
}  // namespace cartorio::acme
