#include "audit/merkle_log.h"

#include <algorithm>

namespace cartorio::audit {

using core::Errc;
using core::Error;

namespace {
constexpr int kSyncPage = 1000;
}

core::Result<std::uint64_t> MerkleLog::sync() {
  std::lock_guard sync(m_sync);
  std::int64_t after = 0;
  {
    std::shared_lock read(m_data);
    if (!m_ids.empty()) after = m_ids.back();
  }
  for (;;) {
    CARTORIO_TRY(auto rows, m_source.next(after, kSyncPage));
    if (rows.empty()) break;
    std::vector<Hash> hashes;
    hashes.reserve(rows.size());
    for (const auto& row : rows) hashes.push_back(leaf_hash(encode_leaf(row.fields)));
    std::unique_lock write(m_data);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      m_tree.append(hashes[i]);
      m_ids.push_back(rows[i].id);
    }
    after = rows.back().id;
    if (rows.size() < static_cast<std::size_t>(kSyncPage)) break;
  }
  return size();
}

std::uint64_t MerkleLog::size() const {
  std::shared_lock read(m_data);
  return m_tree.size();
}

core::Result<Hash> MerkleLog::root(std::uint64_t tree_size) const {
  std::shared_lock read(m_data);
  return m_tree.root(tree_size);
}

core::Result<Inclusion> MerkleLog::inclusion_by_id(std::int64_t id, std::uint64_t tree_size) const {
  std::shared_lock read(m_data);
  if (tree_size > m_tree.size())
    return Error(Errc::invalid_argument, "tree size " + std::to_string(tree_size) + " is beyond the " + m_name +
                                             " log's " + std::to_string(m_tree.size()) + " entries");
  const auto it = std::lower_bound(m_ids.begin(), m_ids.end(), id);
  const auto index = static_cast<std::uint64_t>(it - m_ids.begin());
  if (it == m_ids.end() || *it != id || index >= tree_size)
    return Error(Errc::not_found, "entry " + std::to_string(id) + " is not in the " + m_name + " log's tree of " +
                                      std::to_string(tree_size));
  Inclusion out;
  out.index = index;
  out.tree_size = tree_size;
  out.leaf_hash = m_tree.leaf(index);
  CARTORIO_TRY(out.path, m_tree.inclusion_proof(index, tree_size));
  return out;
}

core::Result<std::vector<Hash>> MerkleLog::consistency(std::uint64_t first, std::uint64_t second) const {
  std::shared_lock read(m_data);
  return m_tree.consistency_proof(first, second);
}

std::vector<std::pair<std::int64_t, Hash>> MerkleLog::leaves(std::uint64_t first, std::uint64_t end) const {
  std::shared_lock read(m_data);
  end = std::min<std::uint64_t>(end, m_tree.size());
  std::vector<std::pair<std::int64_t, Hash>> out;
  for (auto i = first; i < end; ++i) out.emplace_back(m_ids[i], m_tree.leaf(i));
  return out;
}

}  // namespace cartorio::audit
