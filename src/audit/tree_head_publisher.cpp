#include "audit/tree_head_publisher.h"

#include "crypto/key_pair.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace cartorio::audit {

using core::Errc;
using core::Error;

namespace {

std::string padded(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(v));
  return buf;
}

// {"first":N,"ids":[...],"leaf_hashes":["hex",...],"log":"name"}, the bytes nlohmann::json
// would write, appended into one string: a JSON tree costs ~100 bytes a leaf, which was the
// worker's memory peak for a large batch (docs/benchmarks.md, sustained load).
std::string leaves_bundle(const std::string& log, std::uint64_t first,
                          const std::vector<std::pair<std::int64_t, Hash>>& leaves) {
  std::string ids;
  std::string hashes;
  ids.reserve(leaves.size() * 12);
  hashes.reserve(leaves.size() * (2 * sizeof(Hash) + 3));
  for (const auto& [id, hash] : leaves) {
    if (!ids.empty()) {
      ids += ',';
      hashes += ',';
    }
    ids += std::to_string(id);
    hashes += '"';
    hashes += to_hex(hash);
    hashes += '"';
  }
  return "{\"first\":" + std::to_string(first) + ",\"ids\":[" + ids + "],\"leaf_hashes\":[" + hashes +
         "],\"log\":" + nlohmann::json(log).dump() + "}";
}

}  // namespace

std::string LogLayout::checkpoint(std::uint64_t size, std::int64_t timestamp_ms) const {
  return checkpoints() + padded(size) + "-" + padded(static_cast<std::uint64_t>(timestamp_ms)) + ".json";
}

std::string LogLayout::leaves(std::uint64_t first, std::uint64_t end) const {
  return leaves() + padded(first) + "-" + padded(end) + ".json";
}

core::Result<keys::KeyRef> ensure_audit_key(keys::KeyStore& keys, store::KeyRecordRepository& records,
                                            const core::Clock& clock) {
  const std::string label(kAuditKeyLabel);
  if (auto rec = records.get_key_record(label)) return keys::KeyRef{rec->uri};
  else if (rec.error().code != Errc::not_found) return rec.error();
  auto info = keys.create_key(keys::CreateKeyRequest{label, crypto::KeyAlgorithm::ec_p256});
  if (!info) {
    // Another instance made it first: its record follows its key.
    if (info.error().code == Errc::already_exists)
      if (auto rec = records.get_key_record(label)) return keys::KeyRef{rec->uri};
    return info.error();
  }
  store::KeyRecord rec;
  rec.label = info->label;
  rec.uri = info->ref.uri;
  rec.backend = info->backend;
  rec.algorithm = std::string(crypto::key_algorithm_name(crypto::KeyAlgorithm::ec_p256));
  rec.purpose = std::string(kAuditKeyLabel);
  rec.created_at = core::to_unix(clock.now());
  CARTORIO_TRY_VOID(records.put_key_record(rec));
  return info->ref;
}

core::Result<std::vector<crypto::PKey>> audit_public_keys(keys::KeyStore& keys, store::KeyRecordRepository& records) {
  CARTORIO_TRY(auto all, records.list_key_records());
  std::vector<crypto::PKey> out;
  for (const auto& rec : all) {
    if (rec.purpose != kAuditKeyLabel) continue;
    CARTORIO_TRY(auto key, keys.public_key(keys::KeyRef{rec.uri}));
    out.push_back(std::move(key));
  }
  return out;
}

TreeHeadPublisher::TreeHeadPublisher(MerkleLog& log, keys::KeyStore& keys, keys::KeyRef key,
                                     objectstore::ObjectStore& objects, const core::Clock& clock,
                                     PublisherOptions options)
    : m_log(log),
      m_keys(keys),
      m_key(std::move(key)),
      m_objects(objects),
      m_clock(clock),
      m_options(std::move(options)),
      m_layout(log.name()) {}

core::Result<std::optional<Checkpoint>> TreeHeadPublisher::latest() {
  auto obj = m_objects.get(m_layout.latest());
  if (!obj) {
    if (obj.error().code == Errc::not_found) return std::optional<Checkpoint>();
    return obj.error();
  }
  CARTORIO_TRY(auto c, parse_checkpoint(obj->data));
  return std::optional<Checkpoint>(std::move(c));
}

core::Result<Checkpoint> TreeHeadPublisher::publish() {
  std::lock_guard one_at_a_time(m_publish);
  CARTORIO_TRY(const std::uint64_t size, m_log.sync());
  CARTORIO_TRY(auto previous, latest());
  return publish_over(size, previous);
}

core::Result<std::optional<Checkpoint>> TreeHeadPublisher::publish_if_grown() {
  // One sync and one read of the latest head for both the test and the head.
  std::lock_guard one_at_a_time(m_publish);
  CARTORIO_TRY(const std::uint64_t size, m_log.sync());
  CARTORIO_TRY(auto previous, latest());
  if (previous && previous->tree_size >= size) return std::optional<Checkpoint>();
  CARTORIO_TRY(auto head, publish_over(size, previous));
  return std::optional<Checkpoint>(std::move(head));
}

core::Result<Checkpoint> TreeHeadPublisher::publish_over(std::uint64_t size, const std::optional<Checkpoint>& previous) {
  std::uint64_t first = 0;
  if (previous) {
    // Never sign over a history that differs from what was already published.
    if (previous->tree_size > size)
      return Error(Errc::audit_tampered, "the " + m_log.name() + " log holds " + std::to_string(size) +
                                             " entries but a published head covers " +
                                             std::to_string(previous->tree_size) +
                                             ": entries were removed (run `cartorio audit verify`)");
    CARTORIO_TRY(auto old_root, m_log.root(previous->tree_size));
    if (old_root != previous->root)
      return Error(Errc::audit_tampered, "the " + m_log.name() + " log's first " +
                                             std::to_string(previous->tree_size) +
                                             " entries no longer hash to the published head (run `cartorio audit "
                                             "verify`)");
    first = previous->tree_size;
  }

  Checkpoint head;
  head.origin = m_options.origin;
  head.tree_size = size;
  CARTORIO_TRY(head.root, m_log.root(size));
  head.timestamp_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.now().time_since_epoch()).count();
  {
    CARTORIO_TRY(auto signer, m_keys.signer(m_key, keys::KeyUse{"sign-tree-head", m_options.actor,
                                                                m_log.name() + ":" + std::to_string(size)}));
    CARTORIO_TRY_VOID(sign_checkpoint(head, signer->pkey()));
  }

  // Leaves first, then the head that covers them, then the pointer to it: a reader that
  // sees a head finds its leaves.
  if (size > first) {
    const std::string bundle = leaves_bundle(m_log.name(), first, m_log.leaves(first, size));
    objectstore::PutOptions json;
    json.content_type = "application/json";
    CARTORIO_TRY_VOID(m_objects.put(m_layout.leaves(first, size), bundle, json));
  }
  objectstore::PutOptions json;
  json.content_type = "application/json";
  const std::string text = head.to_json();
  CARTORIO_TRY_VOID(m_objects.put(m_layout.checkpoint(head.tree_size, head.timestamp_ms), text, json));
  CARTORIO_TRY_VOID(m_objects.put(m_layout.latest(), text, json));
  return head;
}

}  // namespace cartorio::audit
