// The JOSE layer of the ACME server (RFC 8555 6.2): flattened JWS requests (RFC 7515 7.2.2)
// signed with RS256, ES256 or ES384 (RFC 7518 3.3, 3.4), public JWKs (RFC 7517, RFC 7518 6)
// and their RFC 7638 thumbprints, plus the HS256 MAC of the External Account Binding.
//
// Parsing and verifying are separate steps because the key is not always in the request:
// with "kid" the caller looks the account up first, then calls verify_jws with its stored key.
// Nothing here touches a store, a clock or a nonce table: replay and URL checks belong to the
// ACME service. Every function is thread-safe (no shared state).
//
// Error codes (the API maps them to ACME error types):
//   Errc::malformed_input       anything structural (JSON, base64url, members), a private JWK
//                               member, an EC point off the curve or of the wrong size -> malformed
//   Errc::not_supported         an unsupported or forbidden alg, alg/key mismatch   -> badSignatureAlgorithm
//   Errc::weak_key              an RSA modulus under 2048 bits or even, an exponent even or 1 -> badPublicKey
//   Errc::unsupported_key_type  a kty or crv we do not accept, an RSA modulus above 8192 bits
//                               or an exponent above 64 bits                        -> badPublicKey
//   Errc::unauthenticated       the signature or MAC does not verify
// Messages never quote more than a few printable characters of the input.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cartorio::acme {

inline constexpr std::size_t kMaxJwsBytes = 64 * 1024;  // bodies above are refused before parsing

// A public JWK: RSA ("kty":"RSA", n, e; modulus 2048..8192 bits, e odd, > 1 and at most 64
// bits) or EC ("kty":"EC", crv P-256 or P-384, x and y exactly the field size and on the
// curve). n and e must be minimal (no leading zero octet, RFC 7518 6.3.1), so one key has one
// JWK and one thumbprint. Private members ("d","p","q","dp","dq","qi","oth","k") are refused
// (malformed_input); "oct" and other key types are refused (unsupported_key_type). Other
// members ("kid", "use", "alg", ...) are ignored.
struct Jwk {
  crypto::PKey key;            // the public key
  std::string thumbprint;      // RFC 7638: base64url(SHA-256(canonical JSON)), no padding
  std::string canonical_json;  // RFC 7638 canonical form: required members only, lexicographic order,
                               // no whitespace — what the ACME server stores and echoes back
};
core::Result<Jwk> parse_jwk(const nlohmann::json& j);
core::Result<Jwk> parse_jwk_text(std::string_view json_text);  // from canonical_json, for stored keys
// The same checks as parse_jwk, for comparing an account key with a certificate's key
// (the thumbprints are equal exactly when the public keys are). Errc as parse_jwk.
core::Result<Jwk> jwk_from_public_key(EVP_PKEY* key);  // RSA or EC P-256/P-384 public key -> Jwk

struct JwsParseOptions {
  bool require_nonce = true;  // outer ACME requests: yes; key-change inner JWS and EAB inner JWS: no
  // Without require_nonce: refuse a nonce that is present (the EAB inner JWS, RFC 8555 7.3.4),
  // or ignore it (false: the key-change inner JWS, which MAY omit it, 7.3.5).
  bool forbid_nonce = true;
  bool allow_hmac = false;    // only for the External Account Binding inner JWS (HS256, kid = EAB key id)
};
struct JwsMessage {
  std::string alg;         // "RS256" | "ES256" | "ES384" | (HS256 when allow_hmac)
  std::string nonce;       // "" when not required
  std::string url;         // required, non-empty
  std::string kid;         // set when the protected header had "kid"
  std::optional<Jwk> jwk;  // set when it had "jwk"   (exactly one of kid / jwk, always)
  std::string protected_b64;  // as received
  std::string payload_b64;    // as received; "" = POST-as-GET
  std::string payload;        // decoded payload bytes
  crypto::Bytes signature;    // decoded
  bool post_as_get() const { return payload_b64.empty(); }
};
// Flattened JSON serialization only (RFC 7515 7.2.2): an object with exactly "protected",
// "payload", "signature", all strings ("header" = unprotected header is refused per RFC 8555
// 6.2; "signatures" = general serialization refused). The protected header is a non-empty JSON
// object: "alg" required, never "none", HS256 only with allow_hmac (and then with "kid", never
// "jwk"); "url" required; "nonce" per options (non-empty strict base64url); exactly one of
// "jwk" (parsed with parse_jwk, its codes pass through) and "kid" (non-empty string); "crit"
// refused (we understand no extensions); "b64" other than true refused. Strict base64url
// everywhere (crypto::from_base64url); the signature must not be empty. Duplicate JSON member
// names: the last one wins (RFC 7515 4 allows this), consistently for header and signature.
// A short printable excerpt of untrusted text for messages (at most 24 characters, quotes
// and control characters replaced): a value can be 64 KiB long, and messages end up in logs
// and in problem documents.
std::string excerpt(std::string_view s);

// Whether JSON text nests objects/arrays at most `max_depth` deep (brackets inside strings
// do not count). Checked before parsing untrusted JSON: copying or serialising a deeply
// nested nlohmann::json recurses, and a request must not be able to exhaust a thread's stack.
bool json_depth_within(std::string_view text, int max_depth);

core::Result<JwsMessage> parse_jws(std::string_view body, const JwsParseOptions& options = {});
// Checks alg matches the key (RS256 <-> RSA, ES256 <-> P-256, ES384 <-> P-384; else
// Errc::not_supported) and verifies the signature over protected_b64 + "." + payload_b64.
// RSA signatures are exactly the modulus length; ECDSA signatures are raw R || S of the fixed
// size (RFC 7518 3.4). Errc::unauthenticated when it does not verify.
core::Result<void> verify_jws(const JwsMessage& msg, const Jwk& key);
// HS256 over the same signing input, constant-time comparison. Errc::not_supported when alg is
// not HS256, Errc::invalid_argument for an empty key (a server-side mistake), else
// Errc::unauthenticated when the MAC does not match.
core::Result<void> verify_jws_hmac(const JwsMessage& msg, crypto::ByteView hmac_key);
// The http-01 / tls-alpn-01 key authorization: token + "." + thumbprint (RFC 8555 8.1).
std::string key_authorization(std::string_view token, const Jwk& account_key);

}  // namespace cartorio::acme
