// REST: OAuth 2.0 endpoints, JWKS, the caller's own account, users and API keys
// (docs/api.md, /openapi.json).
//   POST   /oauth/token                        public           RFC 6749 (form): password (+otp),
//                                                               client_credentials, refresh_token
//   POST   /oauth/revoke                       public           RFC 7009 (form): token
//   GET    /.well-known/jwks.json              public           RFC 7517
//   GET    /api/v1/me                          self:manage
//   POST   /api/v1/me/password                 self:manage      {current_password, new_password}
//   POST   /api/v1/me/mfa/totp                 self:mfa_enroll  -> {secret, otpauth_uri, qr_svg}
//   POST   /api/v1/me/mfa/totp/confirm         self:mfa_enroll  {code} -> {recovery_codes}
//   GET    /api/v1/users                       user:admin       ?limit=&offset=
//   POST   /api/v1/users                       user:admin       {username, password, roles, display_name?}
//   GET    /api/v1/users/{username}            user:admin
//   PATCH  /api/v1/users/{username}            user:admin       {roles?, disabled?, display_name?}
//   POST   /api/v1/users/{username}/mfa/reset  user:admin
//   POST   /api/v1/identity/signing-keys/rotate user:admin      -> {kid}
//   GET    /api/v1/api-keys                    api_key:admin
//   POST   /api/v1/api-keys                    api_key:admin    {name, roles} -> {key} (shown once)
//   DELETE /api/v1/api-keys/{prefix}           api_key:admin
#pragma once

#include "api/secured_router.h"
#include "identity/identity_service.h"

namespace cartorio::api {

// RFC 6749 3.2: the token endpoint takes a form body; larger bodies are refused.
inline constexpr std::size_t kMaxTokenRequestBytes = 16 * 1024;

// `identity` must outlive the router. Registering does not call the service.
// `client_certificates` maps a verified TLS client certificate to its service for the
// client_credentials grant by mutual TLS (RFC 8705); empty: that grant needs an API key.
core::Result<void> add_identity_routes(SecuredRouter& router, identity::IdentityService& identity,
                                       ClientCertificateMapper client_certificates = {});

}  // namespace cartorio::api
