// IdentityService: construction, shared helpers, user administration, self-service and
// API keys. The OAuth grants, access tokens and authentication are in oauth_grants.cpp.
#include "identity/identity_service.h"

#include "core/log.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "identity/detail/identity_util.h"
#include "identity/totp.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace cartorio::identity {

using core::Errc;
using core::Error;
using detail::parse_roles;
using detail::role_names;

namespace {

constexpr std::size_t kMaxUsernameBytes = 64;
constexpr std::size_t kMaxDisplayNameBytes = 200;
constexpr std::size_t kMaxApiKeyNameBytes = 100;
constexpr int kRecoveryCodes = 10;
constexpr int kMaxListLimit = 1000;

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

core::Result<void> check_label(std::string_view what, std::string_view s, std::size_t max, bool allow_empty) {
  if ((!allow_empty && s.empty()) || s.size() > max || has_control_char(s))
    return Error(Errc::invalid_argument, std::string(what) + " must be " + (allow_empty ? "0" : "1") + ".." +
                                             std::to_string(max) + " bytes without control characters");
  return core::ok();
}

core::Result<std::vector<Role>> check_roles(const std::vector<Role>& roles) {
  auto out = detail::canonical_roles(roles);
  if (out.empty()) return Error(Errc::invalid_argument, "at least one role is required");
  return out;
}

UserView to_view(const store::UserRecord& u) {
  UserView v;
  v.username = u.username;
  v.display_name = u.display_name;
  v.roles = parse_roles(u.roles);
  v.mfa_enabled = u.totp_enabled;
  v.mfa_required = requires_mfa(v.roles);
  v.disabled = u.disabled;
  v.locked_until = u.locked_until;
  v.created_at = u.created_at;
  v.updated_at = u.updated_at;
  return v;
}

ApiKeyView to_view(const store::ApiKeyRecord& k) {
  return ApiKeyView{k.prefix, k.name, parse_roles(k.roles), k.owner, k.created_at, k.last_used_at, k.revoked_at};
}

// "xxxxx-xxxxx": 10 base32 characters, 50 bits; stored as a keyed MAC, so an offline
// guess needs the identity data key.
std::string new_recovery_code() {
  std::string chars = detail::ascii_lower(crypto::to_base32(crypto::random_bytes(7))).substr(0, 10);
  return chars.substr(0, 5) + "-" + chars.substr(5);
}

crypto::SecretBytes derive_key(const crypto::SecretBytes& data_key, std::string_view purpose) {
  auto mac = crypto::hmac_sha256(data_key.view(), crypto::as_bytes(purpose));
  crypto::SecretBytes out(mac);
  std::fill(mac.begin(), mac.end(), std::uint8_t{0});
  return out;
}

}  // namespace

// --- free functions -------------------------------------------------------------------------

core::Result<void> validate_username(std::string_view username) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  bool ok = !username.empty() && username.size() <= kMaxUsernameBytes && alnum(username.front()) &&
            std::all_of(username.begin(), username.end(),
                        [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '@' || c == '-'; });
  if (!ok)
    return Error(Errc::invalid_argument,
                 "a username is 1..64 of letters, digits, '.', '_', '@', '-', starting with a letter or digit");
  return core::ok();
}

bool requires_mfa(const std::vector<Role>& roles) {
  return std::any_of(roles.begin(), roles.end(), [](Role r) { return r != Role::service; }) || roles.empty();
}

std::string_view to_string(OAuthError e) {
  switch (e) {
    case OAuthError::invalid_request: return "invalid_request";
    case OAuthError::invalid_client: return "invalid_client";
    case OAuthError::invalid_grant: return "invalid_grant";
    case OAuthError::unsupported_grant_type: return "unsupported_grant_type";
    case OAuthError::slow_down: return "slow_down";
    case OAuthError::temporarily_unavailable: return "temporarily_unavailable";
  }
  return "invalid_request";
}

int http_status(OAuthError e) {
  switch (e) {
    case OAuthError::invalid_client: return 401;
    case OAuthError::slow_down: return 429;
    case OAuthError::temporarily_unavailable: return 503;
    default: return 400;
  }
}

// --- construction ---------------------------------------------------------------------------

core::Result<std::unique_ptr<IdentityService>> IdentityService::create(IdentityStores stores, keys::KeyStore& keys,
                                                                       cache::Cache& cache, const core::Clock& clock,
                                                                       crypto::SecretBytes data_key,
                                                                       IdentityOptions options) {
  if (data_key.size() != crypto::kAeadKeySize)
    return Error(Errc::config_invalid, "the identity data key must be 32 bytes");
  if (!stores.users || !stores.mfa || !stores.tokens || !stores.api_keys || !stores.signing_keys || !stores.audit)
    return Error(Errc::config_invalid, "identity: every repository is required");
  CARTORIO_TRY_VOID(PasswordHasher::validate(options.password));
  if (options.issuer.empty() || options.audience.empty() || options.client_id.empty())
    return Error(Errc::config_invalid, "identity: issuer, audience and client_id must not be empty");
  const auto positive = [](std::chrono::seconds s) { return s.count() > 0; };
  if (!positive(options.access_token_ttl) || !positive(options.mfa_enroll_token_ttl) ||
      !positive(options.refresh_token_ttl) || !positive(options.signing_key_cache_ttl) ||
      !positive(options.api_key_use_interval) || !positive(options.throttle.lockout) || options.clock_leeway.count() < 0)
    return Error(Errc::config_invalid, "identity: lifetimes and intervals must be positive");
  if (options.throttle.lockout_after < 1) return Error(Errc::config_invalid, "identity: lockout_after must be >= 1");
  for (const auto* b : {&options.throttle.per_username, &options.throttle.per_source})
    if (auto c = cache::check_bucket("identity:check", *b, 1); !c)
      return Error(Errc::config_invalid, "identity: login throttle: " + c.error().message);
  return std::make_unique<IdentityService>(Key{}, stores, keys, cache, clock, std::move(data_key), std::move(options));
}

IdentityService::IdentityService(Key, const IdentityStores& stores, keys::KeyStore& keys, cache::Cache& cache,
                                 const core::Clock& clock, const crypto::SecretBytes& data_key,
                                 IdentityOptions options)
    : m_stores(stores),
      m_keys(keys),
      m_cache(cache),
      m_clock(clock),
      m_options(std::move(options)),
      m_totp_key(derive_key(data_key, "cartorio identity totp-secret v1")),
      m_recovery_key(derive_key(data_key, "cartorio identity recovery-code v1")),
      m_csrf_key(derive_key(data_key, "cartorio identity session-csrf v1")),
      m_passwords(m_options.password),
      m_ring(*stores.signing_keys, keys, clock,
             // A retired key must verify every token it may still have signed: the longest
             // token lifetime, the leeway, and other instances' stale key caches.
             std::max(m_options.access_token_ttl, m_options.mfa_enroll_token_ttl) + m_options.clock_leeway +
                 m_options.signing_key_cache_ttl,
             m_options.signing_key_cache_ttl) {}

IdentityService::~IdentityService() = default;

// --- helpers --------------------------------------------------------------------------------

std::int64_t IdentityService::now_unix() const { return core::to_unix(m_clock.now()); }

void IdentityService::audit(const Actor& actor, std::string action, std::string target, std::string result,
                            std::string details) {
  store::AuditEvent e;
  e.time = now_unix();
  e.actor = actor.subject.empty() ? "anonymous" : actor.subject;
  e.action = std::move(action);
  e.target = std::move(target);
  e.result = std::move(result);
  e.source = actor.source.empty() ? "local" : actor.source;
  e.request_id = actor.request_id;
  e.details = std::move(details);
  if (auto r = m_stores.audit->append_audit_event(e); !r)
    core::log::error("audit.write_failed",
                     {{"action", e.action}, {"request_id", e.request_id}, {"error", r.error().to_string()}});
}

core::Result<store::UserRecord> IdentityService::find_user(std::string_view username) {
  CARTORIO_TRY_VOID(validate_username(username));
  auto u = m_stores.users->find_user(std::string(username));
  if (!u && u.error().code == Errc::not_found) return Error(Errc::not_found, "no such user");
  return u;
}

core::Result<store::UserRecord> IdentityService::user_of(const Actor& actor) {
  constexpr std::string_view kUser = "user:";
  if (!actor.subject.starts_with(kUser)) return Error(Errc::unauthenticated, "not a user account");
  auto u = find_user(std::string_view(actor.subject).substr(kUser.size()));
  if (!u && (u.error().code == Errc::not_found || u.error().code == Errc::invalid_argument))
    return Error(Errc::unauthenticated, "the account no longer exists");
  if (u && u->disabled) return Error(Errc::unauthenticated, "the account is disabled");
  return u;
}

void IdentityService::end_sessions(const store::UserRecord& user, const Actor& actor, std::string_view why) {
  auto n = m_stores.tokens->revoke_user_token_families(user.id, now_unix());
  if (!n) {
    core::log::error("identity.sessions_not_ended", {{"user", user.username}, {"error", n.error().to_string()}});
    return;
  }
  if (*n > 0)
    audit(actor, "identity.session.revoke_all", "user:" + user.username, "success",
          nlohmann::json{{"sessions", *n}, {"reason", why}}.dump());
}

std::string IdentityService::seal_totp_secret(const store::UserRecord& user, crypto::ByteView secret) const {
  const std::string aad = "cartorio:totp:v1:" + user.id;
  auto sealed = crypto::aead_seal(m_totp_key, secret, crypto::as_bytes(aad));
  return sealed ? crypto::to_base64(*sealed) : std::string();
}

core::Result<crypto::SecretBytes> IdentityService::open_totp_secret(const store::UserRecord& user) const {
  auto sealed = crypto::from_base64(user.totp_secret);
  if (!sealed) return Error(Errc::crypto_error, "stored TOTP secret is not base64");
  const std::string aad = "cartorio:totp:v1:" + user.id;
  auto opened = crypto::aead_open(m_totp_key, *sealed, crypto::as_bytes(aad));
  if (!opened) return Error(Errc::crypto_error, "stored TOTP secret does not open (wrong identity data key?)");
  return opened;
}

std::string IdentityService::recovery_code_hash(const std::string& user_id, std::string_view code) const {
  std::string normalized;
  for (char c : code)
    if (c != '-' && c != ' ') normalized.push_back(c);
  normalized = detail::ascii_lower(normalized);
  return crypto::to_hex(crypto::hmac_sha256(m_recovery_key.view(), crypto::as_bytes(user_id + ":" + normalized)));
}

std::string IdentityService::session_csrf_token(std::string_view access_token) const {
  return crypto::to_base64url(crypto::hmac_sha256(m_csrf_key.view(), crypto::as_bytes(access_token)));
}

bool IdentityService::session_csrf_token_ok(std::string_view access_token, std::string_view presented) const {
  if (access_token.empty() || presented.empty()) return false;
  const std::string expected = session_csrf_token(access_token);
  return crypto::constant_time_equal(crypto::as_bytes(expected), crypto::as_bytes(presented));
}

// --- users ----------------------------------------------------------------------------------

core::Result<UserView> IdentityService::create_user(const Actor& actor, const NewUser& user) {
  CARTORIO_TRY_VOID(validate_username(user.username));
  CARTORIO_TRY_VOID(check_label("display_name", user.display_name, kMaxDisplayNameBytes, true));
  CARTORIO_TRY(auto roles, check_roles(user.roles));
  CARTORIO_TRY_VOID(check_password_policy(user.password, user.username));
  CARTORIO_TRY(auto hash, m_passwords.hash(user.password));
  store::UserRecord rec;
  rec.id = detail::random_id("usr_", 12);
  rec.username = user.username;
  rec.display_name = user.display_name;
  rec.roles = role_names(roles);
  rec.password_hash = std::move(hash);
  rec.created_at = rec.updated_at = now_unix();
  if (auto r = m_stores.users->create_user(rec); !r) {
    if (r.error().code == Errc::already_exists) return Error(Errc::already_exists, "the username is taken");
    return std::move(r).error();
  }
  audit(actor, "identity.user.create", "user:" + rec.username, "success", nlohmann::json{{"roles", rec.roles}}.dump());
  return to_view(rec);
}

core::Result<std::vector<UserView>> IdentityService::list_users(int limit, int offset) {
  if (limit < 1 || limit > kMaxListLimit || offset < 0)
    return Error(Errc::invalid_argument, "limit must be 1.." + std::to_string(kMaxListLimit) + ", offset >= 0");
  CARTORIO_TRY(auto users, m_stores.users->list_users(store::UserFilter{limit, offset}));
  std::vector<UserView> out;
  out.reserve(users.size());
  for (const auto& u : users) out.push_back(to_view(u));
  return out;
}

core::Result<UserView> IdentityService::get_user(std::string_view username) {
  CARTORIO_TRY(auto u, find_user(username));
  return to_view(u);
}

core::Result<UserView> IdentityService::update_user(const Actor& actor, std::string_view username,
                                                    const UserChange& change) {
  CARTORIO_TRY(auto user, find_user(username));
  store::UserUpdate u;
  u.updated_at = now_unix();
  nlohmann::json details = nlohmann::json::object();
  bool end = false;
  if (change.roles) {
    CARTORIO_TRY(auto roles, check_roles(*change.roles));
    auto names = role_names(roles);
    if (names != user.roles) {
      // Access tokens carry roles; a change must not wait for them to expire.
      end = true;
      details["roles"] = names;
    }
    u.roles = std::move(names);
  }
  if (change.display_name) {
    CARTORIO_TRY_VOID(check_label("display_name", *change.display_name, kMaxDisplayNameBytes, true));
    u.display_name = *change.display_name;
    details["display_name_changed"] = true;
  }
  if (change.disabled) {
    u.disabled = *change.disabled;
    details["disabled"] = *change.disabled;
    end = end || *change.disabled;
  }
  CARTORIO_TRY(auto updated, m_stores.users->update_user(user.id, u));
  audit(actor, "identity.user.update", "user:" + user.username, "success", details.dump());
  if (end) end_sessions(updated, actor, change.disabled.value_or(false) ? "disabled" : "roles changed");
  return to_view(updated);
}

core::Result<void> IdentityService::reset_mfa(const Actor& actor, std::string_view username) {
  CARTORIO_TRY(auto user, find_user(username));
  CARTORIO_TRY_VOID(m_stores.mfa->reset_totp(user.id, now_unix()));
  audit(actor, "identity.user.mfa_reset", "user:" + user.username, "success");
  end_sessions(user, actor, "mfa reset");
  return core::ok();
}

core::Result<void> IdentityService::store_password(const store::UserRecord& user, std::string_view new_password) {
  CARTORIO_TRY_VOID(check_password_policy(new_password, user.username));
  store::UserUpdate u;
  CARTORIO_TRY(u.password_hash, m_passwords.hash(new_password));
  u.updated_at = now_unix();
  CARTORIO_TRY_VOID(m_stores.users->update_user(user.id, u));
  return core::ok();
}

core::Result<void> IdentityService::set_password(const Actor& actor, std::string_view username,
                                                 std::string_view new_password) {
  CARTORIO_TRY(auto user, find_user(username));
  CARTORIO_TRY_VOID(store_password(user, new_password));
  audit(actor, "identity.user.password_set", "user:" + user.username, "success");
  end_sessions(user, actor, "password set");
  return core::ok();
}

// --- self-service ---------------------------------------------------------------------------

core::Result<UserView> IdentityService::me(const Actor& actor) {
  CARTORIO_TRY(auto user, user_of(actor));
  return to_view(user);
}

core::Result<TotpEnrollment> IdentityService::start_totp_enrollment(const Actor& actor) {
  CARTORIO_TRY(auto user, user_of(actor));
  if (user.totp_enabled) return Error(Errc::conflict, "TOTP is already enabled; an administrator can reset it");
  const crypto::SecretBytes secret = crypto::random_secret(totp::kSecretBytes);
  const std::string sealed = seal_totp_secret(user, secret.view());
  if (sealed.empty()) return Error(Errc::crypto_error, "cannot seal the TOTP secret");
  CARTORIO_TRY_VOID(m_stores.mfa->set_pending_totp(user.id, sealed, now_unix()));
  TotpEnrollment out;
  out.secret_base32 = crypto::to_base32(secret.view());
  out.otpauth_uri = totp::otpauth_uri(m_options.totp_issuer, user.username, out.secret_base32);
  CARTORIO_TRY(out.qr_svg, totp::qr_svg(out.otpauth_uri));
  audit(actor, "identity.mfa.enroll_start", "user:" + user.username, "success");
  return out;
}

core::Result<std::vector<std::string>> IdentityService::confirm_totp_enrollment(const Actor& actor,
                                                                                std::string_view code) {
  CARTORIO_TRY(auto user, user_of(actor));
  if (user.totp_enabled) return Error(Errc::conflict, "TOTP is already enabled");
  if (user.totp_secret.empty()) return Error(Errc::conflict, "no TOTP enrolment is pending; start one first");
  CARTORIO_TRY(auto secret, open_totp_secret(user));
  auto step = totp::match(secret.view(), code, totp::time_step(m_clock.now()));
  if (!step) {
    audit(actor, "identity.mfa.enroll_confirm", "user:" + user.username, "failure",
          R"({"reason":"code does not match"})");
    return Error(Errc::unauthenticated, "the code does not match");
  }
  std::vector<std::string> codes, hashes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    codes.push_back(new_recovery_code());
    hashes.push_back(recovery_code_hash(user.id, codes.back()));
  }
  CARTORIO_TRY_VOID(m_stores.mfa->enable_totp(user.id, *step, hashes, now_unix()));
  audit(actor, "identity.mfa.enroll_confirm", "user:" + user.username, "success",
        nlohmann::json{{"recovery_codes", kRecoveryCodes}}.dump());
  return codes;
}

core::Result<void> IdentityService::change_password(const Actor& actor, std::string_view current_password,
                                                    std::string_view new_password) {
  CARTORIO_TRY(auto user, user_of(actor));
  if (auto throttled = throttle_login(user.username, {}))
    return Error(Errc::permission_denied, "too many password attempts; retry in " +
                                              std::to_string(throttled->retry_after.count()) + " s");
  if (current_password.size() > kMaxPasswordBytes || !m_passwords.verify(current_password, user.password_hash)) {
    (void)m_stores.users->record_login_failure(user.id, m_options.throttle.lockout_after,
                                               now_unix() + m_options.throttle.lockout.count());
    audit(actor, "identity.password.change", "user:" + user.username, "failure",
          R"({"reason":"wrong current password"})");
    return Error(Errc::unauthenticated, "the current password is wrong");
  }
  CARTORIO_TRY_VOID(store_password(user, new_password));
  audit(actor, "identity.password.change", "user:" + user.username, "success");
  end_sessions(user, actor, "password changed");
  return core::ok();
}

// --- API keys -------------------------------------------------------------------------------

core::Result<CreatedApiKey> IdentityService::create_api_key(const Actor& actor, std::string_view name,
                                                            const std::vector<Role>& roles) {
  CARTORIO_TRY_VOID(check_label("name", name, kMaxApiKeyNameBytes, false));
  CARTORIO_TRY(auto checked_roles, check_roles(roles));
  store::ApiKeyRecord rec;
  rec.name = std::string(name);
  rec.roles = role_names(checked_roles);
  rec.owner = actor.subject;
  rec.created_at = now_unix();
  const std::string secret = detail::random_opaque_token();
  rec.secret_hash = detail::sha256_hex(secret);
  // 40 random bits of prefix: a collision is rare, and the primary key catches it.
  for (int attempt = 0;; ++attempt) {
    rec.prefix = detail::ascii_lower(crypto::to_base32(crypto::random_bytes(5)));
    auto r = m_stores.api_keys->insert_api_key(rec);
    if (r) break;
    if (r.error().code != Errc::already_exists || attempt == 4) return std::move(r).error();
  }
  audit(actor, "identity.api_key.create", "apikey:" + rec.prefix, "success",
        nlohmann::json{{"name", rec.name}, {"roles", rec.roles}}.dump());
  return CreatedApiKey{"ck_" + rec.prefix + "_" + secret, to_view(rec)};
}

core::Result<std::vector<ApiKeyView>> IdentityService::list_api_keys() {
  CARTORIO_TRY(auto keys, m_stores.api_keys->list_api_keys());
  std::vector<ApiKeyView> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(to_view(k));
  return out;
}

core::Result<void> IdentityService::revoke_api_key(const Actor& actor, std::string_view prefix) {
  auto r = m_stores.api_keys->revoke_api_key(std::string(prefix), now_unix());
  if (!r && r.error().code == Errc::not_found) return Error(Errc::not_found, "no API key with that prefix");
  if (!r) return std::move(r).error();
  if (*r) audit(actor, "identity.api_key.revoke", "apikey:" + std::string(prefix), "success");
  return core::ok();
}

}  // namespace cartorio::identity
