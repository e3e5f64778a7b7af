#include "audit/log_verifier.h"

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/tree_head_publisher.h"

#include <nlohmann/json.hpp>

#include <map>

namespace cartorio::audit {
namespace {

core::Result<std::vector<std::string>> list_all(objectstore::ObjectStore& objects, const std::string& prefix) {
  std::vector<std::string> keys;
  std::string after;
  for (;;) {
    CARTORIO_TRY(auto page, objects.list(prefix, objectstore::kMaxListLimit, after));
    for (auto& e : page.entries) keys.push_back(std::move(e.key));
    if (!page.truncated) break;
    after = page.next_start_after;
  }
  return keys;
}

struct PublishedLeaf {
  std::int64_t id = 0;
  Hash hash{};
};

// Published leaves by index, from every bundle; conflicting copies are findings.
std::map<std::uint64_t, PublishedLeaf> load_bundles(objectstore::ObjectStore& objects,
                                                   const std::vector<std::string>& keys, VerifyReport& report) {
  std::map<std::uint64_t, PublishedLeaf> out;
  for (const auto& key : keys) {
    auto obj = objects.get(key);
    auto j = obj ? nlohmann::json::parse(obj->data, nullptr, false) : nlohmann::json();
    bool ok = obj && j.is_object() && j.contains("first") && j.contains("ids") && j.contains("leaf_hashes") &&
              j["first"].is_number_unsigned() && j["ids"].is_array() && j["leaf_hashes"].is_array() &&
              j["ids"].size() == j["leaf_hashes"].size();
    if (ok) {
      const auto first = j["first"].get<std::uint64_t>();
      for (std::size_t i = 0; ok && i < j["ids"].size(); ++i) {
        const auto& id = j["ids"][i];
        const auto& hex = j["leaf_hashes"][i];
        auto hash = hex.is_string() ? hash_from_hex(hex.get<std::string>()) : std::nullopt;
        if (!id.is_number_integer() || !hash) {
          ok = false;
          break;
        }
        PublishedLeaf leaf{id.get<std::int64_t>(), *hash};
        auto [it, inserted] = out.emplace(first + i, leaf);
        if (!inserted && (it->second.id != leaf.id || it->second.hash != leaf.hash))
          report.findings.push_back({"bundle-mismatch", leaf.id,
                                     "two published bundles disagree on entry " + std::to_string(first + i)});
      }
    }
    if (!ok)
      report.findings.push_back(
          {"unreadable", 0, key + ": " + (obj ? std::string("not a leaf bundle") : obj.error().to_string())});
  }
  return out;
}

}  // namespace

core::Result<VerifyReport> verify_log(const std::string& log, LeafSource& source, objectstore::ObjectStore& objects,
                                      const std::vector<crypto::PKey>& audit_keys) {
  VerifyReport report;
  report.log = log;
  const LogLayout layout(log);

  // 1. The store's rows, as they are now.
  std::vector<LeafRecord> rows;
  MerkleTree store_tree;
  for (std::int64_t after = 0;;) {
    CARTORIO_TRY(auto page, source.next(after, 1000));
    if (page.empty()) break;
    after = page.back().id;
    for (auto& row : page) {
      store_tree.append(leaf_hash(encode_leaf(row.fields)));
      rows.push_back(std::move(row));
    }
  }
  report.store_entries = store_tree.size();

  // 2. Published heads: signed by one of our audit keys, and matching the store's tree.
  CARTORIO_TRY(auto head_keys, list_all(objects, layout.checkpoints()));
  std::vector<Checkpoint> heads;
  for (const auto& key : head_keys) {
    auto obj = objects.get(key);
    if (!obj) {
      report.findings.push_back({"unreadable", 0, key + ": " + obj.error().to_string()});
      continue;
    }
    auto head = parse_checkpoint(obj->data);
    if (!head) {
      report.findings.push_back({"unreadable", 0, key + ": " + head.error().to_string()});
      continue;
    }
    bool signed_by_us = false;
    for (const auto& k : audit_keys) signed_by_us = signed_by_us || checkpoint_signature_valid(*head, k.get());
    if (!signed_by_us) {
      report.findings.push_back({"bad-signature", 0, key + ": not signed by a known audit key"});
      continue;
    }
    ++report.checkpoints;
    report.covered = std::max(report.covered, head->tree_size);
    heads.push_back(std::move(*head));
  }

  // 3. Published leaves: contiguous from 0 and matching the heads that cover them.
  CARTORIO_TRY(auto bundle_keys, list_all(objects, layout.leaves()));
  auto published = load_bundles(objects, bundle_keys, report);
  MerkleTree published_tree;
  for (const auto& [index, leaf] : published) {
    if (index != published_tree.size()) {
      report.findings.push_back({"bundle-gap", 0, "published leaves jump from entry " +
                                                      std::to_string(published_tree.size()) + " to " +
                                                      std::to_string(index)});
      break;
    }
    published_tree.append(leaf.hash);
  }
  report.published_leaves = published_tree.size();
  for (const auto& head : heads) {
    if (head.tree_size <= published_tree.size()) {
      auto root = published_tree.root(head.tree_size);
      if (root && *root != head.root)
        report.findings.push_back({"bundle-mismatch", 0, "the published leaves do not hash to the signed head of " +
                                                             std::to_string(head.tree_size) + " entries"});
    }
  }

  // 4. Row by row: the store against the published leaves, merged by row id.
  std::size_t s = 0;
  std::uint64_t p = 0;
  const std::uint64_t published_count = published_tree.size();
  while (p < published_count) {
    const auto& leaf = published.at(p);
    if (s < rows.size() && rows[s].id == leaf.id) {
      if (store_tree.leaf(s) != leaf.hash)
        report.findings.push_back({"changed", leaf.id, log + " entry " + std::to_string(leaf.id) +
                                                           " was changed after it was published"});
      ++s;
      ++p;
    } else if (s < rows.size() && rows[s].id < leaf.id) {
      report.findings.push_back({"unexpected", rows[s].id, log + " entry " + std::to_string(rows[s].id) +
                                                               " was inserted among published entries"});
      ++s;
    } else {
      report.findings.push_back({"missing", leaf.id, log + " entry " + std::to_string(leaf.id) +
                                                         " was published but is no longer in the store"});
      ++p;
    }
  }

  // 5. Heads beyond the published leaves (or all of them, if bundles are gone): by root.
  for (const auto& head : heads) {
    if (head.tree_size <= published_count) continue;  // proven leaf by leaf above
    if (head.tree_size > store_tree.size()) {
      report.findings.push_back({"root-mismatch", 0, "a signed head covers " + std::to_string(head.tree_size) +
                                                         " entries; the store holds " +
                                                         std::to_string(store_tree.size())});
      continue;
    }
    auto root = store_tree.root(head.tree_size);
    if (root && *root != head.root)
      report.findings.push_back({"root-mismatch", 0, "the store's first " + std::to_string(head.tree_size) +
                                                         " entries do not hash to the signed head of that size"});
  }
  return report;
}

}  // namespace cartorio::audit
