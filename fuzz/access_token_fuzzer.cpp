// libFuzzer target: untrusted bearer tokens through identity/jwt (compact JWS, ES256), as
// IdentityService::authenticate_bearer reads an access token (docs/fuzzing.md).
//
// Once per process (LLVMFuzzerInitialize): an EC P-256 signing key and its RFC 7638 kid, the
// way SigningKeyRing makes them, plus a second P-256 key and a P-384 key that must never
// verify. No store: the ring's lookup is a comparison with the one kid.
//
// IdentityService::decode_access_token is private and needs the store, so the harness mirrors
// its header and claim checks (decode() below: keep the two in step) around the real
// jwt::split_compact and jwt::verify_es256, and the role check of authenticate_bearer with the
// real identity::parse_role.
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
#include "identity/jwt.h"
#include "identity/principal.h"

#include <nlohmann/json.hpp>

#include <openssl/err.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cartorio;
using core::Errc;
namespace jwt = identity::jwt;

// IdentityOptions defaults (identity_service.h) and a fixed clock, so inputs replay the same.
constexpr std::string_view kIssuer = "cartorio";
constexpr std::string_view kAudience = "cartorio-api";
constexpr std::int64_t kLeeway = 30;
constexpr std::int64_t kNow = 1'750'000'000;
constexpr std::string_view kAccessTokenType = "at+jwt";
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

// --- the mirror of IdentityService::decode_access_token (src/identity/oauth_grants.cpp) ---

std::optional<std::string> string_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::int64_t> int_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    return std::nullopt;
  return it->get<std::int64_t>();
}

std::optional<std::vector<std::string>> strings_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::vector<std::string>{};
  if (!it->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

struct Claims {
  std::string kid, sub, jti, scope, sid, cnf_x5t;
  std::int64_t exp = 0, iat = 0;
  std::optional<std::int64_t> nbf;
  std::vector<std::string> roles, amr;
};

core::Error refused(std::string why) { return core::Error(Errc::unauthenticated, std::move(why)); }

core::Result<Claims> decode(const Harness& h, std::string_view token) {
  CARTORIO_TRY(auto jws, jwt::split_compact(token));
  const auto header = nlohmann::json::parse(jws.header_json, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return refused("JWT header is not a JSON object");
  if (string_member(header, "alg") != "ES256") return refused("JWT alg is not ES256");
  const auto typ = string_member(header, "typ");
  if (typ != kAccessTokenType && typ != "application/at+jwt") return refused("JWT typ is not at+jwt");
  if (header.contains("crit")) return refused("JWT has critical header parameters");
  const auto kid = string_member(header, "kid");
  if (!kid || kid->empty()) return refused("JWT has no kid");
  // SigningKeyRing::verify: an unknown kid is false, a known one verifies with its key.
  if (*kid != h.kid || !jwt::verify_es256(h.key.get(), jws.signing_input, jws.signature))
    return refused("JWT signature does not verify with a current key");

  const auto claims = nlohmann::json::parse(jws.payload_json, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return refused("JWT claims are not a JSON object");
  if (string_member(claims, "iss") != kIssuer) return refused("JWT iss is not ours");
  bool audience_ok = string_member(claims, "aud") == kAudience;
  if (auto aud = claims.find("aud"); !audience_ok && aud != claims.end() && aud->is_array())
    for (const auto& a : *aud) audience_ok = audience_ok || (a.is_string() && a.get<std::string>() == kAudience);
  if (!audience_ok) return refused("JWT aud is not ours");

  Claims c;
  auto sub = string_member(claims, "sub");
  auto jti = string_member(claims, "jti");
  auto exp = int_member(claims, "exp");
  auto iat = int_member(claims, "iat");
  auto nbf = int_member(claims, "nbf");
  auto roles = strings_member(claims, "roles");
  auto amr = strings_member(claims, "amr");
  if (!sub || sub->empty() || !jti || !exp || !iat || !roles || !amr) return refused("JWT lacks a required claim");
  const std::int64_t now = kNow;
  const std::int64_t leeway = kLeeway;
  if (*exp + leeway <= now) return refused("JWT expired");
  if (nbf && *nbf - leeway > now) return refused("JWT not yet valid");
  if (*iat - leeway > now) return refused("JWT issued in the future");
  c.kid = *kid;
  c.sub = std::move(*sub);
  c.jti = std::move(*jti);
  c.exp = *exp;
  c.iat = *iat;
  c.nbf = nbf;
  c.roles = std::move(*roles);
  c.amr = std::move(*amr);
  c.scope = string_member(claims, "scope").value_or("");
  c.sid = string_member(claims, "sid").value_or("");
  if (auto cnf = claims.find("cnf"); cnf != claims.end()) {
    auto x5t = cnf->is_object() ? string_member(*cnf, "x5t#S256") : std::nullopt;
    if (!x5t || x5t->empty()) return refused("JWT cnf has no x5t#S256");
    c.cnf_x5t = std::move(*x5t);
  }
  // authenticate_bearer: every role must be known (unless the token only enrols MFA).
  if (c.scope != kMfaEnrollScope)
    for (const auto& name : c.roles)
      if (!identity::parse_role(name)) return refused("JWT names an unknown role");
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

void check_accepted(const Claims& c) {
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
