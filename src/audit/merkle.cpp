#include "audit/merkle.h"

#include "crypto/primitives.h"

#include <bit>

namespace cartorio::audit {
namespace {

using core::Errc;
using core::Error;

// The largest power of two strictly below n (n >= 2).
std::uint64_t split_point(std::uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

Hash leaf_hash(crypto::ByteView leaf) {
  const std::uint8_t prefix = 0x00;
  crypto::Sha256 h;
  h.update(crypto::ByteView(&prefix, 1)).update(leaf);
  return h.digest();
}

Hash node_hash(const Hash& left, const Hash& right) {
  const std::uint8_t prefix = 0x01;
  crypto::Sha256 h;
  h.update(crypto::ByteView(&prefix, 1)).update(crypto::ByteView(left)).update(crypto::ByteView(right));
  return h.digest();
}

Hash empty_tree_hash() { return crypto::sha256(crypto::ByteView()); }

void MerkleTree::append(const Hash& leaf) {
  if (m_levels.empty()) m_levels.emplace_back();
  m_levels[0].push_back(leaf);
  // Each completed pair makes a node one level up, as far as the new leaf completes them.
  std::uint64_t index = m_levels[0].size() - 1;
  for (std::size_t level = 0; index % 2 == 1; ++level, index /= 2) {
    if (m_levels.size() == level + 1) m_levels.emplace_back();
    const auto& row = m_levels[level];
    m_levels[level + 1].push_back(node_hash(row[index - 1], row[index]));
  }
}

Hash MerkleTree::subtree(std::uint64_t start, std::uint64_t n) const {
  if (std::has_single_bit(n) && start % n == 0) {
    const auto level = static_cast<std::size_t>(std::countr_zero(n));
    return m_levels[level][start >> level];
  }
  // Not complete: the left part is (RFC recursion keeps starts aligned to it).
  const std::uint64_t k = split_point(n);
  return node_hash(subtree(start, k), subtree(start + k, n - k));
}

core::Result<Hash> MerkleTree::root(std::uint64_t tree_size) const {
  if (tree_size > size())
    return Error(Errc::invalid_argument, "tree size " + std::to_string(tree_size) + " is beyond the log's " +
                                             std::to_string(size()) + " entries");
  if (tree_size == 0) return empty_tree_hash();
  return subtree(0, tree_size);
}

void MerkleTree::path(std::uint64_t index, std::uint64_t start, std::uint64_t n, std::vector<Hash>& out) const {
  if (n <= 1) return;
  const std::uint64_t k = split_point(n);
  if (index < k) {
    path(index, start, k, out);
    out.push_back(subtree(start + k, n - k));
  } else {
    path(index - k, start + k, n - k, out);
    out.push_back(subtree(start, k));
  }
}

core::Result<std::vector<Hash>> MerkleTree::inclusion_proof(std::uint64_t index, std::uint64_t tree_size) const {
  if (tree_size > size() || index >= tree_size)
    return Error(Errc::invalid_argument, "no inclusion proof for entry " + std::to_string(index) + " in a tree of " +
                                             std::to_string(tree_size) + " (the log holds " +
                                             std::to_string(size()) + ")");
  std::vector<Hash> out;
  path(index, 0, tree_size, out);
  return out;
}

void MerkleTree::subproof(std::uint64_t m, std::uint64_t start, std::uint64_t n, bool whole,
                          std::vector<Hash>& out) const {
  if (m == n) {
    if (!whole) out.push_back(subtree(start, n));
    return;
  }
  const std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, start, k, whole, out);
    out.push_back(subtree(start + k, n - k));
  } else {
    subproof(m - k, start + k, n - k, false, out);
    out.push_back(subtree(start, k));
  }
}

core::Result<std::vector<Hash>> MerkleTree::consistency_proof(std::uint64_t first, std::uint64_t second) const {
  if (first == 0 || first > second || second > size())
    return Error(Errc::invalid_argument, "no consistency proof from " + std::to_string(first) + " to " +
                                             std::to_string(second) + " (the log holds " +
                                             std::to_string(size()) + ")");
  std::vector<Hash> out;
  subproof(first, 0, second, true, out);
  return out;
}

bool verify_inclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf, const std::vector<Hash>& proof,
                      const Hash& root) {
  if (index >= tree_size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r = leaf;
  for (const auto& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                        const std::vector<Hash>& proof) {
  if (first == 0 || first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (proof.empty()) return false;
  std::vector<Hash> path = proof;
  // When first is a power of two the old root is itself the first node of the path.
  if (std::has_single_bit(first)) path.insert(path.begin(), first_root);
  std::uint64_t fn = first - 1;
  std::uint64_t sn = second - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path.front();
  Hash sr = path.front();
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == first_root && sr == second_root;
}

std::string to_hex(const Hash& h) { return crypto::to_hex(crypto::ByteView(h)); }

std::optional<Hash> hash_from_hex(std::string_view hex) {
  auto bytes = crypto::from_hex(hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

}  // namespace cartorio::audit
