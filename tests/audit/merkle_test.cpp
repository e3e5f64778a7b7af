// RFC 9162 2.1: Merkle Tree Hash, audit paths and consistency proofs, against the RFC 6962
// reference vectors and a naive implementation of the RFC's recursive definitions.
#include "audit/checkpoint.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <gtest/gtest.h>

#include <bit>

namespace {

using namespace cartorio::audit;
using cartorio::crypto::Bytes;

Bytes unhex(const std::string& s) { return *cartorio::crypto::from_hex(s); }

// The 8 leaves of the RFC 6962 test vectors (certificate-transparency, transparency-dev/merkle).
const std::vector<std::string> kLeaves = {"",         "00",       "10",       "2021",
                                          "3031",     "40414243", "5051525354555657",
                                          "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> kRoots = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

MerkleTree vector_tree() {
  MerkleTree t;
  for (const auto& l : kLeaves) t.append(leaf_hash(unhex(l)));
  return t;
}

// MTH straight from RFC 9162 2.1.1, for trees of any size.
Hash naive_root(const std::vector<Hash>& leaves, std::size_t begin, std::size_t end) {
  const std::size_t n = end - begin;
  if (n == 0) return empty_tree_hash();
  if (n == 1) return leaves[begin];
  const std::size_t k = std::bit_floor(n - 1);
  return node_hash(naive_root(leaves, begin, begin + k), naive_root(leaves, begin + k, end));
}

TEST(Merkle, RootsMatch_TheRfc6962ReferenceVectors) {
  const auto t = vector_tree();
  EXPECT_EQ(to_hex(*t.root(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (std::size_t n = 1; n <= kLeaves.size(); ++n) EXPECT_EQ(to_hex(*t.root(n)), kRoots[n - 1]) << "size " << n;
  EXPECT_FALSE(t.root(9));
}

TEST(Merkle, InclusionProof_MatchesTheReferenceVector) {
  // transparency-dev/merkle: leaf 5 of 8.
  const auto t = vector_tree();
  auto proof = t.inclusion_proof(5, 8);
  ASSERT_TRUE(proof);
  ASSERT_EQ(proof->size(), 3u);
  EXPECT_EQ(to_hex((*proof)[0]), "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
  EXPECT_EQ(to_hex((*proof)[1]), "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  EXPECT_EQ(to_hex((*proof)[2]), "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
}

TEST(Merkle, ConsistencyProof_MatchesTheReferenceVector) {
  const auto t = vector_tree();
  auto proof = t.consistency_proof(6, 8);
  ASSERT_TRUE(proof);
  ASSERT_EQ(proof->size(), 3u);
  EXPECT_EQ(to_hex((*proof)[0]), "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a");
  EXPECT_EQ(to_hex((*proof)[1]), "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  EXPECT_EQ(to_hex((*proof)[2]), "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
}

TEST(Merkle, EveryProof_OfTreesUpTo70_Verifies_AndAWrongOneDoesNot) {
  MerkleTree t;
  std::vector<Hash> leaves;
  for (int i = 0; i < 70; ++i) {
    leaves.push_back(leaf_hash(cartorio::crypto::as_bytes("leaf-" + std::to_string(i))));
    t.append(leaves.back());
  }
  for (std::uint64_t n = 1; n <= 70; ++n) {
    const Hash root = naive_root(leaves, 0, n);
    ASSERT_EQ(*t.root(n), root) << n;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = t.inclusion_proof(i, n);
      ASSERT_TRUE(proof);
      EXPECT_TRUE(verify_inclusion(i, n, leaves[i], *proof, root)) << i << "/" << n;
      if (n > 1) {
        EXPECT_FALSE(verify_inclusion((i + 1) % n, n, leaves[i], *proof, root)) << i << "/" << n;
      }
      if (!proof->empty()) {
        auto bad = *proof;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(verify_inclusion(i, n, leaves[i], bad, root));
      }
    }
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = t.consistency_proof(m, n);
      ASSERT_TRUE(proof);
      const Hash old_root = naive_root(leaves, 0, m);
      EXPECT_TRUE(verify_consistency(m, n, old_root, root, *proof)) << m << "->" << n;
      if (m < n) {
        auto bad = *proof;
        bad.front()[5] ^= 0x80;
        EXPECT_FALSE(verify_consistency(m, n, old_root, root, bad)) << m << "->" << n;
        EXPECT_FALSE(verify_consistency(m, n, root, root, *proof)) << m << "->" << n;
      }
    }
  }
  EXPECT_FALSE(t.inclusion_proof(70, 70));
  EXPECT_FALSE(t.consistency_proof(0, 5));
  EXPECT_FALSE(t.consistency_proof(6, 5));
  EXPECT_FALSE(t.consistency_proof(5, 71));
}

TEST(Leaf, Encoding_IsCountThenLengthPrefixedFields) {
  EXPECT_EQ(cartorio::crypto::to_hex(encode_leaf({"ab", "", "c"})), "00000003" "000000026162" "00000000" "0000000163");
  cartorio::store::AuditEvent e;
  e.id = 7;
  e.time = 1767225600;
  e.actor = "user:alice";
  e.action = "certificate.issue";
  const auto fields = audit_event_fields(e);
  ASSERT_EQ(fields.size(), 10u);
  EXPECT_EQ(fields[0], "audit-event/v1");
  EXPECT_EQ(fields[1], "7");
  EXPECT_EQ(fields[2], "1767225600");
  // A field boundary moved is a different leaf.
  EXPECT_NE(encode_leaf({"ab", "c"}), encode_leaf({"a", "bc"}));
}

TEST(Checkpoint, SignedBody_RoundTripsAndRejectsAnyChange) {
  auto key = cartorio::crypto::generate_key(cartorio::crypto::KeyAlgorithm::ec_p256);
  ASSERT_TRUE(key);
  Checkpoint c;
  c.origin = "notary.example/audit";
  c.tree_size = 8;
  c.root = *hash_from_hex(kRoots[7]);
  c.timestamp_ms = 1767225600123;
  ASSERT_TRUE(sign_checkpoint(c, key->get()));
  EXPECT_EQ(c.body(), "notary.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n1767225600123\n");
  auto parsed = parse_checkpoint(c.to_json());
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_TRUE(checkpoint_signature_valid(*parsed, key->get()));
  using Change = void (*)(Checkpoint&);
  const Change changes[] = {[](Checkpoint& x) { x.tree_size = 9; }, [](Checkpoint& x) { x.timestamp_ms += 1; },
                            [](Checkpoint& x) { x.origin = "notary.example/transparency"; },
                            [](Checkpoint& x) { x.root[0] ^= 1; }};
  for (const Change change : changes) {
    Checkpoint copy = *parsed;
    change(copy);
    EXPECT_FALSE(checkpoint_signature_valid(copy, key->get()));
  }
  auto other = cartorio::crypto::generate_key(cartorio::crypto::KeyAlgorithm::ec_p256);
  EXPECT_FALSE(checkpoint_signature_valid(*parsed, other->get()));
  EXPECT_FALSE(parse_checkpoint("{}"));
  EXPECT_FALSE(parse_checkpoint("not json"));
}

}  // namespace
