// JSON Web Tokens signed with ES256 (RFC 7515 compact JWS, RFC 7518 3.4: ECDSA P-256 with
// SHA-256, the signature as the fixed 64-byte R || S, not DER), and the public key as a JWK
// (RFC 7517/7518 6.2) with its RFC 7638 thumbprint. Only the mechanics live here; what a
// valid access token is (alg, typ, kid, claims) is decided by the IdentityService.
//
// No OpenSSL header is included: EVP_PKEY is the forward-declared typedef of crypto/ossl.h.
// The R || S <-> DER conversions are crypto::ecdsa_der_to_raw / ecdsa_raw_to_der (crypto/key_pair.h).
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <string>
#include <string_view>

namespace cartorio::identity::jwt {

// Tokens above this size are refused before any decoding.
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;
inline constexpr std::size_t kP256CoordinateBytes = 32;

// base64url(header) "." base64url(payload) "." base64url(R || S). The key must be an
// EC P-256 private key (software or one signing inside an HSM).
// Errc::unsupported_key_type for another key, Errc::crypto_error when signing fails.
core::Result<std::string> sign_es256(EVP_PKEY* key, std::string_view header_json, std::string_view payload_json);

struct CompactJws {
  std::string signing_input;  // the first two parts as received, with their dot
  std::string header_json;    // decoded, not yet parsed
  std::string payload_json;
  crypto::Bytes signature;
};
// Splits and decodes a compact JWS: exactly three parts, each strict base64url (see
// crypto::from_base64url), at most kMaxTokenBytes. Errc::unauthenticated (message for logs).
core::Result<CompactJws> split_compact(std::string_view token);

// True when `raw_signature` is a valid 64-byte R || S ES256 signature of the input.
bool verify_es256(EVP_PKEY* public_key, std::string_view signing_input, crypto::ByteView raw_signature);

struct EcPublicJwk {
  std::string x;  // base64url of the 32-byte big-endian coordinate
  std::string y;
};
// Errc::unsupported_key_type unless the key is EC P-256.
core::Result<EcPublicJwk> p256_public_jwk(EVP_PKEY* key);
// RFC 7638: base64url(SHA-256({"crv":"P-256","kty":"EC","x":...,"y":...})).
std::string jwk_thumbprint(const EcPublicJwk& jwk);

}  // namespace cartorio::identity::jwt
