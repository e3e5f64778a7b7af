// What a log leaf is: the bytes whose RFC 9162 leaf hash goes into the Merkle tree.
//
// A leaf is a list of text fields, encoded as a big-endian uint32 field count and, per
// field, a big-endian uint32 byte length and the bytes. The first field names the kind and
// version; integers are decimal text. docs/audit.md lists the fields of each kind, so
// anyone holding the row (or the API's answer) recomputes the leaf without our code.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "store/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cartorio::audit {

using LeafFields = std::vector<std::string>;

crypto::Bytes encode_leaf(const LeafFields& fields);

// "audit-event/v1", id, time, actor, action, target, result, source, request_id, details.
LeafFields audit_event_fields(const store::AuditEvent& e);

// "certificate/v1", entry id, time, serial, issuer, not_before, not_after, SHA-256 (hex)
// of the certificate's DER; or "document/v1", entry id, time, document id, signed_sha256,
// original_sha256, signer_serial, level. An entry whose row is gone keeps its kind, id,
// time and reference with the other fields empty (so its leaf no longer matches).
LeafFields transparency_fields(const store::TransparencyEntry& e);

// A row of a log's source, in append order.
struct LeafRecord {
  std::int64_t id = 0;
  LeafFields fields;
};

// Where a log's leaves come from (the store's audit_events or transparency_entries).
class LeafSource {
 public:
  virtual ~LeafSource() = default;
  // Rows with id > after_id, ordered by id, at most `limit`.
  virtual core::Result<std::vector<LeafRecord>> next(std::int64_t after_id, int limit) = 0;
};

class AuditLeafSource final : public LeafSource {
 public:
  explicit AuditLeafSource(store::AuditLog& audit) : m_audit(audit) {}
  core::Result<std::vector<LeafRecord>> next(std::int64_t after_id, int limit) override;

 private:
  store::AuditLog& m_audit;
};

class TransparencyLeafSource final : public LeafSource {
 public:
  explicit TransparencyLeafSource(store::TransparencyLog& log) : m_log(log) {}
  core::Result<std::vector<LeafRecord>> next(std::int64_t after_id, int limit) override;

 private:
  store::TransparencyLog& m_log;
};

}  // namespace cartorio::audit
