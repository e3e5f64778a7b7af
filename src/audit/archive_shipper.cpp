#include "audit/archive_shipper.h"

#include "core/log.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace cartorio::audit {

using core::Errc;
using core::Error;

ArchiveShipper::ArchiveShipper(store::AuditLog& log, objectstore::ObjectStore& objects, keys::KeyStore& keys,
                               keys::KeyRef key, const core::Clock& clock, ShipperOptions options)
    : m_log(log),
      m_objects(objects),
      m_keys(keys),
      m_key(std::move(key)),
      m_clock(clock),
      m_options(std::move(options)) {
  m_options.batch_max_events = std::clamp(m_options.batch_max_events, 2, 10000);
}

bool ArchiveShipper::is_own(const store::AuditEvent& e) const {
  if (e.actor == m_options.actor) return true;
  if (e.action != "key.use") return false;
  auto details = nlohmann::json::parse(e.details, nullptr, false);
  return details.is_object() && details.value("purpose", std::string()) == kBatchSigningPurpose;
}

core::Result<ArchivePosition> ArchiveShipper::position_at(const std::string& key, std::size_t behind) {
  auto obj = m_objects.get(key);
  if (!obj) {
    if (obj.error().code == Errc::not_found)
      return Error(Errc::store_error, "audit archive batch " + key + " was listed but is gone");
    return obj.error();
  }
  auto batch = parse_archive_batch(obj->data);
  if (!batch)
    return Error(Errc::audit_tampered, "the newest audit archive batch " + key +
                                           " is damaged, nothing is chained onto it (run `cartorio audit "
                                           "verify-archive`): " + batch.error().message);
  if (archive_batch_key(batch->trailer.first) != key || batch->trailer.last < batch->trailer.first)
    return Error(Errc::audit_tampered, "the newest audit archive batch " + key + " does not hold the ids its name says" +
                                           " (run `cartorio audit verify-archive`)");
  return ArchivePosition{key, batch->trailer.last, batch->sha256, behind};
}

core::Result<ArchivePosition> ArchiveShipper::position() {
  std::string hint;
  if (auto cursor = m_objects.get(kArchiveCursorKey)) {
    auto j = nlohmann::json::parse(cursor->data, nullptr, false);
    if (j.is_object() && j.contains("batch") && j["batch"].is_string()) hint = j["batch"].get<std::string>();
    if (!is_archive_batch_key(hint)) hint.clear();
  } else if (cursor.error().code != Errc::not_found && cursor.error().code != Errc::store_error) {
    return cursor.error();  // unreachable: so is the archive. A damaged hint is just ignored.
  }

  std::string newest;
  std::string start_after;
  if (!hint.empty()) {
    // Only a batch that is there is a place to list from (the newest may have been removed).
    if (auto there = m_objects.head(hint)) {
      newest = hint;
      start_after = hint;
    } else if (there.error().code != Errc::not_found) {
      return there.error();
    }
  }
  std::size_t behind = 0;
  for (;;) {
    CARTORIO_TRY(auto page, m_objects.list(kArchiveBatchPrefix, objectstore::kMaxListLimit, start_after));
    for (const auto& entry : page.entries) {
      if (!is_archive_batch_key(entry.key)) continue;
      newest = entry.key;
      ++behind;
    }
    if (!page.truncated) break;
    start_after = page.next_start_after;
  }
  if (newest.empty()) return ArchivePosition{};
  return position_at(newest, behind);
}

void ArchiveShipper::write_cursor(const ArchivePosition& pos) {
  objectstore::PutOptions json;
  json.content_type = "application/json";
  const std::string text = nlohmann::json{{"batch", pos.key}, {"last", pos.last_id}}.dump();
  // Only a hint: the next run lists a little longer without it.
  if (auto r = m_objects.put(kArchiveCursorKey, text, json); !r)
    core::log::warn("audit.archive.cursor_not_written", {{"error", r.error().to_string()}});
}

core::Result<ShipResult> ArchiveShipper::ship(bool all) {
  std::lock_guard one_at_a_time(m_ship);
  CARTORIO_TRY(ArchivePosition pos, position());
  ShipResult result;
  std::size_t since_cursor = pos.behind_cursor;
  std::size_t attempts = 0;
  while (m_options.max_batches_per_run == 0 || attempts < m_options.max_batches_per_run) {
    store::AuditFilter pending;
    pending.after_id = pos.last_id;
    pending.limit = m_options.batch_max_events;
    CARTORIO_TRY(auto events, m_log.list_audit_events(pending));
    if (events.empty()) break;
    if (events.size() < static_cast<std::size_t>(m_options.batch_max_events)) {
      // The tail: only when someone else's event waits, and long enough (or `all`).
      const auto foreign = std::find_if(events.begin(), events.end(), [&](const auto& e) { return !is_own(e); });
      if (foreign == events.end()) break;
      if (!all && m_clock.now() - core::from_unix(foreign->time) < m_options.max_delay) break;
    }
    ++attempts;

    const std::string key = archive_batch_key(events.front().id);
    BatchTrailer trailer;
    trailer.origin = m_options.origin;
    trailer.previous_sha256 = pos.sha256;
    trailer.time = core::to_unix(m_clock.now());
    std::string data;
    {
      CARTORIO_TRY(auto signer,
                   m_keys.signer(m_key, keys::KeyUse{std::string(kBatchSigningPurpose), m_options.actor, key}));
      CARTORIO_TRY(data, make_archive_batch(events, trailer, signer->pkey()));
    }
    objectstore::PutOptions options;
    options.content_type = kArchiveContentType;
    options.sha256_hex = sha256_hex(data);
    CARTORIO_TRY(const bool created, m_objects.put_if_absent(key, data, options));
    ++since_cursor;
    if (!created) {
      // Another shipper wrote the batch after the same one: go on after its batch.
      ++result.lost_races;
      CARTORIO_TRY(pos, position_at(key, 0));
      continue;
    }
    result.batches.push_back(ShippedBatch{key, trailer.first, trailer.last, trailer.count});
    pos = ArchivePosition{key, trailer.last, options.sha256_hex, 0};
  }
  if (since_cursor >= kCursorStride) write_cursor(pos);
  result.archived_through = pos.last_id;
  return result;
}

}  // namespace cartorio::audit
