// SqlStore: the identity repositories (users, MFA, refresh token families, API keys,
// signing keys). Every check-and-change is one conditional statement (UPDATE ... WHERE
// <expected state> RETURNING), so concurrent callers on any number of instances cannot
// both win; multi-statement changes run in one transaction.
#include "store/sql/sql_store.h"

#include "store/sql/sql_helpers.h"
#include "store/sql/sql_transaction.h"

#include <algorithm>

namespace cartorio::store::sql {
namespace {

using core::Errc;
using core::Error;

// Key of the transaction lock that serialises signing-key rotations ("cartjwks").
constexpr std::int64_t kSigningKeyLockKey = 0x636172746a776b73;

constexpr std::string_view kUserColumns =
    "id, username, display_name, roles, password_hash, totp_secret, totp_enabled, totp_last_step, "
    "failed_logins, locked_until, disabled, created_at, updated_at";
constexpr std::string_view kFamilyColumns = "id, user_id, amr, created_at, revoked_at";
constexpr std::string_view kRefreshColumns =
    "id, family_id, user_id, token_hash, created_at, expires_at, used_at, revoked_at";
constexpr std::string_view kApiKeyColumns =
    "prefix, secret_hash, name, roles, owner, created_at, last_used_at, revoked_at";
constexpr std::string_view kSigningKeyColumns = "kid, algorithm, key_label, key_uri, public_key, created_at, retired_at";

// Usernames are unique ignoring ASCII case only: other letters compare as bytes, the same
// on every engine and locale (the identity service restricts usernames to ASCII anyway).
std::string username_key(std::string_view username) {
  std::string out(username);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

std::int64_t flag(bool b) { return b ? 1 : 0; }

core::Result<UserRecord> user_from_row(std::string_view op, const SqlRow& row) {
  UserRecord u;
  u.id = row.text(0);
  u.username = row.text(1);
  u.display_name = row.text(2);
  CARTORIO_TRY(u.roles, strings_from_json(op, row.text(3)));
  u.password_hash = row.text(4);
  u.totp_secret = row.text(5);
  u.totp_enabled = row.int64(6) != 0;
  u.totp_last_step = row.int64(7);
  u.failed_logins = static_cast<int>(row.int64(8));
  u.locked_until = row.int64(9);
  u.disabled = row.int64(10) != 0;
  u.created_at = row.int64(11);
  u.updated_at = row.int64(12);
  return u;
}

core::Result<TokenFamilyRecord> family_from_row(std::string_view op, const SqlRow& row, std::size_t first = 0) {
  TokenFamilyRecord f;
  f.id = row.text(first + 0);
  f.user_id = row.text(first + 1);
  CARTORIO_TRY(f.amr, strings_from_json(op, row.text(first + 2)));
  f.created_at = row.int64(first + 3);
  f.revoked_at = row.int64(first + 4);
  return f;
}

RefreshTokenRecord refresh_from_row(const SqlRow& row) {
  RefreshTokenRecord t;
  t.id = row.text(0);
  t.family_id = row.text(1);
  t.user_id = row.text(2);
  t.token_hash = row.text(3);
  t.created_at = row.int64(4);
  t.expires_at = row.int64(5);
  t.used_at = row.int64(6);
  t.revoked_at = row.int64(7);
  return t;
}

core::Result<ApiKeyRecord> api_key_from_row(std::string_view op, const SqlRow& row) {
  ApiKeyRecord k;
  k.prefix = row.text(0);
  k.secret_hash = row.text(1);
  k.name = row.text(2);
  CARTORIO_TRY(k.roles, strings_from_json(op, row.text(3)));
  k.owner = row.text(4);
  k.created_at = row.int64(5);
  k.last_used_at = row.int64(6);
  k.revoked_at = row.int64(7);
  return k;
}

SigningKeyRecord signing_key_from_row(const SqlRow& row) {
  SigningKeyRecord k;
  k.kid = row.text(0);
  k.algorithm = row.text(1);
  k.key_label = row.text(2);
  k.key_uri = row.text(3);
  k.public_key = row.text(4);
  k.created_at = row.int64(5);
  k.retired_at = row.int64(6);
  return k;
}

// After a conditional UPDATE matched nothing: tells "no such row" from "wrong state".
core::Result<bool> row_exists(SqlConnection& conn, std::string_view op, std::string_view table,
                              std::string_view key_column, const std::string& key) {
  auto r = conn.query("SELECT 1 FROM " + std::string(table) + " WHERE " + std::string(key_column) + " = ?", {key},
                      StatementKind::read);
  if (!r) return in(op, r.error());
  return !r->rows.empty();
}

Error no_user(std::string_view op, const std::string& id) {
  return Error(Errc::not_found, std::string(op) + ": no user with id " + id);
}

}  // namespace

// --- users -------------------------------------------------------------------------------

core::Result<void> SqlStore::create_user(const UserRecord& rec) {
  constexpr std::string_view op = "create_user";
  CARTORIO_TRY_VOID(check_not_empty(op, "id", rec.id));
  CARTORIO_TRY_VOID(check_not_empty(op, "username", rec.username));
  CARTORIO_TRY_VOID(check_not_empty(op, "password_hash", rec.password_hash));
  CARTORIO_TRY(std::string roles, strings_to_json(op, rec.roles));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "INSERT INTO users (id, username, username_key, display_name, roles, password_hash, totp_secret, "
      "totp_enabled, totp_last_step, failed_logins, locked_until, disabled, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {rec.id, rec.username, username_key(rec.username), rec.display_name, roles, rec.password_hash,
       rec.totp_secret, flag(rec.totp_enabled), rec.totp_last_step, std::int64_t{rec.failed_logins},
       rec.locked_until, flag(rec.disabled), rec.created_at, rec.updated_at},
      StatementKind::write);
  if (!r) {
    if (r.error().code == Errc::already_exists)
      return Error(Errc::already_exists, std::string(op) + ": the username or id is already taken");
    return in(op, r.error());
  }
  return core::ok();
}

core::Result<UserRecord> SqlStore::get_user(const std::string& id) {
  constexpr std::string_view op = "get_user";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kUserColumns) + " FROM users WHERE id = ?", {id}, StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return no_user(op, id);
  return user_from_row(op, r->rows.front());
}

core::Result<UserRecord> SqlStore::find_user(const std::string& username) {
  constexpr std::string_view op = "find_user";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kUserColumns) + " FROM users WHERE username_key = ?",
                       {username_key(username)}, StatementKind::read);
  if (!r) return in(op, r.error());
  // The message names no username: it may be a password typed in the wrong field.
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no such user");
  return user_from_row(op, r->rows.front());
}

core::Result<std::vector<UserRecord>> SqlStore::list_users(const UserFilter& f) {
  constexpr std::string_view op = "list_users";
  CARTORIO_TRY_VOID(check_page(op, f.limit, f.offset));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kUserColumns) + " FROM users ORDER BY username_key LIMIT ? OFFSET ?",
                       {std::int64_t{f.limit}, std::int64_t{f.offset}}, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<UserRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    CARTORIO_TRY(auto u, user_from_row(op, row));
    out.push_back(std::move(u));
  }
  return out;
}

core::Result<UserRecord> SqlStore::update_user(const std::string& id, const UserUpdate& u) {
  constexpr std::string_view op = "update_user";
  std::string sets = "updated_at = ?";
  std::vector<SqlValue> params{u.updated_at};
  if (u.display_name) {
    sets += ", display_name = ?";
    params.emplace_back(*u.display_name);
  }
  if (u.roles) {
    CARTORIO_TRY(std::string roles, strings_to_json(op, *u.roles));
    sets += ", roles = ?";
    params.emplace_back(std::move(roles));
  }
  if (u.disabled) {
    sets += ", disabled = ?";
    params.emplace_back(flag(*u.disabled));
    // Re-enabling an account is also how an administrator lifts a lockout.
    if (!*u.disabled) sets += ", failed_logins = 0, locked_until = 0";
  }
  if (u.password_hash) {
    CARTORIO_TRY_VOID(check_not_empty(op, "password_hash", *u.password_hash));
    sets += ", password_hash = ?";
    params.emplace_back(*u.password_hash);
  }
  params.emplace_back(id);
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE users SET " + sets + " WHERE id = ? RETURNING " + std::string(kUserColumns), params,
                       StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return no_user(op, id);
  return user_from_row(op, r->rows.front());
}

core::Result<LoginFailures> SqlStore::record_login_failure(const std::string& id, int lock_after,
                                                           std::int64_t lock_until) {
  constexpr std::string_view op = "record_login_failure";
  if (lock_after < 1) return Error(Errc::invalid_argument, std::string(op) + ": lock_after must be at least 1");
  CARTORIO_TRY(auto conn, connection(op));
  // SET expressions all read the row as it was, on both engines.
  auto r = conn->query(
      "UPDATE users SET "
      "failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END, "
      "locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END "
      "WHERE id = ? RETURNING failed_logins, locked_until",
      {std::int64_t{lock_after}, std::int64_t{lock_after}, lock_until, id}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return no_user(op, id);
  return LoginFailures{static_cast<int>(r->rows.front().int64(0)), r->rows.front().int64(1)};
}

core::Result<void> SqlStore::clear_login_failures(const std::string& id) {
  constexpr std::string_view op = "clear_login_failures";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ? RETURNING id", {id},
                       StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return no_user(op, id);
  return core::ok();
}

// --- MFA ---------------------------------------------------------------------------------

core::Result<void> SqlStore::set_pending_totp(const std::string& user_id, const std::string& sealed_secret,
                                              std::int64_t at) {
  constexpr std::string_view op = "set_pending_totp";
  CARTORIO_TRY_VOID(check_not_empty(op, "sealed_secret", sealed_secret));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "UPDATE users SET totp_secret = ?, updated_at = ? WHERE id = ? AND totp_enabled = 0 RETURNING id",
      {sealed_secret, at, user_id}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (!r->rows.empty()) return core::ok();
  CARTORIO_TRY(bool exists, row_exists(*conn, op, "users", "id", user_id));
  if (!exists) return no_user(op, user_id);
  return Error(Errc::conflict, std::string(op) + ": TOTP is already enabled");
}

core::Result<void> SqlStore::enable_totp(const std::string& user_id, std::int64_t step,
                                         const std::vector<std::string>& recovery_code_hashes, std::int64_t at) {
  constexpr std::string_view op = "enable_totp";
  for (const auto& h : recovery_code_hashes) CARTORIO_TRY_VOID(check_not_empty(op, "recovery code hash", h));
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query(
      "UPDATE users SET totp_enabled = 1, totp_last_step = ?, updated_at = ? "
      "WHERE id = ? AND totp_enabled = 0 AND totp_secret <> '' RETURNING id",
      {step, at, user_id}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) {
    CARTORIO_TRY(bool exists, row_exists(*conn, op, "users", "id", user_id));
    if (!exists) return no_user(op, user_id);
    return Error(Errc::conflict, std::string(op) + ": TOTP is already enabled or no secret is pending");
  }
  auto del = conn->query("DELETE FROM recovery_codes WHERE user_id = ?", {user_id}, StatementKind::write);
  if (!del) return in(op, del.error());
  for (const auto& h : recovery_code_hashes) {
    auto ins = conn->query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES (?, ?, 0)", {user_id, h},
                           StatementKind::write);
    if (!ins) return in(op, ins.error());
  }
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<void> SqlStore::reset_totp(const std::string& user_id, std::int64_t at) {
  constexpr std::string_view op = "reset_totp";
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query(
      "UPDATE users SET totp_secret = '', totp_enabled = 0, totp_last_step = 0, updated_at = ? "
      "WHERE id = ? RETURNING id",
      {at, user_id}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return no_user(op, user_id);
  auto del = conn->query("DELETE FROM recovery_codes WHERE user_id = ?", {user_id}, StatementKind::write);
  if (!del) return in(op, del.error());
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<bool> SqlStore::use_totp_step(const std::string& user_id, std::int64_t step) {
  constexpr std::string_view op = "use_totp_step";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_enabled = 1 AND totp_last_step < ? RETURNING id",
      {step, user_id, step}, StatementKind::write);
  if (!r) return in(op, r.error());
  return !r->rows.empty();
}

core::Result<bool> SqlStore::use_recovery_code(const std::string& user_id, const std::string& code_hash,
                                               std::int64_t at) {
  constexpr std::string_view op = "use_recovery_code";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at = 0 RETURNING user_id",
      {at, user_id, code_hash}, StatementKind::write);
  if (!r) return in(op, r.error());
  return !r->rows.empty();
}

core::Result<int> SqlStore::count_recovery_codes(const std::string& user_id) {
  constexpr std::string_view op = "count_recovery_codes";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at = 0", {user_id},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  return r->rows.empty() ? 0 : static_cast<int>(r->rows.front().int64(0));
}

// --- refresh token families ------------------------------------------------------------

core::Result<void> SqlStore::create_token_family(const TokenFamilyRecord& family,
                                                 const std::optional<NewRefreshToken>& first) {
  constexpr std::string_view op = "create_token_family";
  CARTORIO_TRY_VOID(check_not_empty(op, "id", family.id));
  CARTORIO_TRY_VOID(check_not_empty(op, "user_id", family.user_id));
  if (first) {
    CARTORIO_TRY_VOID(check_not_empty(op, "token id", first->id));
    CARTORIO_TRY_VOID(check_not_empty(op, "token hash", first->token_hash));
  }
  CARTORIO_TRY(std::string amr, strings_to_json(op, family.amr));
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query("INSERT INTO token_families (" + std::string(kFamilyColumns) + ") VALUES (?, ?, ?, ?, 0)",
                       {family.id, family.user_id, amr, family.created_at}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (first) {
    auto t = conn->query("INSERT INTO refresh_tokens (" + std::string(kRefreshColumns) +
                             ") VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
                         {first->id, family.id, family.user_id, first->token_hash, family.created_at,
                          first->expires_at},
                         StatementKind::write);
    if (!t) return in(op, t.error());
  }
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<TokenFamilyRecord> SqlStore::get_token_family(const std::string& id) {
  constexpr std::string_view op = "get_token_family";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kFamilyColumns) + " FROM token_families WHERE id = ?", {id},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no token family " + id);
  return family_from_row(op, r->rows.front());
}

core::Result<RefreshRotation> SqlStore::rotate_refresh_token(const std::string& token_hash,
                                                             const NewRefreshToken& next, std::int64_t now) {
  constexpr std::string_view op = "rotate_refresh_token";
  CARTORIO_TRY_VOID(check_not_empty(op, "token hash", token_hash));
  CARTORIO_TRY_VOID(check_not_empty(op, "next token id", next.id));
  CARTORIO_TRY_VOID(check_not_empty(op, "next token hash", next.token_hash));
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());

  // The conditional UPDATE is the "use once": on PostgreSQL a concurrent second caller
  // waits for the row lock, then re-checks used_at and matches nothing.
  auto used = conn->query(
      "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND revoked_at = 0 "
      "AND expires_at > ? AND family_id IN (SELECT id FROM token_families WHERE revoked_at = 0) "
      "RETURNING " + std::string(kRefreshColumns),
      {now, token_hash, now}, StatementKind::write);
  if (!used) return in(op, used.error());

  RefreshRotation out;
  if (!used->rows.empty()) {
    out.outcome = RefreshOutcome::rotated;
    out.presented = refresh_from_row(used->rows.front());
    out.presented.used_at = 0;  // as it was when presented
    auto fam = conn->query("SELECT " + std::string(kFamilyColumns) + " FROM token_families WHERE id = ?",
                           {out.presented.family_id}, StatementKind::read);
    if (!fam) return in(op, fam.error());
    if (fam->rows.empty()) return Error(Errc::store_error, std::string(op) + ": token without a family");
    CARTORIO_TRY(out.family, family_from_row(op, fam->rows.front()));
    auto ins = conn->query("INSERT INTO refresh_tokens (" + std::string(kRefreshColumns) +
                               ") VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
                           {next.id, out.presented.family_id, out.presented.user_id, next.token_hash, now,
                            next.expires_at},
                           StatementKind::write);
    if (!ins) return in(op, ins.error());
    auto committed = tx->commit();
    if (!committed) return in(op, committed.error());
    return out;
  }

  auto found = conn->query("SELECT t.id, t.family_id, t.user_id, t.token_hash, t.created_at, t.expires_at, t.used_at, "
                           "t.revoked_at, f.id, f.user_id, f.amr, f.created_at, f.revoked_at "
                           "FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = ?",
                           {token_hash}, StatementKind::read);
  if (!found) return in(op, found.error());
  if (found->rows.empty()) return out;  // unknown; the transaction rolls back (nothing changed)
  out.presented = refresh_from_row(found->rows.front());
  CARTORIO_TRY(out.family, family_from_row(op, found->rows.front(), 8));
  if (out.presented.revoked_at != 0 || out.family.revoked_at != 0) {
    out.outcome = RefreshOutcome::revoked;
    return out;
  }
  if (out.presented.used_at != 0) {
    // A used token presented again: it was copied. Whoever holds it, the session is over.
    out.outcome = RefreshOutcome::reused;
    auto f = conn->query("UPDATE token_families SET revoked_at = ? WHERE id = ? AND revoked_at = 0",
                         {now, out.family.id}, StatementKind::write);
    if (!f) return in(op, f.error());
    auto t = conn->query("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0",
                         {now, out.family.id}, StatementKind::write);
    if (!t) return in(op, t.error());
    auto committed = tx->commit();
    if (!committed) return in(op, committed.error());
    return out;
  }
  out.outcome = RefreshOutcome::expired;
  return out;
}

core::Result<RefreshTokenRecord> SqlStore::find_refresh_token(const std::string& token_hash) {
  constexpr std::string_view op = "find_refresh_token";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kRefreshColumns) + " FROM refresh_tokens WHERE token_hash = ?",
                       {token_hash}, StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no such refresh token");
  return refresh_from_row(r->rows.front());
}

core::Result<bool> SqlStore::revoke_token_family(const std::string& id, std::int64_t at) {
  constexpr std::string_view op = "revoke_token_family";
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query("UPDATE token_families SET revoked_at = ? WHERE id = ? AND revoked_at = 0 RETURNING id",
                       {at, id}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) {
    CARTORIO_TRY(bool exists, row_exists(*conn, op, "token_families", "id", id));
    if (!exists) return Error(Errc::not_found, std::string(op) + ": no token family " + id);
    return false;
  }
  auto t = conn->query("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0", {at, id},
                       StatementKind::write);
  if (!t) return in(op, t.error());
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return true;
}

core::Result<int> SqlStore::revoke_user_token_families(const std::string& user_id, std::int64_t at) {
  constexpr std::string_view op = "revoke_user_token_families";
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query("UPDATE token_families SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0 RETURNING id",
                       {at, user_id}, StatementKind::write);
  if (!r) return in(op, r.error());
  auto t = conn->query("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0",
                       {at, user_id}, StatementKind::write);
  if (!t) return in(op, t.error());
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return static_cast<int>(r->rows.size());
}

// --- API keys ------------------------------------------------------------------------------

core::Result<void> SqlStore::insert_api_key(const ApiKeyRecord& rec) {
  constexpr std::string_view op = "insert_api_key";
  CARTORIO_TRY_VOID(check_not_empty(op, "prefix", rec.prefix));
  CARTORIO_TRY_VOID(check_not_empty(op, "secret_hash", rec.secret_hash));
  CARTORIO_TRY_VOID(check_not_empty(op, "name", rec.name));
  CARTORIO_TRY(std::string roles, strings_to_json(op, rec.roles));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("INSERT INTO api_keys (" + std::string(kApiKeyColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       {rec.prefix, rec.secret_hash, rec.name, roles, rec.owner, rec.created_at, rec.last_used_at,
                        rec.revoked_at},
                       StatementKind::write);
  if (!r) {
    if (r.error().code == Errc::already_exists)
      return Error(Errc::already_exists, std::string(op) + ": prefix " + rec.prefix + " is taken");
    return in(op, r.error());
  }
  return core::ok();
}

core::Result<ApiKeyRecord> SqlStore::get_api_key(const std::string& prefix) {
  constexpr std::string_view op = "get_api_key";
  CARTORIO_TRY(auto conn, read_connection(op));
  auto r = conn->query("SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE prefix = ?", {prefix},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no API key with that prefix");
  return api_key_from_row(op, r->rows.front());
}

core::Result<std::vector<ApiKeyRecord>> SqlStore::list_api_keys() {
  constexpr std::string_view op = "list_api_keys";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kApiKeyColumns) + " FROM api_keys ORDER BY created_at, prefix", {},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<ApiKeyRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    CARTORIO_TRY(auto k, api_key_from_row(op, row));
    out.push_back(std::move(k));
  }
  return out;
}

core::Result<bool> SqlStore::revoke_api_key(const std::string& prefix, std::int64_t at) {
  constexpr std::string_view op = "revoke_api_key";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at = 0 RETURNING prefix",
                       {at, prefix}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (!r->rows.empty()) return true;
  CARTORIO_TRY(bool exists, row_exists(*conn, op, "api_keys", "prefix", prefix));
  if (!exists) return Error(Errc::not_found, std::string(op) + ": no API key with that prefix");
  return false;
}

core::Result<void> SqlStore::record_api_key_use(const std::string& prefix, std::int64_t at, std::int64_t not_before) {
  constexpr std::string_view op = "record_api_key_use";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE api_keys SET last_used_at = ? WHERE prefix = ? AND last_used_at < ?",
                       {at, prefix, not_before}, StatementKind::write);
  if (!r) return in(op, r.error());
  return core::ok();
}

// --- signing keys --------------------------------------------------------------------------

core::Result<void> SqlStore::add_signing_key(const SigningKeyRecord& rec) {
  constexpr std::string_view op = "add_signing_key";
  CARTORIO_TRY_VOID(check_not_empty(op, "kid", rec.kid));
  CARTORIO_TRY_VOID(check_not_empty(op, "algorithm", rec.algorithm));
  CARTORIO_TRY_VOID(check_not_empty(op, "key_uri", rec.key_uri));
  CARTORIO_TRY_VOID(check_not_empty(op, "public_key", rec.public_key));
  if (rec.retired_at != 0) return Error(Errc::invalid_argument, std::string(op) + ": a new key cannot be retired");
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  // Two rotations racing on PostgreSQL would each retire only what they saw and leave two
  // current keys; the lock makes the second see (and retire) the first one's key.
  if (!m_dialect.transaction_lock.empty()) {
    auto lock = conn->query(m_dialect.transaction_lock, {kSigningKeyLockKey}, StatementKind::write);
    if (!lock) return in(op, lock.error());
  }
  auto retire = conn->query("UPDATE signing_keys SET retired_at = ? WHERE retired_at = 0", {rec.created_at},
                            StatementKind::write);
  if (!retire) return in(op, retire.error());
  auto r = conn->query("INSERT INTO signing_keys (" + std::string(kSigningKeyColumns) + ") VALUES (?, ?, ?, ?, ?, ?, 0)",
                       {rec.kid, rec.algorithm, rec.key_label, rec.key_uri, rec.public_key, rec.created_at},
                       StatementKind::write);
  if (!r) return in(op, r.error());
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<std::vector<SigningKeyRecord>> SqlStore::list_signing_keys() {
  constexpr std::string_view op = "list_signing_keys";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kSigningKeyColumns) + " FROM signing_keys ORDER BY created_at, kid", {},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<SigningKeyRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(signing_key_from_row(row));
  return out;
}

}  // namespace cartorio::store::sql
