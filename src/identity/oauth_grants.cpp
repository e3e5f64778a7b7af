// IdentityService: OAuth 2.0 grants (RFC 6749 4.3, 4.4, 6), revocation (RFC 7009), JWT
// access tokens (RFC 9068 profile, ES256) and the Authenticator side.
#include "identity/identity_service.h"

#include "core/log.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "identity/access_token.h"
#include "identity/detail/identity_util.h"
#include "identity/jwt.h"
#include "identity/totp.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace cartorio::identity {

using core::Errc;
using core::Error;
using detail::join;
using detail::parse_roles;
using detail::role_names;

struct IdentityService::Issued {
  std::string access_token;
  std::int64_t expires_in = 0;
  std::string refresh_token;
  std::string scope;
  std::string sid;
};

namespace {

constexpr std::string_view kApiKeyPrefix = "ck_";
constexpr std::size_t kApiKeyPrefixChars = 8;
// "ck_" + 8 + "_" + 43
constexpr std::size_t kApiKeyChars = 3 + kApiKeyPrefixChars + 1 + detail::kOpaqueTokenChars;
// Bounds on what a login may make us hash: more is refused before any work.
constexpr std::size_t kMaxLoginInputBytes = 1024;

const char* const kBadCredentials = "the credentials are not valid";

GrantError grant_error(OAuthError e, std::string description) { return GrantError{e, std::move(description), {}}; }

GrantError invalid_grant() { return grant_error(OAuthError::invalid_grant, kBadCredentials); }

GrantError unavailable(std::string_view what, const Error& e) {
  core::log::error("identity.grant_backend_failed", {{"step", what}, {"error", e.to_string()}});
  return grant_error(OAuthError::temporarily_unavailable, "the service is temporarily unavailable");
}

Error refused(std::string why) { return Error(Errc::unauthenticated, std::move(why)); }

// A backend failure while checking a credential is not a verdict on the credential: the
// Authenticator contract reports it as store_unavailable (503), never as a 401.
Error backend(const Error& e) {
  return e.code == Errc::store_unavailable ? e : Error(Errc::store_unavailable, e.to_string());
}

}  // namespace

std::string x5t_s256(std::string_view sha256_hex) {
  auto digest = crypto::from_hex(sha256_hex);
  if (!digest || digest->size() != 32) return {};
  return crypto::to_base64url(*digest);
}

// --- access tokens ------------------------------------------------------------------------

core::Result<std::string> IdentityService::sign_access_token(const AccessClaims& c) {
  nlohmann::json claims = {{"iss", m_options.issuer},
                           {"sub", c.sub},
                           {"aud", m_options.audience},
                           {"iat", c.iat},
                           {"nbf", c.iat},
                           {"exp", c.exp},
                           {"jti", c.jti},
                           {"client_id", c.client_id},
                           {"roles", c.roles},
                           {"scope", c.scope}};
  if (!c.sid.empty()) claims["sid"] = c.sid;
  if (!c.amr.empty()) claims["amr"] = c.amr;
  if (!c.cnf_x5t.empty()) claims["cnf"] = {{"x5t#S256", c.cnf_x5t}};
  return m_ring.sign(kAccessTokenType, claims.dump());
}

core::Result<AccessClaims> IdentityService::decode_access_token(std::string_view token, bool check_expiry) {
  const AccessTokenRules rules{m_options.issuer, m_options.audience, now_unix(), m_options.clock_leeway.count(),
                               check_expiry};
  return identity::decode_access_token(
      token, rules, [this](std::string_view kid, std::string_view signing_input, crypto::ByteView signature) {
        auto verified = m_ring.verify(kid, signing_input, signature);
        if (!verified) return core::Result<bool>(backend(verified.error()));
        return verified;
      });
}

core::Result<Principal> IdentityService::authenticate_bearer(std::string_view token) {
  CARTORIO_TRY(auto c, decode_access_token(token, true));
  Principal p;
  p.subject = c.sub;
  p.method = AuthMethod::bearer_token;
  p.token_id = c.jti;
  if (c.scope == kMfaEnrollScope) {
    p.mfa_enrollment_only = true;  // no roles, whatever the claim says
  } else {
    for (const auto& name : c.roles) {
      auto r = parse_role(name);
      if (!r) return refused("JWT names an unknown role");
      p.roles.push_back(*r);
    }
  }
  // The session or key behind the token must still be live: one primary-key read.
  if (!c.sid.empty()) {
    auto family = m_stores.tokens->get_token_family(c.sid);
    if (!family && family.error().code == Errc::not_found) return refused("JWT session is unknown");
    if (!family) return backend(family.error());
    if (family->revoked_at != 0) return refused("JWT session was revoked");
  } else if (c.sub.starts_with("apikey:")) {
    auto key = m_stores.api_keys->get_api_key(c.sub.substr(7));
    if (!key && key.error().code == Errc::not_found) return refused("JWT API key is unknown");
    if (!key) return backend(key.error());
    if (key->revoked_at != 0) return refused("JWT API key was revoked");
  } else if (c.cnf_x5t.empty() || !c.sub.starts_with("service:")) {
    return refused("JWT has neither a session, an API key nor a certificate binding");
  }
  // A token bound to a client certificate (RFC 8705) is only good with that certificate:
  // the HTTP layer checks that the connection presents it and that it is still accepted.
  p.certificate_thumbprint = c.cnf_x5t;
  return p;
}

core::Result<Principal> IdentityService::authenticate_api_key(std::string_view key) {
  return api_key_principal(key, true);
}

core::Result<Principal> IdentityService::api_key_principal(std::string_view key, bool record_use) {
  if (key.size() != kApiKeyChars || !key.starts_with(kApiKeyPrefix) || key[3 + kApiKeyPrefixChars] != '_')
    return refused("not an API key");
  const std::string prefix(key.substr(3, kApiKeyPrefixChars));
  const std::string_view secret = key.substr(3 + kApiKeyPrefixChars + 1);
  if (!std::all_of(prefix.begin(), prefix.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }) ||
      !detail::is_opaque_token(secret))
    return refused("not an API key");
  auto rec = m_stores.api_keys->get_api_key(prefix);
  if (!rec && rec.error().code == Errc::not_found) return refused("unknown API key");
  if (!rec) return backend(rec.error());
  const std::string hash = detail::sha256_hex(secret);
  if (!crypto::constant_time_equal(crypto::as_bytes(hash), crypto::as_bytes(rec->secret_hash)))
    return refused("wrong API key secret");
  if (rec->revoked_at != 0) return refused("API key revoked");
  // The record just read shows a use within the interval: nothing to write, and no wait for
  // the store's writer (on SQLite every request would queue behind the running commit).
  const auto now = now_unix();
  if (record_use && rec->last_used_at < now - m_options.api_key_use_interval.count()) {
    if (auto r = m_stores.api_keys->record_api_key_use(prefix, now, now - m_options.api_key_use_interval.count()); !r)
      core::log::warn("identity.api_key_use_not_recorded", {{"prefix", prefix}, {"error", r.error().to_string()}});
  }
  Principal p;
  p.subject = "apikey:" + prefix;
  p.roles = parse_roles(rec->roles);
  p.method = AuthMethod::api_key;
  p.token_id = prefix;
  return p;
}

// --- grants ---------------------------------------------------------------------------------

GrantResult IdentityService::grant(const TokenRequest& req) {
  if (req.grant_type == "password") return grant_password(req);
  if (req.grant_type == "client_credentials") return grant_client_credentials(req);
  if (req.grant_type == "refresh_token") return grant_refresh(req);
  if (req.grant_type.empty()) return grant_error(OAuthError::invalid_request, "grant_type is required");
  return grant_error(OAuthError::unsupported_grant_type,
                     "supported grant types: password, client_credentials, refresh_token");
}

std::optional<GrantError> IdentityService::throttle_login(std::string_view username, std::string_view source) {
  // Bucket names hold no username in clear (it may be a password typed in the wrong field).
  const std::string user_bucket = "identity:login:user:" + detail::sha256_hex(detail::ascii_lower(username)).substr(0, 32);
  std::vector<std::pair<std::string, const cache::TokenBucket*>> buckets = {
      {user_bucket, &m_options.throttle.per_username}};
  if (!source.empty()) buckets.emplace_back("identity:login:source:" + std::string(source), &m_options.throttle.per_source);
  for (const auto& [name, spec] : buckets) {
    auto g = m_cache.take_token(name, *spec);
    if (!g) {
      // Fail closed: without the throttle, guessing would be unbounded.
      core::log::error("identity.throttle_unavailable", {{"error", g.error().to_string()}});
      return grant_error(OAuthError::temporarily_unavailable, "the service is temporarily unavailable");
    }
    if (!g->allowed) {
      const auto seconds = std::max<std::int64_t>(
          1, static_cast<std::int64_t>(std::ceil(static_cast<double>(g->retry_after.count()) / 1000.0)));
      return GrantError{OAuthError::slow_down, "too many attempts; retry later", std::chrono::seconds(seconds)};
    }
  }
  return std::nullopt;
}

core::Result<bool> IdentityService::check_second_factor(const store::UserRecord& user, std::string_view otp) {
  if (otp.empty() || otp.size() > 64) return false;
  const bool looks_totp =
      otp.size() == static_cast<std::size_t>(totp::kDigits) && std::all_of(otp.begin(), otp.end(), [](char c) {
        return c >= '0' && c <= '9';
      });
  if (looks_totp) {
    CARTORIO_TRY(auto secret, open_totp_secret(user));
    auto step = totp::match(secret.view(), otp, totp::time_step(m_clock.now()));
    if (!step) return false;
    // Replay guard shared by every instance: each step is accepted once, and never an
    // older one than the last accepted.
    return m_stores.mfa->use_totp_step(user.id, *step);
  }
  return m_stores.mfa->use_recovery_code(user.id, recovery_code_hash(user.id, otp), now_unix());
}

core::Result<IdentityService::Issued> IdentityService::start_session(const store::UserRecord& user,
                                                                     const std::vector<std::string>& amr,
                                                                     bool restricted) {
  const std::int64_t now = now_unix();
  store::TokenFamilyRecord family;
  family.id = detail::random_id("sid_", 16);
  family.user_id = user.id;
  family.amr = amr;
  family.created_at = now;

  Issued out;
  out.sid = family.id;
  AccessClaims c;
  c.sub = "user:" + user.username;
  c.sid = family.id;
  c.amr = amr;
  c.client_id = m_options.client_id;
  c.jti = crypto::to_base64url(crypto::random_bytes(16));
  c.iat = now;
  std::optional<store::NewRefreshToken> first;
  if (restricted) {
    c.scope = std::string(kMfaEnrollScope);
    c.exp = now + m_options.mfa_enroll_token_ttl.count();
  } else {
    c.roles = role_names(parse_roles(user.roles));
    c.scope = join(c.roles, " ");
    c.exp = now + m_options.access_token_ttl.count();
    out.refresh_token = detail::random_opaque_token();
    first = store::NewRefreshToken{detail::random_id("rt_", 12), detail::sha256_hex(out.refresh_token),
                                   now + m_options.refresh_token_ttl.count()};
  }
  CARTORIO_TRY(out.access_token, sign_access_token(c));
  CARTORIO_TRY_VOID(m_stores.tokens->create_token_family(family, first));
  out.expires_in = c.exp - now;
  out.scope = c.scope;
  return out;
}

GrantResult IdentityService::grant_password(const TokenRequest& req) {
  if (req.username.empty() || req.password.empty())
    return grant_error(OAuthError::invalid_request, "username and password are required");
  if (auto throttled = throttle_login(req.username, req.source)) return *throttled;

  Actor actor{"anonymous", req.source, req.request_id};
  auto fail = [&](std::string target, std::string_view reason) -> GrantResult {
    audit(actor, "identity.login", std::move(target), "failure",
          nlohmann::json{{"grant", "password"}, {"reason", reason}}.dump());
    return invalid_grant();
  };
  if (req.username.size() > kMaxLoginInputBytes || req.password.size() > kMaxLoginInputBytes ||
      req.otp.size() > kMaxLoginInputBytes)
    return fail("", "oversized input");

  auto found = validate_username(req.username) ? m_stores.users->find_user(req.username)
                                               : core::Result<store::UserRecord>(Errc::not_found, "bad username");
  if (!found && found.error().code != Errc::not_found) return unavailable("find user", found.error());
  if (!found) {
    // Same work as for a real account, so timing does not tell which usernames exist.
    m_passwords.dummy_verify(req.password);
    return fail("", "unknown user");  // the attempted name is not recorded: it may be a password
  }
  const store::UserRecord& user = *found;
  const std::string target = "user:" + user.username;
  const std::int64_t now = now_unix();
  if (user.disabled) {
    m_passwords.dummy_verify(req.password);
    return fail(target, "disabled");
  }
  if (user.locked_until > now) {
    m_passwords.dummy_verify(req.password);
    return fail(target, "locked");
  }

  auto count_failure = [&](std::string_view reason) -> GrantResult {
    auto f = m_stores.users->record_login_failure(user.id, m_options.throttle.lockout_after,
                                                  now + m_options.throttle.lockout.count());
    if (!f) core::log::error("identity.failure_not_recorded", {{"error", f.error().to_string()}});
    if (f && f->locked_until > now && user.locked_until != f->locked_until)
      audit(actor, "identity.user.locked", target, "success",
            nlohmann::json{{"until", f->locked_until}, {"after_failures", m_options.throttle.lockout_after}}.dump());
    return fail(target, reason);
  };
  if (!m_passwords.verify(req.password, user.password_hash)) return count_failure("bad password");

  const auto roles = parse_roles(user.roles);
  const bool mfa = requires_mfa(roles);
  std::vector<std::string> amr = {"pwd"};
  if (mfa && user.totp_enabled) {
    auto second = check_second_factor(user, req.otp);
    if (!second) return unavailable("second factor", second.error());
    if (!*second) return count_failure(req.otp.empty() ? "otp missing" : "bad otp");
    amr = {"pwd", req.otp.size() == static_cast<std::size_t>(totp::kDigits) ? "otp" : "rc", "mfa"};
  }
  if (user.failed_logins > 0 || user.locked_until != 0)
    if (auto r = m_stores.users->clear_login_failures(user.id); !r)
      core::log::warn("identity.failures_not_cleared", {{"error", r.error().to_string()}});
  if (m_passwords.needs_rehash(user.password_hash)) {
    // Raised parameters apply at the next login, when the password is at hand.
    store::UserUpdate u;
    auto h = m_passwords.hash(req.password);
    if (h) {
      u.password_hash = std::move(*h);
      u.updated_at = now;
      (void)m_stores.users->update_user(user.id, u);
    }
  }

  const bool restricted = mfa && !user.totp_enabled;
  auto issued = start_session(user, amr, restricted);
  if (!issued) return unavailable("issue tokens", issued.error());
  actor.subject = target;
  audit(actor, "identity.login", target, "success",
        nlohmann::json{{"grant", "password"}, {"amr", amr}, {"sid", issued->sid}, {"mfa_enroll_only", restricted}}
            .dump());
  return TokenResponse{issued->access_token, "Bearer", issued->expires_in, issued->refresh_token, issued->scope};
}

GrantResult IdentityService::grant_client_credentials(const TokenRequest& req) {
  const Actor anonymous{"anonymous", req.source, req.request_id};
  if (req.client_secret.empty() && req.certificate_client) return grant_certificate_bound(req);
  if (req.client_secret.empty()) return grant_error(OAuthError::invalid_client, "client authentication failed");
  auto principal = api_key_principal(req.client_secret, true);
  if (!principal) {
    if (principal.error().code == Errc::store_unavailable) return unavailable("api key", principal.error());
    audit(anonymous, "identity.login", "", "failure", R"({"grant":"client_credentials","reason":"bad client"})");
    return grant_error(OAuthError::invalid_client, "client authentication failed");
  }
  const std::string& prefix = principal->token_id;
  if (!req.client_id.empty() && req.client_id != prefix && req.client_id != std::string(kApiKeyPrefix) + prefix) {
    audit(anonymous, "identity.login", principal->subject, "failure",
          R"({"grant":"client_credentials","reason":"client_id does not match the key"})");
    return grant_error(OAuthError::invalid_client, "client authentication failed");
  }
  AccessClaims c;
  c.sub = principal->subject;
  c.roles = role_names(principal->roles);
  c.client_id = std::string(kApiKeyPrefix) + prefix;
  return issue_client_token(std::move(c), req, R"({"grant":"client_credentials"})");
}

GrantResult IdentityService::grant_certificate_bound(const TokenRequest& req) {
  const Principal& service = *req.certificate_client;
  if (service.roles.empty() || req.certificate_thumbprint.empty() || !service.subject.starts_with("service:"))
    return grant_error(OAuthError::invalid_client, "client authentication failed");
  AccessClaims c;
  c.sub = service.subject;
  c.roles = role_names(service.roles);
  c.client_id = service.subject;
  c.amr = {"mtls"};
  c.cnf_x5t = req.certificate_thumbprint;
  return issue_client_token(std::move(c), req, R"({"grant":"client_credentials","client_auth":"tls_client_auth"})");
}

GrantResult IdentityService::issue_client_token(AccessClaims c, const TokenRequest& req, std::string_view audit_details) {
  const std::int64_t now = now_unix();
  c.scope = join(c.roles, " ");
  c.jti = crypto::to_base64url(crypto::random_bytes(16));
  c.iat = now;
  c.exp = now + m_options.access_token_ttl.count();
  auto token = sign_access_token(c);
  if (!token) return unavailable("sign", token.error());
  audit(Actor{c.sub, req.source, req.request_id}, "identity.login", c.sub, "success", std::string(audit_details));
  // No refresh token (RFC 6749 4.4.3): the client authenticates again.
  return TokenResponse{*token, "Bearer", c.exp - now, "", c.scope};
}

GrantResult IdentityService::grant_refresh(const TokenRequest& req) {
  if (req.refresh_token.empty()) return grant_error(OAuthError::invalid_request, "refresh_token is required");
  Actor actor{"anonymous", req.source, req.request_id};
  if (!detail::is_opaque_token(req.refresh_token)) return invalid_grant();
  const std::int64_t now = now_unix();
  const std::string next_token = detail::random_opaque_token();
  const store::NewRefreshToken next{detail::random_id("rt_", 12), detail::sha256_hex(next_token),
                                    now + m_options.refresh_token_ttl.count()};
  auto rotation = m_stores.tokens->rotate_refresh_token(detail::sha256_hex(req.refresh_token), next, now);
  if (!rotation) return unavailable("rotate refresh token", rotation.error());

  auto user = rotation->outcome == store::RefreshOutcome::unknown
                  ? core::Result<store::UserRecord>(Errc::not_found, "unknown token")
                  : m_stores.users->get_user(rotation->presented.user_id);
  const std::string target = user ? "user:" + user->username : "";
  auto fail = [&](std::string_view reason) -> GrantResult {
    audit(actor, "identity.token.refresh", target, "failure",
          nlohmann::json{{"reason", reason}, {"sid", rotation->family.id}}.dump());
    return grant_error(OAuthError::invalid_grant, "the refresh token is not valid");
  };
  switch (rotation->outcome) {
    case store::RefreshOutcome::unknown: return fail("unknown");
    case store::RefreshOutcome::expired: return fail("expired");
    case store::RefreshOutcome::revoked: return fail("revoked");
    case store::RefreshOutcome::reused:
      core::log::warn("identity.refresh_token_reuse", {{"sid", rotation->family.id}});
      audit(actor, "identity.token.reuse_detected", target, "success",
            nlohmann::json{{"sid", rotation->family.id}, {"action", "session revoked"}}.dump());
      return fail("reused");
    case store::RefreshOutcome::rotated: break;
  }
  if (!user) return unavailable("load user", user.error());
  const auto roles = parse_roles(user->roles);
  const bool has_mfa = std::find(rotation->family.amr.begin(), rotation->family.amr.end(), "mfa") !=
                       rotation->family.amr.end();
  if (user->disabled || (requires_mfa(roles) && !has_mfa)) {
    // The account changed since the login: the session ends here.
    (void)m_stores.tokens->revoke_token_family(rotation->family.id, now);
    return fail(user->disabled ? "disabled" : "mfa now required");
  }
  AccessClaims c;
  c.sub = target;
  c.roles = role_names(roles);
  c.scope = join(c.roles, " ");
  c.sid = rotation->family.id;
  c.amr = rotation->family.amr;
  c.client_id = m_options.client_id;
  c.jti = crypto::to_base64url(crypto::random_bytes(16));
  c.iat = now;
  c.exp = now + m_options.access_token_ttl.count();
  auto token = sign_access_token(c);
  if (!token) return unavailable("sign", token.error());
  actor.subject = target;
  audit(actor, "identity.token.refresh", target, "success", nlohmann::json{{"sid", c.sid}}.dump());
  return TokenResponse{*token, "Bearer", c.exp - now, next_token, c.scope};
}

// --- revocation, keys -----------------------------------------------------------------------

core::Result<void> IdentityService::revoke(std::string_view token, const Actor& actor) {
  std::string sid;
  std::string target;
  if (token.find('.') != std::string_view::npos) {
    // Expiry does not matter here: a token of ours (its signature verifies) names its
    // session, and a client logging out after its access token expired must still end
    // that session (its refresh token lives on otherwise).
    auto claims = decode_access_token(token, false);
    if (!claims) {
      if (claims.error().code == Errc::store_unavailable) return std::move(claims).error();
      return core::ok();  // RFC 7009 2.2: an invalid token is not an error
    }
    sid = claims->sid;
    target = claims->sub;
  } else if (detail::is_opaque_token(token)) {
    auto rec = m_stores.tokens->find_refresh_token(detail::sha256_hex(token));
    if (!rec && rec.error().code == Errc::not_found) return core::ok();
    if (!rec) return std::move(rec).error();
    sid = rec->family_id;
    auto user = m_stores.users->get_user(rec->user_id);
    if (user) target = "user:" + user->username;
  }
  if (sid.empty()) return core::ok();
  auto revoked = m_stores.tokens->revoke_token_family(sid, now_unix());
  if (!revoked && revoked.error().code == Errc::not_found) return core::ok();
  if (!revoked) return std::move(revoked).error();
  if (*revoked) audit(actor, "identity.token.revoke", target, "success", nlohmann::json{{"sid", sid}}.dump());
  return core::ok();
}

core::Result<std::string> IdentityService::jwks_json() { return m_ring.jwks_json(); }

core::Result<std::string> IdentityService::ensure_signing_key() { return m_ring.ensure_current(); }

core::Result<std::string> IdentityService::rotate_signing_key(const Actor& actor) {
  auto kid = m_ring.rotate();
  if (!kid) {
    audit(actor, "identity.signing_key.rotate", "", "failure", nlohmann::json{{"error", core::errc_name(kid.error().code)}}.dump());
    return kid;
  }
  audit(actor, "identity.signing_key.rotate", "kid:" + *kid, "success");
  return kid;
}

}  // namespace cartorio::identity
