// SqlStore: the document repository (flow 1). A document is recorded together with its
// audit event in one transaction, so the trail never misses a stored document and never
// names one that was not stored.
#include "store/sql/sql_store.h"

#include "store/sql/sql_helpers.h"

#include <algorithm>
#include <array>

namespace cartorio::store::sql {
namespace {

using core::Errc;
using core::Error;

constexpr std::string_view kDocumentColumns =
    "id, owner, title, original_sha256, signed_sha256, signed_size, object_key, signer_serial, level, created_at, "
    "signer_cpf, signer_cpf_index, signer_name, signer_email, signer_email_index";

// The personal-data token columns (pii::reencrypt re-seals these; indexes stay).
constexpr std::array<std::string_view, 3> kTokenColumns = {"signer_cpf", "signer_name", "signer_email"};


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
  // An index without its token could be found but never shown.
  if (!rec.signer_cpf_index.empty() && rec.signer_cpf.empty())
    return Error(Errc::invalid_argument, std::string(op) + ": signer_cpf_index without signer_cpf");
  if (!rec.signer_email_index.empty() && rec.signer_email.empty())
    return Error(Errc::invalid_argument, std::string(op) + ": signer_email_index without signer_email");
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
  d.signer_cpf = row.text(10);
  d.signer_cpf_index = row.text(11);
  d.signer_name = row.text(12);
  d.signer_email = row.text(13);
  d.signer_email_index = row.text(14);
  return d;
}

core::Result<void> check_tokens(std::string_view op, const DocumentTokens& t) {
  CARTORIO_TRY_VOID(check_not_empty(op, "id", t.id));
  for (const auto& [column, token] : t.tokens) {
    if (std::find(kTokenColumns.begin(), kTokenColumns.end(), column) == kTokenColumns.end())
      return Error(Errc::invalid_argument, std::string(op) + ": " + column + " is not a personal-data column");
    CARTORIO_TRY_VOID(check_not_empty(op, column, token));
  }
  return core::ok();
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
  return write(op, [&](SqlConnection& conn) -> core::Result<void> {
    // The document first: the audit lock (PostgreSQL) is then held only for the event's
    // insert and the commit. Any failure below rolls both back.
    auto r = conn.query("INSERT INTO documents (" + std::string(kDocumentColumns) +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        {rec.id, rec.owner, rec.title, rec.original_sha256, rec.signed_sha256, rec.signed_size,
                         rec.object_key, rec.signer_serial, rec.level, rec.created_at, text_or_null(rec.signer_cpf),
                         text_or_null(rec.signer_cpf_index), text_or_null(rec.signer_name),
                         text_or_null(rec.signer_email), text_or_null(rec.signer_email_index)},
                        StatementKind::write);
    if (!r) {
      if (r.error().code == Errc::already_exists)
        return Error(Errc::already_exists, std::string(op) + ": document " + rec.id + " already exists");
      // A foreign-key failure (no such certificate) or a CHECK the checks above missed.
      return in(op, r.error());
    }
    CARTORIO_TRY_VOID(insert_transparency_entry(conn, "document", rec.id, rec.created_at, op));
    CARTORIO_TRY_VOID(insert_audit_event(conn, event, op));
    return core::ok();
  });
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
  if (f.signer_cpf_index) {
    // NULL (no CPF given) never equals anything, but an empty digest is a caller's mistake.
    CARTORIO_TRY_VOID(check_not_empty(op, "signer_cpf_index", *f.signer_cpf_index));
    conditions.emplace_back("signer_cpf_index = ?");
    params.emplace_back(*f.signer_cpf_index);
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

core::Result<std::vector<DocumentTokens>> SqlStore::list_document_tokens(const std::string& after_id, int limit) {
  constexpr std::string_view op = "list_document_tokens";
  CARTORIO_TRY_VOID(check_limit(op, limit));
  CARTORIO_TRY(auto conn, connection(op));
  // id is KEY_TEXT (byte order on both engines), so the keyset pages agree with `>`.
  auto r = conn->query(
      "SELECT id, signer_cpf, signer_name, signer_email FROM documents WHERE id > ?"
      " AND (signer_cpf IS NOT NULL OR signer_name IS NOT NULL OR signer_email IS NOT NULL) ORDER BY id LIMIT ?",
      {after_id, std::int64_t{limit}}, StatementKind::read);
  if (!r) return in(op, r.error());
  std::vector<DocumentTokens> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    DocumentTokens t;
    t.id = row.text(0);
    for (std::size_t i = 0; i < kTokenColumns.size(); ++i)
      if (!row.is_null(i + 1)) t.tokens.emplace(std::string(kTokenColumns[i]), row.text(i + 1));
    out.push_back(std::move(t));
  }
  return out;
}

core::Result<bool> SqlStore::replace_document_tokens(const DocumentTokens& current, const DocumentTokens& next) {
  constexpr std::string_view op = "replace_document_tokens";
  CARTORIO_TRY_VOID(check_tokens(op, current));
  CARTORIO_TRY_VOID(check_tokens(op, next));
  if (current.id != next.id) return Error(Errc::invalid_argument, std::string(op) + ": the two rows differ in id");
  bool same_columns = current.tokens.size() == next.tokens.size();
  for (const auto& [column, token] : current.tokens) same_columns = same_columns && next.tokens.count(column);
  if (!same_columns) return Error(Errc::invalid_argument, std::string(op) + ": the two rows differ in columns");

  std::vector<std::string> sets;
  std::vector<SqlValue> set_params, where_params;
  std::string where = " WHERE id = ?";
  where_params.emplace_back(current.id);
  for (const auto column : kTokenColumns) {
    const auto was = current.tokens.find(std::string(column));
    if (was == current.tokens.end()) {
      where += " AND " + std::string(column) + " IS NULL";
      continue;
    }
    where += " AND " + std::string(column) + " = ?";
    where_params.emplace_back(was->second);
    const std::string& now = next.tokens.at(std::string(column));
    if (now != was->second) {
      sets.push_back(std::string(column) + " = ?");
      set_params.emplace_back(now);
    }
  }
  CARTORIO_TRY(auto conn, connection(op));
  if (sets.empty()) {  // nothing to write: only whether the row still holds `current`
    auto r = conn->query("SELECT COUNT(*) FROM documents" + where, where_params, StatementKind::read);
    if (!r) return in(op, r.error());
    return !r->rows.empty() && r->rows.front().int64(0) == 1;
  }
  std::string sql = "UPDATE documents SET ";
  for (std::size_t i = 0; i < sets.size(); ++i) sql += (i ? ", " : "") + sets[i];
  sql += where;
  set_params.insert(set_params.end(), where_params.begin(), where_params.end());
  auto r = conn->query(sql, set_params, StatementKind::write);
  if (!r) return in(op, r.error());
  return r->affected_rows == 1;
}

}  // namespace cartorio::store::sql
