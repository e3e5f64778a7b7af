// `cartorio audit verify-archive`: checks the audit archive (audit/archive_batch.h) on its
// own and against the store:
//   - every batch: readable, well formed, named after its first id, its digest and count
//     right, signed by a recorded audit key;
//   - the chain: each batch's previous_sha256 is the SHA-256 of the batch before it, so a
//     batch removed, replaced or slipped in shows;
//   - the ids: from the store's first event on, every event in exactly one batch, in order,
//     with no gap ("gap": in the store, in no batch) and no duplicate;
//   - each archived line against the store's row, byte for byte ("changed"), and archived
//     events the store no longer has ("not-in-store");
//   - the cursor: a batch it names that is gone means the newest batches were removed.
// Store events after the archive's last are pending (not a finding).
#pragma once

#include "crypto/ossl.h"
#include "objectstore/object_store.h"
#include "store/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cartorio::audit {

struct ArchiveFinding {
  // "unreadable" | "malformed" | "misnamed" | "digest-mismatch" | "bad-signature" |
  // "unknown-key" | "chain-broken" | "duplicate" | "gap" | "changed" | "not-in-store" |
  // "truncated"
  std::string problem;
  std::string batch;    // the batch key, when the finding is about one
  std::int64_t id = 0;  // the event, when it is about one
  std::string message;
};

struct ArchiveReport {
  std::uint64_t batches = 0;
  std::uint64_t events = 0;         // event lines in the archive
  std::int64_t first_id = 0;        // of the first batch (0 when empty)
  std::int64_t last_id = 0;         // of the newest batch
  std::uint64_t store_events = 0;   // rows in the store now
  std::uint64_t pending = 0;        // store rows after last_id: not shipped yet
  std::uint64_t findings_total = 0;  // findings may be cut to kMaxArchiveFindings
  std::vector<ArchiveFinding> findings;
  bool ok() const { return findings_total == 0; }
};

inline constexpr std::size_t kMaxArchiveFindings = 1000;

// Errors only when the store or the object store cannot be read at all; everything wrong
// with the archive is a finding.
core::Result<ArchiveReport> verify_archive(store::AuditLog& log, objectstore::ObjectStore& objects,
                                           const std::vector<crypto::PKey>& audit_keys);

}  // namespace cartorio::audit
