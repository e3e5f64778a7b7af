#include "store/sql/sql_store.h"

#include "core/log.h"
#include "store/sql/migrations.h"
#include "store/sql/sql_helpers.h"
#include "store/sql/sql_transaction.h"

#include <nlohmann/json.hpp>

#include <exception>

namespace cartorio::store::sql {
namespace {

using core::Errc;
using core::Error;

// Key of the transaction lock that makes audit id order equal commit order ("cartaudi").
constexpr std::int64_t kAuditLockKey = 0x6361727461756469;
// The same for transparency entries ("carttran").
constexpr std::int64_t kTransparencyLockKey = 0x636172747472616e;

constexpr std::string_view kCertificateColumns =
    "serial, issuer, profile, subject, sans, not_before, not_after, status, revocation_reason, "
    "revoked_at, requester, pem, created_at";
constexpr std::string_view kAuditColumns =
    "id, time, actor, action, target, result, source, request_id, details";
constexpr std::string_view kKeyRecordColumns = "label, uri, backend, algorithm, purpose, state, created_at";
constexpr std::string_view kAuthorityColumns = "name, cert_pem, key_label, updated_at";

// RFC 5280 5.3.1 CRLReason: 0..10, 7 is unused.
bool valid_reason(int reason) { return reason >= 0 && reason <= 10 && reason != 7; }

core::Result<std::string> sans_to_json(const std::vector<std::string>& sans) {
  try {
    return nlohmann::json(sans).dump();
  } catch (const nlohmann::json::exception&) {
    return Error(Errc::invalid_argument, "insert_certificate: a SAN is not valid UTF-8");
  }
}

core::Result<std::vector<std::string>> sans_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Error(Errc::store_error, "stored SANs are not a JSON array");
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) return Error(Errc::store_error, "stored SANs hold a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

core::Result<CertificateRecord> certificate_from_row(const SqlRow& row) {
  CertificateRecord rec;
  rec.serial = row.text(0);
  rec.issuer = row.text(1);
  rec.profile = row.text(2);
  rec.subject = row.text(3);
  CARTORIO_TRY(rec.sans, sans_from_json(row.text(4)));
  rec.not_before = row.int64(5);
  rec.not_after = row.int64(6);
  const std::string& status = row.text(7);
  if (status == "good") rec.status = CertificateStatus::good;
  else if (status == "revoked") rec.status = CertificateStatus::revoked;
  else return Error(Errc::store_error, "certificate " + rec.serial + " has unknown status '" + status + "'");
  rec.revocation_reason = static_cast<int>(row.int64(8));
  rec.revoked_at = row.int64(9);
  rec.requester = row.text(10);
  rec.pem = row.text(11);
  rec.created_at = row.int64(12);
  return rec;
}

AuditEvent audit_from_row(const SqlRow& row) {
  AuditEvent e;
  e.id = row.int64(0);
  e.time = row.int64(1);
  e.actor = row.text(2);
  e.action = row.text(3);
  e.target = row.text(4);
  e.result = row.text(5);
  e.source = row.text(6);
  e.request_id = row.text(7);
  e.details = row.text(8);
  return e;
}

KeyRecord key_record_from_row(const SqlRow& row) {
  KeyRecord k;
  k.label = row.text(0);
  k.uri = row.text(1);
  k.backend = row.text(2);
  k.algorithm = row.text(3);
  k.purpose = row.text(4);
  k.state = row.text(5);
  k.created_at = row.int64(6);
  return k;
}

AuthorityRecord authority_from_row(const SqlRow& row) {
  AuthorityRecord a;
  a.name = row.text(0);
  a.cert_pem = row.text(1);
  a.key_label = row.text(2);
  a.updated_at = row.int64(3);
  return a;
}

}  // namespace

core::Result<std::string> strings_to_json(std::string_view op, const std::vector<std::string>& values) {
  try {
    return nlohmann::json(values).dump();
  } catch (const nlohmann::json::exception&) {
    return Error(Errc::invalid_argument, std::string(op) + ": a value is not valid UTF-8");
  }
}

core::Result<std::vector<std::string>> strings_from_json(std::string_view op, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Error(Errc::store_error, std::string(op) + ": stored value is not a JSON array");
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) return Error(Errc::store_error, std::string(op) + ": stored array holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

core::Result<std::unique_ptr<Store>> SqlStore::open(SqlDialect dialect, std::unique_ptr<ConnectionPool> pool,
                                                   std::unique_ptr<ConnectionPool> read_pool) {
  auto store = std::make_unique<SqlStore>(Key{}, std::move(dialect), std::move(pool), std::move(read_pool));
  {
    CARTORIO_TRY(auto conn, store->connection("open"));
    CARTORIO_TRY(int version, apply_migrations(*conn, store->m_dialect, embedded_migrations()));
    core::log::info("store opened", {{"backend", store->m_dialect.backend_name}, {"schema_version", version}});
  }
  return std::unique_ptr<Store>(std::move(store));
}

core::Result<PooledConnection> SqlStore::connection(std::string_view op) {
  auto conn = m_pool->acquire();
  if (!conn) return in(op, conn.error());
  return conn;
}

core::Result<PooledConnection> SqlStore::read_connection(std::string_view op) {
  if (!m_read_pool) return connection(op);
  auto conn = m_read_pool->acquire();
  if (!conn) return connection(op);  // a reader that cannot open: the writer's connection serves
  return conn;
}

// --- certificates ---------------------------------------------------------------------

core::Result<void> SqlStore::insert_certificate(const CertificateRecord& rec, const std::vector<AuditEvent>& events) {
  constexpr std::string_view op = "insert_certificate";
  CARTORIO_TRY_VOID(check_serial(op, rec.serial));
  CARTORIO_TRY_VOID(check_not_empty(op, "issuer", rec.issuer));
  CARTORIO_TRY_VOID(check_not_empty(op, "profile", rec.profile));
  if (rec.not_after < rec.not_before)
    return Error(Errc::invalid_argument, std::string(op) + ": not_after is before not_before");
  if (rec.status == CertificateStatus::revoked && (rec.revoked_at <= 0 || !valid_reason(rec.revocation_reason)))
    return Error(Errc::invalid_argument, std::string(op) + ": a revoked record needs revoked_at and a valid reason");
  CARTORIO_TRY(std::string sans, sans_to_json(rec.sans));
  const bool revoked = rec.status == CertificateStatus::revoked;
  return write(op, [&](SqlConnection& conn) -> core::Result<void> {
    auto r = conn.query(
        "INSERT INTO certificates (" + std::string(kCertificateColumns) +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {rec.serial, rec.issuer, rec.profile, rec.subject, sans, rec.not_before, rec.not_after,
         std::string(to_string(rec.status)), std::int64_t{revoked ? rec.revocation_reason : 0},
         revoked ? rec.revoked_at : std::int64_t{0}, rec.requester, rec.pem, rec.created_at},
        StatementKind::write);
    if (!r) {
      // The primary key decides, so two racing inserts cannot both pass a pre-check.
      if (r.error().code == Errc::already_exists)
        return Error(Errc::already_exists, std::string(op) + ": serial " + rec.serial + " already exists");
      return in(op, r.error());
    }
    CARTORIO_TRY_VOID(insert_transparency_entry(conn, "certificate", rec.serial, rec.created_at, op));
    for (const auto& e : events) CARTORIO_TRY_VOID(insert_audit_event(conn, e, op));
    return core::ok();
  });
}

struct SqlStore::PendingWrite {
  std::string_view op;
  const WriteWork& work;
  core::Result<void> result = Error(Errc::internal, "write not run");
  std::exception_ptr thrown;  // what `work` threw: rethrown to its own caller, not the leader's
  bool done = false;          // guarded by m_group_mutex
};

core::Result<void> SqlStore::write(std::string_view op, const WriteWork& work) {
  PendingWrite me{op, work};
  auto outcome = [&me] {
    if (me.thrown) std::rethrow_exception(me.thrown);
    return std::move(me.result);
  };
  if (!m_dialect.group_commit) {
    PendingWrite* one[] = {&me};
    run_writes(one);
    return outcome();
  }
  std::unique_lock lock(m_group_mutex);
  m_group_queue.push_back(&me);
  while (!me.done) {
    if (m_group_leader) {
      m_group_done.wait(lock);
      continue;
    }
    // Lead: everything queued so far (this call included) goes in one transaction. Calls
    // that arrive meanwhile queue for the next leader.
    m_group_leader = true;
    const auto batch = std::exchange(m_group_queue, {});
    lock.unlock();
    struct Finish {  // also on an exception, so no follower waits forever
      SqlStore& store;
      const std::vector<PendingWrite*>& batch;
      std::unique_lock<std::mutex>& lock;
      const int exceptions = std::uncaught_exceptions();
      ~Finish() {
        lock.lock();
        const bool unwinding = std::uncaught_exceptions() > exceptions;  // nothing was committed
        for (auto* p : batch) {
          if (unwinding) p->result = Error(Errc::store_error, std::string(p->op) + ": write abandoned");
          p->done = true;
        }
        store.m_group_leader = false;
        store.m_group_done.notify_all();
      }
    } finish{*this, batch, lock};
    run_writes(batch);
  }
  return outcome();
}

void SqlStore::run_writes(std::span<PendingWrite* const> batch) {
  auto fail_all = [&](const Error& e) {
    for (auto* p : batch) p->result = in(p->op, e);
  };
  auto conn = connection(batch.front()->op);
  if (!conn) {
    for (auto* p : batch) p->result = in(p->op, conn.error());
    return;
  }
  auto tx = SqlTransaction::begin(**conn, TxMode::immediate);
  if (!tx) return fail_all(tx.error());
  // One item needs no savepoint: its failure rolls the whole transaction back.
  const bool savepoints = batch.size() > 1;
  auto exec = [&](std::string_view sql) { return (*conn)->query(sql, {}, StatementKind::write); };
  bool any_done = false;
  for (auto* p : batch) {
    if (savepoints) {
      if (auto r = exec("SAVEPOINT grouped_write"); !r) return fail_all(r.error());
    }
    try {
      p->result = p->work(**conn);
    } catch (...) {  // as a failure of this item only; write() rethrows it to its caller
      p->thrown = std::current_exception();
      p->result = Error(Errc::store_error, std::string(p->op) + ": write abandoned");
    }
    if (p->result) {
      any_done = true;
      if (savepoints) {
        if (auto r = exec("RELEASE grouped_write"); !r) return fail_all(r.error());
      }
    } else if (!savepoints) {
      return;  // the transaction rolls back when it dies
    } else if (auto r = exec("ROLLBACK TO grouped_write"); !r) {
      // SQLite rolls the whole transaction back itself on some errors (full, I/O, busy):
      // the savepoint is gone then. The item keeps its own error, the others get this one.
      auto own = std::move(p->result);
      fail_all(r.error());
      p->result = std::move(own);
      return;
    } else if (auto released = exec("RELEASE grouped_write"); !released) {
      return fail_all(released.error());
    }
  }
  if (!any_done) return;
  // Not committed: every item fails with that, also one that failed only because another
  // item of the batch had written the same key first (its already_exists would be false).
  if (auto committed = tx->commit(); !committed) fail_all(committed.error());
}

core::Result<CertificateRecord> SqlStore::get_certificate(const std::string& serial) {
  constexpr std::string_view op = "get_certificate";
  CARTORIO_TRY_VOID(check_serial(op, serial));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kCertificateColumns) + " FROM certificates WHERE serial = ?",
                       {serial}, StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no certificate with serial " + serial);
  auto rec = certificate_from_row(r->rows.front());
  if (!rec) return in(op, rec.error());
  return rec;
}

core::Result<std::vector<CertificateRecord>> SqlStore::list_certificates(const CertificateFilter& f) {
  constexpr std::string_view op = "list_certificates";
  CARTORIO_TRY_VOID(check_limit(op, f.limit));
  if (f.offset < 0) return Error(Errc::invalid_argument, std::string(op) + ": offset is negative");

  std::vector<std::string> conditions;
  std::vector<SqlValue> params;
  if (f.issuer) {
    conditions.emplace_back("issuer = ?");
    params.emplace_back(*f.issuer);
  }
  if (f.profile) {
    conditions.emplace_back("profile = ?");
    params.emplace_back(*f.profile);
  }
  if (f.status) {
    conditions.emplace_back("status = ?");
    params.emplace_back(std::string(to_string(*f.status)));
  }
  if (f.not_after_before) {
    conditions.emplace_back("not_after < ?");
    params.emplace_back(*f.not_after_before);
  }
  if (f.not_after_after) {
    conditions.emplace_back("not_after > ?");
    params.emplace_back(*f.not_after_after);
  }
  if (f.created_before) {
    conditions.emplace_back("created_at < ?");
    params.emplace_back(*f.created_before);
  }
  // documents.signer_serial is indexed: one probe per certificate.
  if (f.without_document)
    conditions.emplace_back("NOT EXISTS (SELECT 1 FROM documents d WHERE d.signer_serial = certificates.serial)");
  params.emplace_back(std::int64_t{f.limit});
  params.emplace_back(std::int64_t{f.offset});
  // (not_after, serial) is unique, so pages never overlap or skip.
  std::string sql = "SELECT " + std::string(kCertificateColumns) + " FROM certificates" +
                    where_clause(conditions) + " ORDER BY not_after, serial LIMIT ? OFFSET ?";

  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(sql, params, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<CertificateRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    auto rec = certificate_from_row(row);
    if (!rec) return in(op, rec.error());
    out.push_back(std::move(rec).value());
  }
  return out;
}

core::Result<std::int64_t> SqlStore::count_certificates() {
  constexpr std::string_view op = "count_certificates";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT COUNT(*) FROM certificates", {}, StatementKind::read);
  if (!r) return in(op, r.error());
  return r->rows.empty() ? 0 : r->rows.front().int64(0);
}

core::Result<void> SqlStore::revoke_certificate(const std::string& serial, int reason, std::int64_t revoked_at) {
  constexpr std::string_view op = "revoke_certificate";
  CARTORIO_TRY_VOID(check_serial(op, serial));
  if (!valid_reason(reason))
    return Error(Errc::invalid_reason, std::string(op) + ": " + std::to_string(reason) +
                                           " is not an RFC 5280 CRLReason code");
  if (revoked_at <= 0) return Error(Errc::invalid_argument, std::string(op) + ": revoked_at must be positive");

  CARTORIO_TRY(auto conn, connection(op));
  // The status test in the WHERE clause makes the check and the change one step: of two
  // concurrent revocations, exactly one matches the row.
  auto r = conn->query(
      "UPDATE certificates SET status = 'revoked', revocation_reason = ?, revoked_at = ? "
      "WHERE serial = ? AND status = 'good' RETURNING serial",
      {std::int64_t{reason}, revoked_at, serial}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (!r->rows.empty()) return core::ok();

  // Nothing changed: rows are never deleted, so the serial is unknown or already revoked.
  auto existing = conn->query("SELECT status FROM certificates WHERE serial = ?", {serial}, StatementKind::read);
  if (!existing) return in(op, existing.error());
  if (existing->rows.empty())
    return Error(Errc::not_found, std::string(op) + ": no certificate with serial " + serial);
  return Error(Errc::already_revoked, std::string(op) + ": certificate " + serial + " is already revoked");
}

// --- revocation lists ------------------------------------------------------------------

core::Result<std::vector<RevokedEntry>> SqlStore::list_revoked(const std::string& issuer, std::int64_t not_after_min) {
  constexpr std::string_view op = "list_revoked";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "SELECT serial, revoked_at, revocation_reason FROM certificates "
      "WHERE issuer = ? AND status = 'revoked' AND not_after >= ? ORDER BY serial",
      {issuer, not_after_min}, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<RevokedEntry> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows)
    out.push_back(RevokedEntry{row.text(0), row.int64(1), static_cast<int>(row.int64(2))});
  return out;
}

core::Result<std::int64_t> SqlStore::next_crl_number(const std::string& issuer) {
  constexpr std::string_view op = "next_crl_number";
  CARTORIO_TRY_VOID(check_not_empty(op, "issuer", issuer));
  CARTORIO_TRY(auto conn, connection(op));
  // One upsert: the row lock (PostgreSQL) or the write lock (SQLite) orders concurrent
  // callers, in this process or another, so no number is handed out twice.
  auto r = conn->query(
      "INSERT INTO crl_numbers (issuer, last_number) VALUES (?, 1) "
      "ON CONFLICT (issuer) DO UPDATE SET last_number = crl_numbers.last_number + 1 "
      "RETURNING last_number",
      {issuer}, StatementKind::write);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::store_error, std::string(op) + ": upsert returned no row");
  return r->rows.front().int64(0);
}

// --- audit -----------------------------------------------------------------------------

core::Result<std::int64_t> SqlStore::insert_audit_event(SqlConnection& conn, const AuditEvent& e,
                                                        std::string_view op) {
  CARTORIO_TRY_VOID(check_not_empty(op, "audit actor", e.actor));
  CARTORIO_TRY_VOID(check_not_empty(op, "audit action", e.action));
  // Ids come from a sequence, assigned at insert time; without the lock a later id could
  // commit first and a reader paging with after_id would skip the earlier one for good.
  if (!m_dialect.transaction_lock.empty()) {
    auto lock = conn.query(m_dialect.transaction_lock, {kAuditLockKey}, StatementKind::write);
    if (!lock) return in(op, lock.error());
  }
  auto id = conn.insert_returning_id(
      "INSERT INTO audit_events (time, actor, action, target, result, source, request_id, details) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {e.time, e.actor, e.action, e.target, e.result, e.source, e.request_id, e.details});
  if (!id) return in(op, id.error());
  return id;
}

core::Result<std::int64_t> SqlStore::append_audit_event(const AuditEvent& e) {
  constexpr std::string_view op = "append_audit_event";
  std::int64_t id = 0;
  CARTORIO_TRY_VOID(write(op, [&](SqlConnection& conn) -> core::Result<void> {
    CARTORIO_TRY(id, insert_audit_event(conn, e, op));
    return core::ok();
  }));
  return id;
}

core::Result<std::vector<std::int64_t>> SqlStore::append_audit_events(const std::vector<AuditEvent>& events) {
  constexpr std::string_view op = "append_audit_events";
  std::vector<std::int64_t> ids;
  if (events.empty()) return ids;
  CARTORIO_TRY_VOID(write(op, [&](SqlConnection& conn) -> core::Result<void> {
    ids.reserve(events.size());
    for (const auto& e : events) {
      CARTORIO_TRY(std::int64_t id, insert_audit_event(conn, e, op));
      ids.push_back(id);
    }
    return core::ok();
  }));
  return ids;
}

core::Result<std::vector<AuditEvent>> SqlStore::list_audit_events(const AuditFilter& f) {
  constexpr std::string_view op = "list_audit_events";
  CARTORIO_TRY_VOID(check_limit(op, f.limit));
  std::vector<std::string> conditions{"id > ?"};
  std::vector<SqlValue> params{f.after_id};
  if (f.since) {
    conditions.emplace_back("time >= ?");
    params.emplace_back(*f.since);
  }
  if (f.until) {
    conditions.emplace_back("time < ?");
    params.emplace_back(*f.until);
  }
  if (f.actor) {
    conditions.emplace_back("actor = ?");
    params.emplace_back(*f.actor);
  }
  if (f.action) {
    conditions.emplace_back("action = ?");
    params.emplace_back(*f.action);
  }
  if (f.target) {
    conditions.emplace_back("target = ?");
    params.emplace_back(*f.target);
  }
  params.emplace_back(std::int64_t{f.limit});
  std::string sql = "SELECT " + std::string(kAuditColumns) + " FROM audit_events" + where_clause(conditions) +
                    " ORDER BY id LIMIT ?";

  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(sql, params, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<AuditEvent> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(audit_from_row(row));
  return out;
}

// --- transparency log --------------------------------------------------------------------

namespace {
// The entry, and the public columns of the certificate or document it names (NULL when
// that row is gone: the verifier reports it).
constexpr std::string_view kTransparencySelect =
    "SELECT t.id, t.kind, t.ref, t.time, c.serial, c.issuer, c.not_before, c.not_after, c.pem, "
    "d.id, d.signed_sha256, d.original_sha256, d.signer_serial, d.level "
    "FROM transparency_entries t "
    "LEFT JOIN certificates c ON t.kind = 'certificate' AND c.serial = t.ref "
    "LEFT JOIN documents d ON t.kind = 'document' AND d.id = t.ref";

TransparencyEntry transparency_from_row(const SqlRow& row) {
  TransparencyEntry e;
  e.id = row.int64(0);
  e.kind = row.text(1);
  e.ref = row.text(2);
  e.time = row.int64(3);
  if (e.kind == "certificate") {
    e.found = !row.is_null(4);
    e.issuer = row.text(5);
    e.not_before = row.int64(6);
    e.not_after = row.int64(7);
    e.pem = row.text(8);
  } else {
    e.found = !row.is_null(9);
    e.signed_sha256 = row.text(10);
    e.original_sha256 = row.text(11);
    e.signer_serial = row.text(12);
    e.level = row.text(13);
  }
  return e;
}
}  // namespace

core::Result<void> SqlStore::insert_transparency_entry(SqlConnection& conn, std::string_view kind,
                                                       const std::string& ref, std::int64_t time,
                                                       std::string_view op) {
  if (!m_dialect.transaction_lock.empty()) {
    auto lock = conn.query(m_dialect.transaction_lock, {kTransparencyLockKey}, StatementKind::write);
    if (!lock) return in(op, lock.error());
  }
  auto r = conn.query("INSERT INTO transparency_entries (kind, ref, time) VALUES (?, ?, ?)",
                      {std::string(kind), ref, time}, StatementKind::write);
  if (!r) return in(op, r.error());
  return core::ok();
}

core::Result<std::vector<TransparencyEntry>> SqlStore::list_transparency_entries(std::int64_t after_id, int limit) {
  constexpr std::string_view op = "list_transparency_entries";
  CARTORIO_TRY_VOID(check_limit(op, limit));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(std::string(kTransparencySelect) + " WHERE t.id > ? ORDER BY t.id LIMIT ?",
                       {after_id, std::int64_t{limit}}, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<TransparencyEntry> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(transparency_from_row(row));
  return out;
}

core::Result<TransparencyEntry> SqlStore::find_transparency_entry(const std::string& kind, const std::string& ref) {
  constexpr std::string_view op = "find_transparency_entry";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(std::string(kTransparencySelect) + " WHERE t.kind = ? AND t.ref = ?", {kind, ref},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no " + kind + " " + ref + " in the log");
  return transparency_from_row(r->rows.front());
}

// --- key records and authorities -------------------------------------------------------

core::Result<void> SqlStore::put_key_record(const KeyRecord& rec) {
  constexpr std::string_view op = "put_key_record";
  CARTORIO_TRY_VOID(check_not_empty(op, "label", rec.label));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "INSERT INTO key_records (" + std::string(kKeyRecordColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (label) DO UPDATE SET uri = excluded.uri, backend = excluded.backend, "
      "algorithm = excluded.algorithm, purpose = excluded.purpose, state = excluded.state, "
      "created_at = excluded.created_at",
      {rec.label, rec.uri, rec.backend, rec.algorithm, rec.purpose, rec.state, rec.created_at},
      StatementKind::write);
  if (!r) return in(op, r.error());
  return core::ok();
}

core::Result<KeyRecord> SqlStore::get_key_record(const std::string& label) {
  constexpr std::string_view op = "get_key_record";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kKeyRecordColumns) + " FROM key_records WHERE label = ?", {label},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no key record labelled " + label);
  return key_record_from_row(r->rows.front());
}

core::Result<std::vector<KeyRecord>> SqlStore::list_key_records() {
  constexpr std::string_view op = "list_key_records";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kKeyRecordColumns) + " FROM key_records ORDER BY label", {},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<KeyRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(key_record_from_row(row));
  return out;
}

core::Result<void> SqlStore::put_authority(const AuthorityRecord& rec) {
  constexpr std::string_view op = "put_authority";
  CARTORIO_TRY_VOID(check_not_empty(op, "name", rec.name));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(
      "INSERT INTO authorities (" + std::string(kAuthorityColumns) + ") VALUES (?, ?, ?, ?) "
      "ON CONFLICT (name) DO UPDATE SET cert_pem = excluded.cert_pem, key_label = excluded.key_label, "
      "updated_at = excluded.updated_at",
      {rec.name, rec.cert_pem, rec.key_label, rec.updated_at}, StatementKind::write);
  if (!r) return in(op, r.error());
  return core::ok();
}

core::Result<AuthorityRecord> SqlStore::get_authority(const std::string& name) {
  constexpr std::string_view op = "get_authority";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kAuthorityColumns) + " FROM authorities WHERE name = ?", {name},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no authority named " + name);
  return authority_from_row(r->rows.front());
}

core::Result<std::vector<AuthorityRecord>> SqlStore::list_authorities() {
  constexpr std::string_view op = "list_authorities";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kAuthorityColumns) + " FROM authorities ORDER BY name", {},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<AuthorityRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) out.push_back(authority_from_row(row));
  return out;
}

// --- health ------------------------------------------------------------------------------

core::Result<int> SqlStore::schema_version() {
  constexpr std::string_view op = "schema_version";
  CARTORIO_TRY(auto conn, connection(op));
  auto v = read_schema_version(*conn);
  if (!v) return in(op, v.error());
  return v;
}

core::Result<void> SqlStore::check() {
  constexpr std::string_view op = "check";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT 1", {}, StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty() || r->rows.front().int64(0) != 1)
    return Error(Errc::store_error, std::string(op) + ": SELECT 1 returned no 1");
  return core::ok();
}

core::Result<void> SqlStore::change_own_password(std::string_view new_password) {
  constexpr std::string_view op = "change_own_password";
  {
    CARTORIO_TRY(auto conn, connection(op));
    auto changed = conn->change_own_password(new_password);
    if (!changed) {
      if (changed.error().code == Errc::not_supported)
        return Error(Errc::not_supported, std::string(op) + ": the " + m_dialect.backend_name +
                                              " store has no password");
      return in(op, changed.error());
    }
  }
  // Sessions keep the login they made: re-open them all, through the password provider.
  m_pool->retire_all();
  if (m_read_pool) m_read_pool->retire_all();
  core::log::info("store password changed; pooled connections retired", {{"backend", m_dialect.backend_name}});
  return core::ok();
}

}  // namespace cartorio::store::sql
