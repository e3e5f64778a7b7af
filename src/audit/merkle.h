// Merkle Tree Hash, audit paths and consistency proofs of RFC 9162 section 2.1 (the RFC
// 6962 construction): SHA-256, leaf hash H(0x00 || leaf), node hash H(0x01 || left ||
// right), the split at the largest power of two below the size.
//
// MerkleTree keeps every leaf hash and the hash of every complete, aligned power-of-two
// subtree (about two hashes per leaf), so the root of any prefix, an inclusion proof and a
// consistency proof each cost O(log n) hashes, and appending is amortised O(1).
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <cstdint>
#include <vector>

namespace cartorio::audit {

using Hash = std::array<std::uint8_t, 32>;

Hash leaf_hash(crypto::ByteView leaf);
Hash node_hash(const Hash& left, const Hash& right);
// MTH({}) = SHA-256 of the empty string.
Hash empty_tree_hash();

class MerkleTree {
 public:
  void append(const Hash& leaf_hash);
  std::uint64_t size() const { return m_levels.empty() ? 0 : m_levels.front().size(); }
  const Hash& leaf(std::uint64_t index) const { return m_levels.front()[index]; }

  // MTH of the first `tree_size` leaves. Errc::invalid_argument when tree_size > size().
  core::Result<Hash> root(std::uint64_t tree_size) const;
  // PATH(index, D[tree_size]), leaf to root. Errc::invalid_argument unless index < tree_size <= size().
  core::Result<std::vector<Hash>> inclusion_proof(std::uint64_t index, std::uint64_t tree_size) const;
  // PROOF(first, D[second]). Errc::invalid_argument unless 0 < first <= second <= size()
  // (first == second gives the empty proof).
  core::Result<std::vector<Hash>> consistency_proof(std::uint64_t first, std::uint64_t second) const;

 private:
  // MTH(D[start:start+n]), n >= 1: complete aligned subtrees come from m_levels.
  Hash subtree(std::uint64_t start, std::uint64_t n) const;
  void path(std::uint64_t index, std::uint64_t start, std::uint64_t n, std::vector<Hash>& out) const;
  void subproof(std::uint64_t m, std::uint64_t start, std::uint64_t n, bool whole, std::vector<Hash>& out) const;

  // m_levels[k][i] = MTH of leaves [i * 2^k, (i + 1) * 2^k).
  std::vector<std::vector<Hash>> m_levels;
};

// The verification algorithms of RFC 9162 2.1.3.2 and 2.1.4.2.
bool verify_inclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf_hash,
                      const std::vector<Hash>& proof, const Hash& root);
bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                        const std::vector<Hash>& proof);

std::string to_hex(const Hash& h);
// 64 hex digits (either case); nullopt otherwise.
std::optional<Hash> hash_from_hex(std::string_view hex);

}  // namespace cartorio::audit
