// Access tokens (RFC 9068 JWT profile, ES256): the checks on a token as received, apart from
// the store. IdentityService::authenticate_bearer runs them with its signing-key ring; the
// fuzzer (fuzz/access_token_fuzzer.cpp) runs the same code with a key of its own.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::identity {

inline constexpr std::string_view kAccessTokenType = "at+jwt";

struct AccessClaims {
  std::string kid;  // the signing key's (header), not signed into the claims
  std::string sub;
  std::vector<std::string> roles;
  std::string scope;  // kMfaEnrollScope, or the role names
  std::string sid;    // session (token family); empty for API-key tokens
  std::vector<std::string> amr;
  std::string client_id;
  std::string cnf_x5t;  // RFC 8705 3.1: "cnf": {"x5t#S256": ...}; empty when unbound
  std::string jti;
  std::int64_t iat = 0;
  std::int64_t exp = 0;
  std::optional<std::int64_t> nbf;
};

struct AccessTokenRules {
  std::string_view issuer;
  std::string_view audience;
  std::int64_t now = 0;  // Unix seconds
  std::int64_t leeway_seconds = 0;
  bool check_expiry = true;  // false: an expired token still decodes (revocation of its session)
};

// True when a current key named `kid` verifies the signature, false when none does; an error
// only when the keys could not be consulted.
using AccessTokenVerifier =
    std::function<core::Result<bool>(std::string_view kid, std::string_view signing_input, crypto::ByteView signature)>;

// Only what we issue: alg ES256 (a token cannot choose none, HS256 or its own key: jwk, jku
// and x5u are ignored, the kid must be one of ours), typ at+jwt, no crit, our iss and aud,
// the required claims with their types, within exp/nbf/iat give or take the leeway.
// Errc::unauthenticated with a message for the logs; a verifier error as it came.
core::Result<AccessClaims> decode_access_token(std::string_view token, const AccessTokenRules& rules,
                                               const AccessTokenVerifier& verify);

}  // namespace cartorio::identity
