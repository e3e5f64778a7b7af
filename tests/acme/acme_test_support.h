// Test-side JOSE for the ACME tests: keys, public JWKs and flattened JWS requests, made with
// OpenSSL directly rather than with src/acme, so the library is checked against a second
// implementation (what an ACME client would send). Header-only; link cartorio_crypto,
// nlohmann_json and OpenSSL::Crypto. Helpers abort when OpenSSL fails: there is nothing
// meaningful to test then.
#pragma once

#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

namespace cartorio::acme::test {

[[noreturn]] inline void test_support_fail(const char* what) {
  std::fprintf(stderr, "acme_test_support: %s: %s\n", what, crypto::openssl_errors().c_str());
  std::abort();
}

// RSA of any size (also sizes the server must refuse, such as 1024).
inline crypto::PKey generate_rsa_key(unsigned bits) {
  crypto::PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) test_support_fail("RSA key generation");
  return key;
}
// EC on a named curve: "P-256", "P-384", or one the server must refuse ("P-521", "secp256k1").
inline crypto::PKey generate_ec_key(const char* curve) {
  crypto::PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!key) test_support_fail("EC key generation");
  return key;
}
inline crypto::PKey rsa2048_key() { return generate_rsa_key(2048); }
inline crypto::PKey p256_key() { return generate_ec_key("P-256"); }
inline crypto::PKey p384_key() { return generate_ec_key("P-384"); }

inline std::string b64url(std::string_view text) { return crypto::to_base64url(crypto::as_bytes(text)); }

namespace detail {
inline crypto::Bytes bn_param(const EVP_PKEY* key, const char* name, int pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) test_support_fail(name);
  crypto::Bignum bn(raw);
  crypto::Bytes out(static_cast<std::size_t>(pad > 0 ? pad : BN_num_bytes(bn.get())));
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) test_support_fail(name);
  return out;
}
// JOSE name of an EC key's curve and its field size in bytes.
inline std::pair<std::string, int> ec_curve(const EVP_PKEY* key) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1)
    test_support_fail("EC group name");
  const std::string group(name, len);
  const int size = (EVP_PKEY_get_bits(key) + 7) / 8;
  if (group == "prime256v1" || group == "P-256") return {"P-256", size};
  if (group == "secp384r1" || group == "P-384") return {"P-384", size};
  if (group == "secp521r1" || group == "P-521") return {"P-521", size};
  return {group, size};
}
}  // namespace detail

// The public JWK of an RSA or EC key (RFC 7518 6.2, 6.3): minimal n and e, x and y padded to
// the field size. Works on private keys too (only the public members are written).
inline nlohmann::json public_jwk_json(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    return {{"kty", "RSA"},
            {"n", crypto::to_base64url(detail::bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0))},
            {"e", crypto::to_base64url(detail::bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0))}};
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    const auto [crv, size] = detail::ec_curve(key);
    return {{"kty", "EC"},
            {"crv", crv},
            {"x", crypto::to_base64url(detail::bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size))},
            {"y", crypto::to_base64url(detail::bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size))}};
  }
  test_support_fail("public_jwk_json: neither RSA nor EC");
}

// The raw JWS signature of `input` the way the key signs: RSA PKCS#1 v1.5 with SHA-256 (RS256),
// ECDSA with SHA-256 / SHA-384 / SHA-512 by curve as fixed-size R || S (ES256/384/512).
inline crypto::Bytes jws_signature(EVP_PKEY* key, std::string_view input) {
  const EVP_MD* md = EVP_sha256();
  int ec_size = 0;
  if (EVP_PKEY_is_a(key, "EC")) {
    ec_size = detail::ec_curve(key).second;
    md = ec_size <= 32 ? EVP_sha256() : ec_size <= 48 ? EVP_sha384() : EVP_sha512();
  }
  crypto::MdCtx ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1)
    test_support_fail("sign init");
  crypto::Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data, input.size()) != 1) test_support_fail("sign");
  sig.resize(len);
  if (ec_size == 0) return sig;
  auto raw = crypto::ecdsa_der_to_raw(sig, static_cast<std::size_t>(ec_size));
  if (!raw) test_support_fail("ECDSA DER to R || S");
  return std::move(*raw);
}

// {"protected": ..., "payload": ..., "signature": ...} from the three base64url parts.
inline std::string flattened_jws(const std::string& protected_b64, const std::string& payload_b64,
                                 const std::string& signature_b64) {
  return nlohmann::json{{"protected", protected_b64}, {"payload", payload_b64}, {"signature", signature_b64}}.dump();
}

// A flattened JWS as an ACME client sends it. "alg" is set to `alg` in the protected header
// unless `alg` is empty (then the header is used as given). The signature is made the way the
// key signs (see jws_signature), whatever `alg` says, so a label that does not match the key
// can be tested. `payload` "" gives a POST-as-GET (empty "payload").
inline std::string sign_flattened_jws(EVP_PKEY* key, const std::string& alg, nlohmann::json protected_header,
                                      const std::string& payload) {
  if (!alg.empty()) protected_header["alg"] = alg;
  const std::string protected_b64 = b64url(protected_header.dump());
  const std::string payload_b64 = b64url(payload);
  const auto sig = jws_signature(key, protected_b64 + "." + payload_b64);
  return flattened_jws(protected_b64, payload_b64, crypto::to_base64url(sig));
}

// The same with an HMAC-SHA-256 over the signing input (the EAB inner JWS, RFC 8555 7.3.4:
// alg HS256, kid = the EAB key id, payload = the account's public JWK, no nonce).
inline std::string sign_flattened_jws_hmac(crypto::ByteView mac_key, nlohmann::json protected_header,
                                           const std::string& payload, const std::string& alg = "HS256") {
  if (!alg.empty()) protected_header["alg"] = alg;
  const std::string protected_b64 = b64url(protected_header.dump());
  const std::string payload_b64 = b64url(payload);
  const auto mac = crypto::hmac_sha256(mac_key, crypto::as_bytes(protected_b64 + "." + payload_b64));
  return flattened_jws(protected_b64, payload_b64, crypto::to_base64url(mac));
}

}  // namespace cartorio::acme::test
