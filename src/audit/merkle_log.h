// MerkleLog: one log's Merkle tree (the audit trail, or the public transparency log), kept
// in memory and brought up to date from the store by sync(). Leaf i is the i-th row of the
// source in id order; the store hands ids out in commit order, so a sync never skips a row
// committed after it ran, and every instance of a cluster builds the same tree.
//
// Memory: two hashes per leaf plus the row id (about 72 bytes); a million events ~ 70 MB.
//
// Thread-safety: every member may be called from several threads; syncs are serialised,
// readers see the tree as of the last finished sync.
#pragma once

#include "audit/leaf.h"
#include "audit/merkle.h"

#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace cartorio::audit {

struct Inclusion {
  std::uint64_t index = 0;
  std::uint64_t tree_size = 0;
  Hash leaf_hash{};
  std::vector<Hash> path;
};

class MerkleLog {
 public:
  MerkleLog(std::string name, LeafSource& source) : m_name(std::move(name)), m_source(source) {}

  const std::string& name() const { return m_name; }
  // Appends the rows committed since the last sync; returns the tree size.
  core::Result<std::uint64_t> sync();

  std::uint64_t size() const;
  core::Result<Hash> root(std::uint64_t tree_size) const;
  // The leaf of row `id` and its path in the tree of `tree_size` leaves. Errc::not_found when
  // no leaf of that tree is row `id`; Errc::invalid_argument when tree_size > size().
  core::Result<Inclusion> inclusion_by_id(std::int64_t id, std::uint64_t tree_size) const;
  core::Result<std::vector<Hash>> consistency(std::uint64_t first, std::uint64_t second) const;
  // Row ids and leaf hashes of leaves [first, end), end clamped to size().
  std::vector<std::pair<std::int64_t, Hash>> leaves(std::uint64_t first, std::uint64_t end) const;

 private:
  const std::string m_name;
  LeafSource& m_source;
  std::mutex m_sync;
  mutable std::shared_mutex m_data;
  MerkleTree m_tree;
  std::vector<std::int64_t> m_ids;  // row id of each leaf, ascending
};

}  // namespace cartorio::audit
