// libFuzzer target: untrusted ACME request bodies through the JOSE layer (src/acme/jws.*), as
// the ACME routes hand them over (docs/fuzzing.md). No setup, no store, no keys of its own.
//
// Every input is used twice:
//   1. as the request body, parsed with the outer options (nonce required) and the inner ones
//      (no nonce, HS256 allowed: the key-change and External Account Binding inner JWS);
//   2. as the decoded protected header of a flattened JWS the harness wraps around it, so the
//      mutations and the dictionary reach the header and JWK checks directly instead of
//      having to survive base64url.
// For every message that parses, these must hold (else abort, which libFuzzer reports):
//   - exactly one of kid / jwk; url non-empty; the nonce present exactly when required, alg
//     one of RS256/ES256/ES384 (HS256 only with allow_hmac, and then with kid); a non-empty
//     signature; payload_b64 empty exactly when the payload is (POST-as-GET);
//   - a parsed jwk: its thumbprint is base64url(SHA-256(canonical_json)); parse_jwk_text of
//     canonical_json gives the same canonical form and thumbprint; jwk_from_public_key of its
//     key gives the same thumbprint;
//   - verify_jws with that jwk and verify_jws_hmac with the seeds' EAB key return ok,
//     not_supported or unauthenticated, nothing else;
// and a refusal carries one of the documented codes (malformed_input, not_supported, weak_key,
// unsupported_key_type).
#include "acme/jws.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace cartorio;
using core::Errc;

// The MAC key the committed EAB seeds are made with (fuzz/make-acme-jws-seeds.sh): with it,
// a seed's HS256 MAC verifies and the fuzzer starts from the success path.
constexpr std::string_view kSeedEabKey = "cartorio-acme-jws-fuzz-eab-key!!";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "acme_jws_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void check_verify_result(const core::Result<void>& r, const char* what) {
  if (!r && r.error().code != Errc::not_supported && r.error().code != Errc::unauthenticated)
    die(std::string(what) + " returned an unexpected error: " + r.error().to_string());
}

void check_jwk(const acme::Jwk& jwk) {
  if (!jwk.key) die("jwk without a key");
  if (jwk.thumbprint != crypto::to_base64url(crypto::sha256(crypto::as_bytes(jwk.canonical_json))))
    die("thumbprint is not SHA-256 of the canonical JSON: " + jwk.canonical_json);
  auto again = acme::parse_jwk_text(jwk.canonical_json);
  if (!again) die("canonical JSON does not parse back: " + again.error().to_string() + ": " + jwk.canonical_json);
  if (again->thumbprint != jwk.thumbprint || again->canonical_json != jwk.canonical_json)
    die("canonical JSON round trip changed the key: " + jwk.canonical_json + " -> " + again->canonical_json);
  auto from_key = acme::jwk_from_public_key(jwk.key.get());
  if (!from_key) die("jwk_from_public_key refused a parsed key: " + from_key.error().to_string());
  if (from_key->thumbprint != jwk.thumbprint)
    die("jwk_from_public_key gives another thumbprint: " + from_key->canonical_json + " vs " + jwk.canonical_json);
}

void check_message(const acme::JwsMessage& msg, const acme::JwsParseOptions& options) {
  if (msg.kid.empty() == !msg.jwk.has_value()) die("not exactly one of kid and jwk");
  if (msg.url.empty()) die("empty url accepted");
  if (options.require_nonce == msg.nonce.empty()) die("nonce present/absent against the options");
  const bool hmac = msg.alg == "HS256";
  const bool public_key_alg = msg.alg == "RS256" || msg.alg == "ES256" || msg.alg == "ES384";
  if (hmac ? !options.allow_hmac || msg.jwk.has_value() : !public_key_alg) die("alg accepted: " + msg.alg);
  if (msg.signature.empty() || msg.protected_b64.empty()) die("empty signature or protected header accepted");
  if (msg.payload_b64.empty() != msg.payload.empty()) die("POST-as-GET does not match the payload");

  if (msg.jwk) {
    check_jwk(*msg.jwk);
    check_verify_result(acme::verify_jws(msg, *msg.jwk), "verify_jws");
  }
  check_verify_result(acme::verify_jws_hmac(msg, crypto::as_bytes(kSeedEabKey)), "verify_jws_hmac");
}

void parse_both_ways(std::string_view body) {
  acme::JwsParseOptions outer;
  acme::JwsParseOptions inner;
  inner.require_nonce = false;
  inner.allow_hmac = true;
  for (const auto& options : {outer, inner}) {
    auto msg = acme::parse_jws(body, options);
    if (msg) {
      check_message(*msg, options);
    } else if (const auto code = msg.error().code; code != Errc::malformed_input && code != Errc::not_supported &&
                                                   code != Errc::weak_key && code != Errc::unsupported_key_type) {
      die("parse_jws returned an undocumented error: " + msg.error().to_string());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  parse_both_ways(input);

  // The input as the protected header; a fixed payload and a 64-byte signature (never valid).
  static const std::string kTail =
      R"(","payload":"e30","signature":")" + crypto::to_base64url(crypto::Bytes(64, 0x42)) + R"("})";
  if (size > 0) parse_both_ways(R"({"protected":")" + crypto::to_base64url(crypto::as_bytes(input)) + kTail);
  return 0;
}
