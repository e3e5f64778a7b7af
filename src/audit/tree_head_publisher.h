// Signs tree heads of a MerkleLog with the audit key and publishes them, with the leaf
// hashes they cover, to the object store's audit-logs area:
//
//   audit-logs/<log>/checkpoint.json                     the latest signed head
//   audit-logs/<log>/checkpoints/<size>-<time ms>.json   every signed head, kept
//   audit-logs/<log>/leaves/<first>-<end>.json           {"first", "ids", "leaf_hashes"}
//                                                        for leaves [first, end)
// (numbers zero-padded to 20 digits, so keys sort in log order.)
//
// Published heads are the witnesses `cartorio audit verify` holds the store to; kept in a
// bucket the database's administrators cannot rewrite (S3 object lock), a row changed in
// the database cannot be hidden. A head is only signed over a history consistent with the
// latest published one: when the store's tree no longer matches it (a row changed or
// removed), publish() refuses (Errc::audit_tampered) instead of blessing the change.
#pragma once

#include "audit/checkpoint.h"
#include "audit/merkle_log.h"
#include "core/clock.h"
#include "keys/key_store.h"
#include "objectstore/object_store.h"
#include "store/store.h"

#include <optional>
#include <string>

namespace cartorio::audit {

inline constexpr std::string_view kAuditKeyLabel = "audit-log";

// Where a log's published heads and leaves lie in the object store.
struct LogLayout {
  std::string prefix;  // "audit-logs/<log>/"
  explicit LogLayout(const std::string& log) : prefix("audit-logs/" + log + "/") {}
  std::string latest() const { return prefix + "checkpoint.json"; }
  std::string checkpoints() const { return prefix + "checkpoints/"; }
  std::string leaves() const { return prefix + "leaves/"; }
  std::string checkpoint(std::uint64_t size, std::int64_t timestamp_ms) const;
  std::string leaves(std::uint64_t first, std::uint64_t end) const;
};

// The audit key: created (EC P-256) and recorded on first use, found by its label after.
core::Result<keys::KeyRef> ensure_audit_key(keys::KeyStore& keys, store::KeyRecordRepository& records,
                                            const core::Clock& clock);
// The public keys of every audit key recorded (current and retired), for verifiers.
core::Result<std::vector<crypto::PKey>> audit_public_keys(keys::KeyStore& keys, store::KeyRecordRepository& records);

struct PublisherOptions {
  std::string origin;           // checkpoint origin line, e.g. "notary.example/audit"
  std::string actor = "server";  // key-use audit actor
};

class TreeHeadPublisher {
 public:
  TreeHeadPublisher(MerkleLog& log, keys::KeyStore& keys, keys::KeyRef key, objectstore::ObjectStore& objects,
                    const core::Clock& clock, PublisherOptions options);

  // Syncs the log, then signs and publishes a head of its current size.
  core::Result<Checkpoint> publish();
  // publish() when the log grew past the latest head (or there is none); nullopt otherwise.
  core::Result<std::optional<Checkpoint>> publish_if_grown();
  // The latest published head; nullopt before the first.
  core::Result<std::optional<Checkpoint>> latest();

  MerkleLog& log() { return m_log; }
  const std::string& origin() const { return m_options.origin; }

 private:
  // Signs and publishes a head of `size` over `previous` (the latest published); m_publish held.
  core::Result<Checkpoint> publish_over(std::uint64_t size, const std::optional<Checkpoint>& previous);

  MerkleLog& m_log;
  keys::KeyStore& m_keys;
  keys::KeyRef m_key;
  objectstore::ObjectStore& m_objects;
  const core::Clock& m_clock;
  PublisherOptions m_options;
  LogLayout m_layout;
  std::mutex m_publish;  // one head at a time per process
};

}  // namespace cartorio::audit
