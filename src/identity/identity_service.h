// IdentityService: who may call the API, and how they prove it (docs/identity.md).
//
//   users        argon2id passwords, roles, disable, lockout after repeated failures
//   MFA          TOTP (RFC 6238) mandatory for every human account (any role but
//                `service`); single-use recovery codes
//   OAuth2       token endpoint logic (RFC 6749): password (+ otp), client_credentials
//                (API keys), refresh_token (rotating, reuse detection); revocation (RFC 7009)
//   access tokens JWT ES256 (RFC 9068 "at+jwt"), keys in the KeyStore, JWKS, rotation
//   API keys     "ck_<prefix>_<secret>", stored as SHA-256 of the secret
//
// It implements identity::Authenticator for api::SecuredRouter. Depends on interfaces only
// (store repositories, KeyStore, Cache, Clock); app/ wires the backends.
//
// No user enumeration: an unknown user, a wrong password, a missing or wrong OTP, a
// disabled or locked account all end in the same invalid_grant, after the same argon2 work.
// Login attempts are throttled by token buckets in the Cache (per username and per source
// address, shared by every instance on Redis) and stored lockouts.
//
// Every state change writes an audit event (store::AuditLog): actor, action
// ("identity.user.create", "identity.login", ...), target ("user:alice", "apikey:<prefix>"),
// result. Secrets (passwords, OTPs, recovery codes, tokens, keys) are never logged,
// audited or put in error messages.
//
// Errors of the admin and self-service calls: Errc::invalid_argument (bad username,
// password policy, roles), Errc::not_found (no such user / API key), Errc::already_exists
// (username taken), Errc::conflict (MFA already enabled / nothing pending),
// Errc::unauthenticated (wrong current password or OTP code; not a user), Errc::rate_limited
// is not used: throttling shows as GrantError::slow_down or Errc::permission_denied with a
// message; store and key backend errors pass through (store_unavailable, key_backend...).
//
// Thread-safety: every member may be called concurrently.
#pragma once

#include "cache/cache.h"
#include "core/clock.h"
#include "crypto/secret_bytes.h"
#include "identity/authenticator.h"
#include "identity/password.h"
#include "identity/signing_key_ring.h"
#include "keys/key_store.h"
#include "store/store.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cartorio::identity {

struct LoginThrottle {
  // Token buckets taken on every password attempt (and current-password check).
  cache::TokenBucket per_username{5, 1.0 / 30};  // 5 at once, then one every 30 s
  cache::TokenBucket per_source{30, 0.5};        // 30 at once, then one every 2 s
  int lockout_after = 10;                        // consecutive failures lock the account...
  std::chrono::seconds lockout{15 * 60};         // ...for this long
};

struct IdentityOptions {
  std::string issuer = "cartorio";        // "iss"; app/ sets the public base URL
  std::string audience = "cartorio-api";  // "aud"
  std::string client_id = "cartorio";     // "client_id" of password-grant tokens (the portal)
  std::chrono::seconds access_token_ttl{10 * 60};
  std::chrono::seconds mfa_enroll_token_ttl{10 * 60};  // the restricted "mfa_enroll" token
  std::chrono::seconds refresh_token_ttl{30 * 24 * 3600};
  std::chrono::seconds clock_leeway{30};               // on exp / nbf / iat
  std::chrono::seconds signing_key_cache_ttl{30};      // see SigningKeyRing
  std::chrono::seconds api_key_use_interval{60};       // last_used_at written at most this often
  PasswordParams password{};
  LoginThrottle throttle{};
  std::string totp_issuer = "Cartorio Digital";
};

// The repositories the service uses (a store::Store provides them all: of(store)).
struct IdentityStores {
  store::UserRepository* users = nullptr;
  store::MfaRepository* mfa = nullptr;
  store::RefreshTokenRepository* tokens = nullptr;
  store::ApiKeyRepository* api_keys = nullptr;
  store::SigningKeyRepository* signing_keys = nullptr;
  store::AuditLog* audit = nullptr;

  static IdentityStores of(store::Store& s) { return {&s, &s, &s, &s, &s, &s}; }
};

// Who asks for a change, for the audit trail.
struct Actor {
  std::string subject;          // "user:alice", "apikey:ab12cd34", "cli"
  std::string source = "local";  // remote address, or "local"
  std::string request_id;
};

// Usernames: 1..64 of [A-Za-z0-9._@-], starting with a letter or digit; unique ignoring
// ASCII case. Errc::invalid_argument.
core::Result<void> validate_username(std::string_view username);
// True for every role set except one made of `service` only (humans need MFA).
bool requires_mfa(const std::vector<Role>& roles);

struct UserView {
  std::string username;
  std::string display_name;
  std::vector<Role> roles;
  bool mfa_enabled = false;
  bool mfa_required = false;
  bool disabled = false;
  std::int64_t locked_until = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct NewUser {
  std::string username;
  std::string display_name;
  std::vector<Role> roles;
  std::string password;  // initial password; must pass check_password_policy
};

struct UserChange {
  std::optional<std::vector<Role>> roles;  // changing roles ends the user's sessions
  std::optional<bool> disabled;            // disabling ends them; enabling lifts a lockout
  std::optional<std::string> display_name;
};

struct TotpEnrollment {
  std::string secret_base32;  // for manual entry
  std::string otpauth_uri;
  std::string qr_svg;         // the URI as a QR code, SVG document text
};

struct ApiKeyView {
  std::string prefix;  // the client_id; the secret is never shown again
  std::string name;
  std::vector<Role> roles;
  std::string owner;
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
  std::int64_t revoked_at = 0;
};

struct CreatedApiKey {
  std::string key;  // "ck_<prefix>_<secret>": shown once
  ApiKeyView info;
};

// --- OAuth 2.0 token endpoint (RFC 6749) -------------------------------------------------

struct TokenRequest {
  std::string grant_type;     // "password" | "client_credentials" | "refresh_token"
  std::string username;       // password grant
  std::string password;
  std::string otp;            // TOTP code, or a recovery code
  std::string client_id;      // client_credentials: "ck_<prefix>" or "<prefix>"
  std::string client_secret;  //                     the API key
  std::string refresh_token;  // refresh_token grant
  // client_credentials by mutual TLS (RFC 8705 2): the service the verified client
  // certificate maps to (set by the HTTP layer), and that certificate's thumbprint
  // (base64url SHA-256 of its DER), which the access token is bound to.
  std::optional<Principal> certificate_client;
  std::string certificate_thumbprint;
  std::string source;         // caller's address: throttling and audit
  std::string request_id;
};

struct TokenResponse {  // RFC 6749 5.1
  std::string access_token;
  std::string token_type = "Bearer";
  std::int64_t expires_in = 0;
  std::string refresh_token;  // empty: none issued
  std::string scope;          // "mfa_enroll" for the restricted token, else the role names
};

enum class OAuthError {
  invalid_request,          // 400
  invalid_client,           // 401
  invalid_grant,            // 400
  unsupported_grant_type,   // 400
  slow_down,                // 429 (throttled; RFC 8628's code), with Retry-After
  temporarily_unavailable,  // 503 (a backend is down)
};
std::string_view to_string(OAuthError e);
int http_status(OAuthError e);

struct GrantError {  // RFC 6749 5.2
  OAuthError error = OAuthError::invalid_request;
  std::string description;  // generic: never says which credential was wrong
  std::chrono::seconds retry_after{0};
};

class GrantResult {
 public:
  GrantResult(TokenResponse t) : m_v(std::move(t)) {}  // NOLINT: implicit by design
  GrantResult(GrantError e) : m_v(std::move(e)) {}     // NOLINT
  bool ok() const { return m_v.index() == 0; }
  const TokenResponse& tokens() const { return std::get<0>(m_v); }
  const GrantError& error() const { return std::get<1>(m_v); }

 private:
  std::variant<TokenResponse, GrantError> m_v;
};

// RFC 8705 3.1 "x5t#S256" of a certificate from the hex SHA-256 of its DER: base64url, no
// padding; "" for anything but 64 hex digits.
std::string x5t_s256(std::string_view sha256_hex);

// Access-token "scope" of a user who must enrol MFA first.
inline constexpr std::string_view kMfaEnrollScope = "mfa_enroll";

struct AccessClaims;  // identity/access_token.h

class IdentityService final : public Authenticator {
 public:
  // `data_key`: 32 bytes (the identity data key; TOTP secrets are sealed under a key
  // derived from it, recovery codes MACed with another). Every pointer in `stores` is
  // required. All references must outlive the service.
  // Errc::config_invalid for a bad key size, missing repository or bad options.
  static core::Result<std::unique_ptr<IdentityService>> create(IdentityStores stores, keys::KeyStore& keys,
                                                               cache::Cache& cache, const core::Clock& clock,
                                                               crypto::SecretBytes data_key,
                                                               IdentityOptions options = {});

  // --- Authenticator ---
  // An ES256 "at+jwt" access token of ours: signature, kid, iss, aud, exp/nbf/iat (with
  // leeway), and its session (sid) or API key still live.
  core::Result<Principal> authenticate_bearer(std::string_view token) override;
  core::Result<Principal> authenticate_api_key(std::string_view key) override;

  // --- OAuth 2.0 ---
  GrantResult grant(const TokenRequest& req);
  // RFC 7009: a refresh token, or one of our access tokens, ends its session (family).
  // Unknown or malformed tokens are ignored (success); errors only for backends.
  core::Result<void> revoke(std::string_view token, const Actor& actor);
  // Browser sessions (api/portal_routes.h) keep the access token in an HttpOnly cookie;
  // a request that changes something must also carry this token (CSRF), which only the
  // portal's own script can have read. A keyed MAC of the access token: stateless, the same
  // on every instance sharing the identity data key, new with every token.
  std::string session_csrf_token(std::string_view access_token) const;
  bool session_csrf_token_ok(std::string_view access_token, std::string_view presented) const;
  // RFC 7517 JWK Set of the keys that may have signed a live token.
  core::Result<std::string> jwks_json();
  // New current signing key; returns its kid.
  core::Result<std::string> rotate_signing_key(const Actor& actor);
  // The current kid, creating the first signing key when none exists (app/ at start-up).
  core::Result<std::string> ensure_signing_key();

  // --- users (user_admin) ---
  core::Result<UserView> create_user(const Actor& actor, const NewUser& user);
  core::Result<std::vector<UserView>> list_users(int limit = 100, int offset = 0);
  core::Result<UserView> get_user(std::string_view username);
  core::Result<UserView> update_user(const Actor& actor, std::string_view username, const UserChange& change);
  // Removes TOTP and recovery codes; the user must enrol again at next login. Ends sessions.
  core::Result<void> reset_mfa(const Actor& actor, std::string_view username);
  // Administrative password reset (CLI). Ends the user's sessions.
  core::Result<void> set_password(const Actor& actor, std::string_view username, std::string_view new_password);

  // --- self-service: `actor.subject` is "user:<username>" ---
  core::Result<UserView> me(const Actor& actor);
  // Errc::conflict when TOTP is already enabled (an admin reset comes first).
  core::Result<TotpEnrollment> start_totp_enrollment(const Actor& actor);
  // The 10 recovery codes, shown once. Errc::unauthenticated for a wrong code.
  core::Result<std::vector<std::string>> confirm_totp_enrollment(const Actor& actor, std::string_view code);
  // Errc::unauthenticated for a wrong current password, Errc::permission_denied when
  // throttled. Ends the user's sessions (log in again with the new password).
  core::Result<void> change_password(const Actor& actor, std::string_view current_password,
                                     std::string_view new_password);

  // --- API keys (api_key_admin) ---
  core::Result<CreatedApiKey> create_api_key(const Actor& actor, std::string_view name, const std::vector<Role>& roles);
  core::Result<std::vector<ApiKeyView>> list_api_keys();
  core::Result<void> revoke_api_key(const Actor& actor, std::string_view prefix);

  // Only create() can make the key.
  class Key {
    friend class IdentityService;
    Key() = default;
  };
  IdentityService(Key, const IdentityStores& stores, keys::KeyStore& keys, cache::Cache& cache,
                  const core::Clock& clock, const crypto::SecretBytes& data_key, IdentityOptions options);
  ~IdentityService() override;
  IdentityService(const IdentityService&) = delete;
  IdentityService& operator=(const IdentityService&) = delete;

 private:
  struct Issued;

  GrantResult grant_password(const TokenRequest& req);
  GrantResult grant_client_credentials(const TokenRequest& req);
  GrantResult grant_certificate_bound(const TokenRequest& req);
  // Signs a client_credentials token for `claims` (sub, roles, client_id and binding set;
  // scope, jti and lifetime filled here) and audits the login.
  GrantResult issue_client_token(AccessClaims claims, const TokenRequest& req, std::string_view audit_details);
  GrantResult grant_refresh(const TokenRequest& req);

  core::Result<AccessClaims> decode_access_token(std::string_view token, bool check_expiry);
  core::Result<std::string> sign_access_token(const AccessClaims& claims);
  core::Result<Issued> start_session(const store::UserRecord& user, const std::vector<std::string>& amr,
                                     bool restricted);
  std::optional<GrantError> throttle_login(std::string_view username, std::string_view source);
  core::Result<bool> check_second_factor(const store::UserRecord& user, std::string_view otp);
  core::Result<store::UserRecord> user_of(const Actor& actor);
  core::Result<store::UserRecord> find_user(std::string_view username);
  core::Result<Principal> api_key_principal(std::string_view key, bool record_use);
  void end_sessions(const store::UserRecord& user, const Actor& actor, std::string_view why);
  // Policy check, argon2id hash, stored (set_password and change_password).
  core::Result<void> store_password(const store::UserRecord& user, std::string_view new_password);

  std::string seal_totp_secret(const store::UserRecord& user, crypto::ByteView secret) const;
  core::Result<crypto::SecretBytes> open_totp_secret(const store::UserRecord& user) const;
  std::string recovery_code_hash(const std::string& user_id, std::string_view code) const;

  void audit(const Actor& actor, std::string action, std::string target, std::string result,
             std::string details = "{}");
  std::int64_t now_unix() const;

  IdentityStores m_stores;
  keys::KeyStore& m_keys;
  cache::Cache& m_cache;
  const core::Clock& m_clock;
  const IdentityOptions m_options;
  crypto::SecretBytes m_totp_key;      // derived from the data key: seals TOTP secrets
  crypto::SecretBytes m_recovery_key;  // derived from the data key: MACs recovery codes
  crypto::SecretBytes m_csrf_key;      // derived from the data key: MACs session CSRF tokens
  PasswordHasher m_passwords;
  SigningKeyRing m_ring;
};

}  // namespace cartorio::identity
