// Authenticator: turns the credentials of an HTTP request into a Principal. The HTTP layer
// (api/) extracts the credential; this contract verifies it. Implemented by
// identity::IdentityService (JWT access tokens, API keys) and by the mTLS mapping.
//
// Errors: Errc::unauthenticated for anything that does not prove an identity (bad, expired,
// revoked, unknown token or key); the message says why, for the log only — clients get one
// generic answer. Errc::store_unavailable when the check needs a store that is down.
#pragma once

#include "core/error.h"
#include "identity/principal.h"

#include <string_view>

namespace cartorio::identity {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // A JWT access token from "Authorization: Bearer <token>".
  virtual core::Result<Principal> authenticate_bearer(std::string_view token) = 0;
  // An API key from "Authorization: ApiKey <key>" (or X-API-Key).
  virtual core::Result<Principal> authenticate_api_key(std::string_view key) = 0;
};

}  // namespace cartorio::identity
