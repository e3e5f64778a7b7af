// Key generation and (de)serialisation of EVP_PKEYs.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "crypto/secret_bytes.h"

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::crypto {

enum class KeyAlgorithm { rsa2048, rsa3072, rsa4096, ec_p256, ec_p384 };

std::string_view key_algorithm_name(KeyAlgorithm a);  // "rsa2048", "ec-p256", ...
std::optional<KeyAlgorithm> parse_key_algorithm(std::string_view name);
bool is_rsa(KeyAlgorithm a);
unsigned rsa_bits(KeyAlgorithm a);          // 0 for EC
std::string_view ec_curve_name(KeyAlgorithm a);  // "P-256"/"P-384", "" for RSA

core::Result<PKey> generate_key(KeyAlgorithm a);

// What a public key is, as far as profiles care.
struct KeyDescription {
  enum class Type { rsa, ec, other } type = Type::other;
  int bits = 0;           // modulus bits (RSA) or field size (EC)
  std::string curve;      // "P-256", "P-384", other curve short names, or ""
};
KeyDescription describe_key(const EVP_PKEY* key);
// The KeyAlgorithm a key is, when it is one we support.
std::optional<KeyAlgorithm> key_algorithm_of(const EVP_PKEY* key);

// PKCS#8 DER of the private key, in wiped memory.
core::Result<SecretBytes> private_key_to_der(const EVP_PKEY* key);
core::Result<PKey> private_key_from_der(ByteView der);
core::Result<Bytes> public_key_to_der(const EVP_PKEY* key);  // SubjectPublicKeyInfo
core::Result<PKey> public_key_from_der(ByteView der);
core::Result<std::string> public_key_to_pem(const EVP_PKEY* key);
// Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"): for handing a key to a service that stores it
// itself (a service certificate's secret). The memory BIO is not wiped: callers keep the
// result's lifetime short.
core::Result<std::string> private_key_to_pem(const EVP_PKEY* key);
bool same_public_key(const EVP_PKEY* a, const EVP_PKEY* b);

// The digest to sign with for a key: SHA-256 for RSA <= 3072 and P-256, SHA-384 for P-384 /
// RSA 4096 stays SHA-256 (what browsers and openssl verify expect from an RSA root).
const EVP_MD* signing_digest_for(const EVP_PKEY* key);

// A signature over `data` with signing_digest_for(key): DER ECDSA-Sig-Value for EC keys,
// PKCS#1 v1.5 for RSA. Errc::crypto_error.
core::Result<Bytes> sign_message(EVP_PKEY* key, ByteView data);
// Whether `signature` (as sign_message makes it) is `key`'s over `data`.
bool verify_message(EVP_PKEY* public_key, ByteView data, ByteView signature);

// ECDSA signatures: DER ECDSA-Sig-Value (what OpenSSL makes and checks) <-> the fixed-size
// R || S of JOSE (RFC 7518 3.4), each integer left-padded to `n` bytes (32 for P-256, 48 for
// P-384). Errc::crypto_error on malformed or trailing input, or an integer longer than n bytes.
core::Result<Bytes> ecdsa_der_to_raw(ByteView der, std::size_t n);
// Splits `raw` in two halves; Errc::crypto_error when it is empty or of odd length.
core::Result<Bytes> ecdsa_raw_to_der(ByteView raw);

}  // namespace cartorio::crypto
