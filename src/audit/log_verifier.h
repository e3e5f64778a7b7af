// `cartorio audit verify`: holds a log as the store has it now to everything published
// about it. Recomputes the tree from the store's rows and checks
//   - every published head: signature by a known audit key, and its root against the
//     store's tree of that size;
//   - every published leaf bundle against the heads (a bundle edited in the bucket shows)
//     and, row by row, against the store, naming each row changed, removed or inserted.
#pragma once

#include "audit/leaf.h"
#include "crypto/ossl.h"
#include "objectstore/object_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cartorio::audit {

struct Finding {
  std::string problem;  // "changed" | "missing" | "unexpected" | "bad-signature" | "root-mismatch" |
                        // "bundle-mismatch" | "bundle-gap" | "unreadable"
  std::int64_t id = 0;  // the row, when the finding is about one
  std::string message;
};

struct VerifyReport {
  std::string log;
  std::uint64_t store_entries = 0;    // rows in the store now
  std::uint64_t checkpoints = 0;      // published heads checked
  std::uint64_t covered = 0;          // entries covered by the largest published head
  std::uint64_t published_leaves = 0;  // leaves found in published bundles
  std::vector<Finding> findings;
  bool ok() const { return findings.empty(); }
};

core::Result<VerifyReport> verify_log(const std::string& log, LeafSource& source, objectstore::ObjectStore& objects,
                                      const std::vector<crypto::PKey>& audit_keys);

}  // namespace cartorio::audit
