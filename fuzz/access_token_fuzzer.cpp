// libFuzzer target: untrusted bearer tokens through identity/jwt (compact JWS, ES256), as
// IdentityService::authenticate_bearer reads an access token (docs/fuzzing.md).
//
// Once per process (LLVMFuzzerInitialize): an EC P-256 signing key and its RFC 7638 kid, the
// way SigningKeyRing makes them, plus a second P-256 key and a P-384 key that must never
// verify. No store: the ring's lookup is a comparison with the one kid.
//
// The checks are the real ones: identity::decode_access_token (what IdentityService runs,
// without the store) with the harness key standing in for the signing-key ring, and the role
// check of authenticate_bearer with the real identity::parse_role.
//
// Every input is used twice:
//   1. as the token as received. jwt::split_compact must refuse with unauthenticated or give
//      three parts that re-encode to exactly the input (strict base64url: one token, one
//      spelling), within 8 KiB; the token must never be accepted (it was not signed by the
//      harness key, so acceptance is a forgery); verify_es256 with the other keys is false.
//   2. as content the harness signs with jwt::sign_es256: "header JSON \0 claims JSON", or,
//      without a NUL, the input as the header over fixed valid claims and fixed valid header
//      over the input as claims. Such a token (when within 8 KiB) must split back to exactly
//      what was signed and verify, and not verify with one signature bit flipped or with the
//      other key; then decode() runs the header and claim checks on the hostile JSON, and an
//      accepted token must have the fields those checks promise.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"
#include "identity/access_token.h"
#include "identity/jwt.h"
#include "identity/principal.h"

#include <openssl/err.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace cartorio;
using core::Errc;
namespace jwt = identity::jwt;

// IdentityOptions defaults (identity_service.h) and a fixed clock, so inputs replay the same.
constexpr std::string_view kIssuer = "cartorio";
constexpr std::string_view kAudience = "cartorio-api";
constexpr std::int64_t kLeeway = 30;
constexpr std::int64_t kNow = 1'750'000'000;
constexpr std::string_view kMfaEnrollScope = "mfa_enroll";
// Seeds of the second form name this kid; the harness puts the live one in its place (same
// length is not needed: the harness signs after the replacement).
constexpr std::string_view kSeedKid = "SEED-KID";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "access_token_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

struct Harness {
  crypto::PKey key;    // signs: the ring's current key
  crypto::PKey other;  // another P-256 key: a signature by `key` never verifies with it
  crypto::PKey p384;   // not ES256 at all
  std::string kid;
  bool verbose = false;  // CARTORIO_FUZZ_VERBOSE=1: the verdict on each token on stderr
};

Harness* g_harness = nullptr;

crypto::PKey must_key(crypto::KeyAlgorithm a) {
  auto k = crypto::generate_key(a);
  if (!k) die("generate_key: " + k.error().to_string());
  return std::move(*k);
}

void setup(Harness& h) {
  const char* v = std::getenv("CARTORIO_FUZZ_VERBOSE");
  h.verbose = v && *v && std::string(v) != "0";
  h.key = must_key(crypto::KeyAlgorithm::ec_p256);
  h.other = must_key(crypto::KeyAlgorithm::ec_p256);
  h.p384 = must_key(crypto::KeyAlgorithm::ec_p384);
  auto jwk = jwt::p256_public_jwk(h.key.get());
  if (!jwk) die("p256_public_jwk: " + jwk.error().to_string());
  h.kid = jwt::jwk_thumbprint(*jwk);
  if (jwt::p256_public_jwk(h.p384.get())) die("p256_public_jwk accepted a P-384 key");
}

// IdentityService::authenticate_bearer's checks on a token as received: the real
// identity::decode_access_token with the harness key as the ring (one kid), then every role
// must be known (unless the token only enrols MFA).
core::Result<identity::AccessClaims> decode(const Harness& h, std::string_view token) {
  const identity::AccessTokenRules rules{kIssuer, kAudience, kNow, kLeeway, true};
  CARTORIO_TRY(auto c, identity::decode_access_token(
                           token, rules,
                           [&h](std::string_view kid, std::string_view input, crypto::ByteView signature)
                               -> core::Result<bool> {
                             return kid == h.kid && jwt::verify_es256(h.key.get(), input, signature);
                           }));
  if (c.scope != kMfaEnrollScope)
    for (const auto& name : c.roles)
      if (!identity::parse_role(name)) return core::Error(Errc::unauthenticated, "JWT names an unknown role");
  return c;
}

// --- invariants ---------------------------------------------------------------------------

void check_split(std::string_view token, const jwt::CompactJws& jws) {
  if (token.size() > jwt::kMaxTokenBytes) die("a token over 8 KiB split");
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  if (jws.signing_input != token.substr(0, second)) die("signing_input is not the first two parts");
  if (jws.header_json.empty() || jws.payload_json.empty()) die("an empty header or payload split");
  // Strict base64url: the decoded parts spell the token again, byte for byte.
  const std::string again = crypto::to_base64url(crypto::as_bytes(jws.header_json)) + "." +
                            crypto::to_base64url(crypto::as_bytes(jws.payload_json)) + "." +
                            crypto::to_base64url(jws.signature);
  if (again != token) die("a token with a second spelling split: " + std::string(token.substr(0, 200)));
}

void as_received(const Harness& h, std::string_view token) {
  auto jws = jwt::split_compact(token);
  if (!jws) {
    if (jws.error().code != Errc::unauthenticated) die("split_compact: " + jws.error().to_string());
    return;
  }
  check_split(token, *jws);
  if (h.verbose) std::fprintf(stderr, "as received: splits\n");
  if (jwt::verify_es256(h.p384.get(), jws->signing_input, jws->signature)) die("verified with a P-384 key");
  if (auto c = decode(h, token)) die("a token the harness did not sign was accepted (kid " + c->kid + ")");
}

void check_accepted(const identity::AccessClaims& c) {
  if (c.kid.empty() || c.sub.empty()) die("accepted without kid or sub");
  if (c.exp + kLeeway <= kNow) die("an expired token accepted");
  if (c.iat - kLeeway > kNow || (c.nbf && *c.nbf - kLeeway > kNow)) die("a token from the future accepted");
}

void signed_by_harness(const Harness& h, std::string header, std::string_view claims) {
  // Seeds name kSeedKid; the live kid is this process's.
  for (auto at = header.find(kSeedKid); at != std::string::npos; at = header.find(kSeedKid, at + h.kid.size()))
    header.replace(at, kSeedKid.size(), h.kid);
  if (header.empty() || claims.empty()) return;  // split_compact refuses empty parts: nothing to learn
  auto token = jwt::sign_es256(h.key.get(), header, claims);
  if (!token) die("sign_es256: " + token.error().to_string());
  auto jws = jwt::split_compact(*token);
  if (token->size() > jwt::kMaxTokenBytes) {
    if (jws) die("a token over 8 KiB split");
    return;
  }
  if (!jws) die("a token sign_es256 made does not split: " + jws.error().to_string());
  check_split(*token, *jws);
  if (jws->header_json != header || jws->payload_json != claims) die("split does not give back what was signed");
  if (!jwt::verify_es256(h.key.get(), jws->signing_input, jws->signature)) die("a harness signature does not verify");
  if (jwt::verify_es256(h.other.get(), jws->signing_input, jws->signature)) die("verified with another key");
  crypto::Bytes flipped = jws->signature;
  flipped[claims.size() % flipped.size()] ^= 0x01;
  if (jwt::verify_es256(h.key.get(), jws->signing_input, flipped)) die("a flipped signature bit verifies");
  // The same token with the signature re-encoded as DER (what a confused client might send)
  // is not an ES256 signature.
  auto der = crypto::ecdsa_raw_to_der(jws->signature);
  if (der && jwt::verify_es256(h.key.get(), jws->signing_input, *der)) die("a DER signature verifies as ES256");
  auto c = decode(h, *token);
  if (h.verbose) std::fprintf(stderr, "signed: %s\n", c ? ("accepted, sub " + c->sub).c_str() : c.error().message.c_str());
  if (c) check_accepted(*c);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_harness = new Harness();  // lives for the process; LeakSanitizer ignores reachable globals
  setup(*g_harness);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ERR_clear_error();
  const Harness& h = *g_harness;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  as_received(h, input);

  static const std::string kHeader = R"({"alg":"ES256","typ":"at+jwt","kid":")" + std::string(kSeedKid) + R"("})";
  static const std::string kClaims =
      R"({"iss":"cartorio","sub":"user:alice","aud":"cartorio-api","iat":1750000000,"nbf":1750000000,)"
      R"("exp":1750000600,"jti":"fuzz","client_id":"cartorio","roles":["clerk"],"scope":"clerk","sid":"s1"})";
  if (const auto nul = input.find('\0'); nul != std::string_view::npos) {
    signed_by_harness(h, std::string(input.substr(0, nul)), input.substr(nul + 1));
  } else {
    signed_by_harness(h, std::string(input), kClaims);
    signed_by_harness(h, kHeader, input);
  }
  return 0;
}
