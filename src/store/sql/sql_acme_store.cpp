// SqlStore: ACME accounts, orders, authorizations and challenges (migration 0007).
#include "store/sql/sql_store.h"

#include "store/sql/sql_helpers.h"
#include "store/sql/sql_transaction.h"

namespace cartorio::store::sql {
namespace {

using core::Errc;
using core::Error;

constexpr std::string_view kAccountColumns = "id, key_thumbprint, jwk, status, contact, eab_kid, created_at";
constexpr std::string_view kOrderColumns =
    "id, account_id, status, expires_at, identifiers, not_before, not_after, certificate_serial, error, created_at";
constexpr std::string_view kAuthorizationColumns =
    "id, order_id, account_id, identifier_type, identifier_value, wildcard, status, expires_at";
constexpr std::string_view kChallengeColumns =
    "id, authorization_id, type, token, status, validated_at, error";

SqlValue optional_int(const std::optional<std::int64_t>& v) {
  if (!v) return nullptr;
  return *v;
}

AcmeAccountRecord account_from_row(const SqlRow& row) {
  AcmeAccountRecord a;
  a.id = row.text(0);
  a.key_thumbprint = row.text(1);
  a.jwk_json = row.text(2);
  a.status = row.text(3);
  a.contact_json = row.text(4);
  a.eab_kid = row.text(5);
  a.created_at = row.int64(6);
  return a;
}

AcmeOrderRecord order_from_row(const SqlRow& row) {
  AcmeOrderRecord o;
  o.id = row.text(0);
  o.account_id = row.text(1);
  o.status = row.text(2);
  o.expires_at = row.int64(3);
  o.identifiers_json = row.text(4);
  if (!row.is_null(5)) o.not_before = row.int64(5);
  if (!row.is_null(6)) o.not_after = row.int64(6);
  o.certificate_serial = row.text(7);
  o.error_json = row.text(8);
  o.created_at = row.int64(9);
  return o;
}

AcmeAuthorizationRecord authorization_from_row(const SqlRow& row) {
  AcmeAuthorizationRecord a;
  a.id = row.text(0);
  a.order_id = row.text(1);
  a.account_id = row.text(2);
  a.identifier_type = row.text(3);
  a.identifier_value = row.text(4);
  a.wildcard = row.int64(5) != 0;
  a.status = row.text(6);
  a.expires_at = row.int64(7);
  return a;
}

AcmeChallengeRecord challenge_from_row(const SqlRow& row) {
  AcmeChallengeRecord c;
  c.id = row.text(0);
  c.authorization_id = row.text(1);
  c.type = row.text(2);
  c.token = row.text(3);
  c.status = row.text(4);
  if (!row.is_null(5)) c.validated_at = row.int64(5);
  c.error_json = row.text(6);
  return c;
}

core::Result<void> check_account(std::string_view op, const AcmeAccountRecord& a) {
  CARTORIO_TRY_VOID(check_not_empty(op, "id", a.id));
  CARTORIO_TRY_VOID(check_not_empty(op, "key_thumbprint", a.key_thumbprint));
  CARTORIO_TRY_VOID(check_not_empty(op, "jwk", a.jwk_json));
  return core::ok();
}

}  // namespace

core::Result<void> SqlStore::create_acme_account(const AcmeAccountRecord& rec, const AuditEvent& event) {
  constexpr std::string_view op = "create_acme_account";
  CARTORIO_TRY_VOID(check_account(op, rec));
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query("INSERT INTO acme_accounts (" + std::string(kAccountColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                       {rec.id, rec.key_thumbprint, rec.jwk_json, rec.status, rec.contact_json,
                        text_or_null(rec.eab_kid), rec.created_at},
                       StatementKind::write);
  if (!r) {
    if (r.error().code == Errc::already_exists)
      return Error(Errc::already_exists, std::string(op) + ": the key or the external account binding is taken");
    return in(op, r.error());
  }
  CARTORIO_TRY_VOID(insert_audit_event(*conn, event, op));
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<AcmeAccountRecord> SqlStore::get_acme_account(const std::string& id) {
  constexpr std::string_view op = "get_acme_account";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kAccountColumns) + " FROM acme_accounts WHERE id = ?", {id},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no account " + id);
  return account_from_row(r->rows.front());
}

core::Result<AcmeAccountRecord> SqlStore::find_acme_account_by_key(const std::string& key_thumbprint) {
  constexpr std::string_view op = "find_acme_account_by_key";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kAccountColumns) + " FROM acme_accounts WHERE key_thumbprint = ?",
                       {key_thumbprint}, StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no account with that key");
  return account_from_row(r->rows.front());
}

core::Result<void> SqlStore::update_acme_account(const AcmeAccountRecord& rec, const AuditEvent& event) {
  constexpr std::string_view op = "update_acme_account";
  CARTORIO_TRY_VOID(check_account(op, rec));
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  // Only a valid account changes (RFC 8555 7.3.6): a request that authenticated just before a
  // deactivation committed cannot write the account back to valid.
  auto r = conn->query(
      "UPDATE acme_accounts SET key_thumbprint = ?, jwk = ?, status = ?, contact = ? WHERE id = ? AND status = 'valid'",
      {rec.key_thumbprint, rec.jwk_json, rec.status, rec.contact_json, rec.id}, StatementKind::write);
  if (!r) {
    if (r.error().code == Errc::already_exists)
      return Error(Errc::already_exists, std::string(op) + ": the new key belongs to another account");
    return in(op, r.error());
  }
  if (r->affected_rows == 0) return Error(Errc::conflict, std::string(op) + ": no valid account " + rec.id);
  CARTORIO_TRY_VOID(insert_audit_event(*conn, event, op));
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<void> SqlStore::create_acme_order(const AcmeOrderRecord& order,
                                               const std::vector<AcmeAuthorizationRecord>& authorizations) {
  constexpr std::string_view op = "create_acme_order";
  CARTORIO_TRY_VOID(check_not_empty(op, "id", order.id));
  CARTORIO_TRY_VOID(check_not_empty(op, "account_id", order.account_id));
  if (authorizations.empty()) return Error(Errc::invalid_argument, std::string(op) + ": an order needs authorizations");
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  auto r = conn->query("INSERT INTO acme_orders (" + std::string(kOrderColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {order.id, order.account_id, order.status, order.expires_at, order.identifiers_json,
                        optional_int(order.not_before), optional_int(order.not_after),
                        text_or_null(order.certificate_serial), order.error_json, order.created_at},
                       StatementKind::write);
  if (!r) return in(op, r.error());
  std::int64_t position = 0;
  for (const auto& a : authorizations) {
    r = conn->query("INSERT INTO acme_authorizations (" + std::string(kAuthorizationColumns) +
                        ", position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {a.id, order.id, order.account_id, a.identifier_type, a.identifier_value,
                     static_cast<std::int64_t>(a.wildcard ? 1 : 0), a.status, a.expires_at, position++},
                    StatementKind::write);
    if (!r) return in(op, r.error());
    std::int64_t challenge_position = 0;
    for (const auto& c : a.challenges) {
      r = conn->query("INSERT INTO acme_challenges (" + std::string(kChallengeColumns) +
                          ", position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      {c.id, a.id, c.type, c.token, c.status, optional_int(c.validated_at), c.error_json,
                       challenge_position++},
                      StatementKind::write);
      if (!r) return in(op, r.error());
    }
  }
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<AcmeOrderRecord> SqlStore::get_acme_order(const std::string& id) {
  constexpr std::string_view op = "get_acme_order";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kOrderColumns) + " FROM acme_orders WHERE id = ?", {id},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no order " + id);
  AcmeOrderRecord order = order_from_row(r->rows.front());
  r = conn->query("SELECT id FROM acme_authorizations WHERE order_id = ? ORDER BY position", {id},
                  StatementKind::read);
  if (!r) return in(op, r.error());
  for (const auto& row : r->rows) order.authorization_ids.push_back(row.text(0));
  return order;
}

core::Result<AcmeOrderRecord> SqlStore::find_acme_order_by_certificate(const std::string& serial) {
  constexpr std::string_view op = "find_acme_order_by_certificate";
  CARTORIO_TRY_VOID(check_serial(op, serial));
  std::string id;
  {
    CARTORIO_TRY(auto conn, connection(op));
    auto r = conn->query("SELECT id FROM acme_orders WHERE certificate_serial = ?", {serial}, StatementKind::read);
    if (!r) return in(op, r.error());
    if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no order issued " + serial);
    id = r->rows.front().text(0);
  }
  return get_acme_order(id);
}

core::Result<std::vector<std::string>> SqlStore::list_acme_order_ids(const std::string& account_id, int limit) {
  constexpr std::string_view op = "list_acme_order_ids";
  if (limit < 1 || limit > 1000) return Error(Errc::invalid_argument, std::string(op) + ": limit must be 1..1000");
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT id FROM acme_orders WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                       {account_id, static_cast<std::int64_t>(limit)}, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<std::string> ids;
  ids.reserve(r->rows.size());
  for (const auto& row : r->rows) ids.push_back(row.text(0));
  return ids;
}

core::Result<AcmeAuthorizationRecord> SqlStore::get_acme_authorization(const std::string& id) {
  constexpr std::string_view op = "get_acme_authorization";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kAuthorizationColumns) + " FROM acme_authorizations WHERE id = ?",
                       {id}, StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no authorization " + id);
  AcmeAuthorizationRecord a = authorization_from_row(r->rows.front());
  r = conn->query("SELECT " + std::string(kChallengeColumns) +
                      " FROM acme_challenges WHERE authorization_id = ? ORDER BY position",
                  {id}, StatementKind::read);
  if (!r) return in(op, r.error());
  for (const auto& row : r->rows) a.challenges.push_back(challenge_from_row(row));
  return a;
}

core::Result<bool> SqlStore::update_acme_challenge(const AcmeChallengeRecord& next, const std::string& expected) {
  constexpr std::string_view op = "update_acme_challenge";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE acme_challenges SET status = ?, validated_at = ?, error = ? WHERE id = ? AND status = ?",
                       {next.status, optional_int(next.validated_at), next.error_json, next.id, expected},
                       StatementKind::write);
  if (!r) return in(op, r.error());
  return r->affected_rows > 0;
}

core::Result<bool> SqlStore::update_acme_authorization(const std::string& id, const std::string& expected,
                                                       const std::string& next) {
  constexpr std::string_view op = "update_acme_authorization";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE acme_authorizations SET status = ? WHERE id = ? AND status = ?", {next, id, expected},
                       StatementKind::write);
  if (!r) return in(op, r.error());
  return r->affected_rows > 0;
}

core::Result<bool> SqlStore::update_acme_order(const AcmeOrderRecord& next, const std::string& expected) {
  constexpr std::string_view op = "update_acme_order";
  if (!next.certificate_serial.empty()) CARTORIO_TRY_VOID(check_serial(op, next.certificate_serial));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("UPDATE acme_orders SET status = ?, certificate_serial = ?, error = ? WHERE id = ? AND status = ?",
                       {next.status, text_or_null(next.certificate_serial), next.error_json, next.id, expected},
                       StatementKind::write);
  if (!r) return in(op, r.error());
  return r->affected_rows > 0;
}

}  // namespace cartorio::store::sql
