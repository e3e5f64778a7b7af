// SqlStore: the document repository (flow 1). A document is recorded together with its
// audit event in one transaction, so the trail never misses a stored document and never
// names one that was not stored.
#include "store/sql/sql_store.h"

#include "store/sql/sql_helpers.h"
#include "store/sql/sql_transaction.h"

#include <algorithm>
#include <array>

namespace cartorio::store::sql {
namespace {

using core::Errc;
using core::Error;

constexpr std::string_view kDocumentColumns =
    "id, owner, title, original_sha256, signed_sha256, signed_size, object_key, signer_serial, level, created_at";

// The PAdES levels the signer produces (the table's CHECK constraint holds the same list).
constexpr std::array<std::string_view, 4> kLevels = {"B-B", "B-T", "B-LT", "B-LTA"};

core::Result<void> check_sha256(std::string_view op, std::string_view field, const std::string& hex) {
  if (hex.size() != 64 || !is_lower_hex(hex))
    return Error(Errc::invalid_argument, std::string(op) + ": " + std::string(field) +
                                             " must be 64 lowercase hex digits (SHA-256)");
  return core::ok();
}

core::Result<void> check_document(std::string_view op, const DocumentRecord& rec) {
  CARTORIO_TRY_VOID(check_not_empty(op, "id", rec.id));
  CARTORIO_TRY_VOID(check_not_empty(op, "owner", rec.owner));
  CARTORIO_TRY_VOID(check_not_empty(op, "object_key", rec.object_key));
  CARTORIO_TRY_VOID(check_sha256(op, "original_sha256", rec.original_sha256));
  CARTORIO_TRY_VOID(check_sha256(op, "signed_sha256", rec.signed_sha256));
  CARTORIO_TRY_VOID(check_serial(op, rec.signer_serial));
  if (rec.signed_size < 0) return Error(Errc::invalid_argument, std::string(op) + ": signed_size is negative");
  if (std::find(kLevels.begin(), kLevels.end(), rec.level) == kLevels.end())
    return Error(Errc::invalid_argument, std::string(op) + ": level must be B-B, B-T, B-LT or B-LTA");
  return core::ok();
}

DocumentRecord document_from_row(const SqlRow& row) {
  DocumentRecord d;
  d.id = row.text(0);
  d.owner = row.text(1);
  d.title = row.text(2);
  d.original_sha256 = row.text(3);
  d.signed_sha256 = row.text(4);
  d.signed_size = row.int64(5);
  d.object_key = row.text(6);
  d.signer_serial = row.text(7);
  d.level = row.text(8);
  d.created_at = row.int64(9);
  return d;
}

std::vector<DocumentRecord> documents_from(const SqlResult& r) {
  std::vector<DocumentRecord> out;
  out.reserve(r.rows.size());
  for (const auto& row : r.rows) out.push_back(document_from_row(row));
  return out;
}

}  // namespace

core::Result<void> SqlStore::insert_document(const DocumentRecord& rec, const AuditEvent& event) {
  constexpr std::string_view op = "insert_document";
  CARTORIO_TRY_VOID(check_document(op, rec));
  CARTORIO_TRY(auto conn, connection(op));
  auto tx = SqlTransaction::begin(*conn, TxMode::immediate);
  if (!tx) return in(op, tx.error());
  // The document first: the audit lock (PostgreSQL) is then held only for the event's
  // insert and the commit. Any failure below leaves `tx` to roll both back.
  auto r = conn->query("INSERT INTO documents (" + std::string(kDocumentColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       {rec.id, rec.owner, rec.title, rec.original_sha256, rec.signed_sha256, rec.signed_size,
                        rec.object_key, rec.signer_serial, rec.level, rec.created_at},
                       StatementKind::write);
  if (!r) {
    if (r.error().code == Errc::already_exists)
      return Error(Errc::already_exists, std::string(op) + ": document " + rec.id + " already exists");
    // A foreign-key failure (no such certificate) or a CHECK the checks above missed.
    return in(op, r.error());
  }
  CARTORIO_TRY_VOID(insert_transparency_entry(*conn, "document", rec.id, rec.created_at, op));
  CARTORIO_TRY_VOID(insert_audit_event(*conn, event, op));
  auto committed = tx->commit();
  if (!committed) return in(op, committed.error());
  return core::ok();
}

core::Result<DocumentRecord> SqlStore::get_document(const std::string& id) {
  constexpr std::string_view op = "get_document";
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kDocumentColumns) + " FROM documents WHERE id = ?", {id},
                       StatementKind::read);
  if (!r) return in(op, r.error());
  if (r->rows.empty()) return Error(Errc::not_found, std::string(op) + ": no document with id " + id);
  return document_from_row(r->rows.front());
}

core::Result<std::vector<DocumentRecord>> SqlStore::find_documents_by_digest(const std::string& sha256_hex) {
  constexpr std::string_view op = "find_documents_by_digest";
  // Digests are stored lowercase; a verifier pasting `sha256sum` or uppercase output still matches.
  std::string digest = sha256_hex;
  for (char& c : digest)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  CARTORIO_TRY_VOID(check_sha256(op, "digest", digest));
  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query("SELECT " + std::string(kDocumentColumns) +
                           " FROM documents WHERE original_sha256 = ? OR signed_sha256 = ?"
                           " ORDER BY created_at DESC, id DESC",
                       {digest, digest}, StatementKind::read);
  if (!r) return in(op, r.error());
  return documents_from(*r);
}

core::Result<std::vector<DocumentRecord>> SqlStore::list_documents(const DocumentFilter& f) {
  constexpr std::string_view op = "list_documents";
  CARTORIO_TRY_VOID(check_limit(op, f.limit));
  std::vector<std::string> conditions;
  std::vector<SqlValue> params;
  if (f.owner) {
    conditions.emplace_back("owner = ?");
    params.emplace_back(*f.owner);
  }
  if (f.after) {
    // Keyset paging on the ordering key itself: a row inserted meanwhile never shifts a page.
    conditions.emplace_back("(created_at, id) < (?, ?)");
    params.emplace_back(f.after->created_at);
    params.emplace_back(f.after->id);
  }
  params.emplace_back(std::int64_t{f.limit});
  const std::string sql = "SELECT " + std::string(kDocumentColumns) + " FROM documents" + where_clause(conditions) +
                          " ORDER BY created_at DESC, id DESC LIMIT ?";

  CARTORIO_TRY(auto conn, connection(op));
  auto r = conn->query(sql, params, StatementKind::read);
  if (!r) return in(op, r.error());
  return documents_from(*r);
}

}  // namespace cartorio::store::sql
