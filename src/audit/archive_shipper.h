// ArchiveShipper: ships audit events from the store to the object store's audit archive
// as signed, chained JSON Lines batches (audit/archive_batch.h; the `audit-log-processor`
// job and `cartorio audit ship`).
//
// No gap, no duplicate, whatever dies when: the resume point is the archive itself (the
// newest batch: events after its last id are pending), never a counter kept elsewhere. A
// batch is one put_if_absent: before it nothing is shipped, after it the batch is the new
// resume point. The cursor object (kArchiveCursorKey, {"batch": key}) is only a hint where
// to start listing, rewritten every kCursorStride batches; a stale or missing one costs a
// longer listing, never an event.
//
// Concurrent shippers (two workers, a worker and the CLI) race on the next batch's key, the
// first id after the newest batch: one put_if_absent wins, the other adopts the winner's
// batch as its resume point and goes on after it.
//
// When a batch is due: a full one (batch_max_events pending) at once; the pending tail
// when it holds an event not of the shipper's own making and `all` is asked or its oldest
// such event has waited max_delay. Each batch signature is itself a key.use audit event
// (AuditedKeyStore) that can only ship in a later batch; those, and the job's own job.run
// records (actor ShipperOptions::actor), ride along with the next batch but never make one
// due, so an idle installation does not write one-event batches forever. The archive thus
// always ends one signature behind the store.
//
// Thread-safety: ship() and position() may be called from several threads (one ship at a
// time per shipper). Borrowed references must outlive the shipper.
#pragma once

#include "audit/archive_batch.h"
#include "core/clock.h"
#include "keys/key_store.h"
#include "objectstore/object_store.h"
#include "store/store.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace cartorio::audit {

inline constexpr std::size_t kCursorStride = 100;

struct ShipperOptions {
  std::string origin = "cartorio/audit-archive";  // trailer origin: names the installation
  std::string actor = "job:audit-log-processor";  // key-use actor
  // 2..10000 (a store page). Not 1: every batch adds its own signature event, so a full
  // batch of one would always be due again, forever.
  int batch_max_events = 1000;
  std::chrono::seconds max_delay{60};
  std::size_t max_batches_per_run = 0;  // 0: until nothing is due
};

// The newest batch of the archive; an empty key (last_id 0) before the first.
struct ArchivePosition {
  std::string key;
  std::int64_t last_id = 0;
  std::string sha256;  // of the batch object, the next batch's previous_sha256
  std::size_t behind_cursor = 0;  // batches found after the cursor's hint
};

struct ShippedBatch {
  std::string key;
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::int64_t count = 0;
};

struct ShipResult {
  std::vector<ShippedBatch> batches;  // written by this call, in order
  std::size_t lost_races = 0;         // batches another shipper wrote first
  std::int64_t archived_through = 0;  // the archive's last id when the call ended
};

class ArchiveShipper {
 public:
  ArchiveShipper(store::AuditLog& log, objectstore::ObjectStore& objects, keys::KeyStore& keys, keys::KeyRef key,
                 const core::Clock& clock, ShipperOptions options);

  // Writes every batch that is due (see above); with `all`, the pending tail too (unless it
  // is only the shipper's own events). Errc::audit_tampered when the newest batch cannot
  // be read as one (nothing is chained onto it); store, key and object-store errors as
  // they come (what was shipped before stays shipped).
  core::Result<ShipResult> ship(bool all = false);

  // Where the archive ends now: the cursor's hint checked against the listing.
  core::Result<ArchivePosition> position();

 private:
  core::Result<ArchivePosition> position_at(const std::string& key, std::size_t behind);
  bool is_own(const store::AuditEvent& e) const;
  void write_cursor(const ArchivePosition& pos);

  store::AuditLog& m_log;
  objectstore::ObjectStore& m_objects;
  keys::KeyStore& m_keys;
  keys::KeyRef m_key;
  const core::Clock& m_clock;
  ShipperOptions m_options;
  std::mutex m_ship;
};

}  // namespace cartorio::audit
