#include "audit/archive_verifier.h"

#include "audit/archive_batch.h"
#include "audit/checkpoint.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>

namespace cartorio::audit {

using core::Errc;

namespace {

// The store's events in id order, a page at a time.
class StoreStream {
 public:
  explicit StoreStream(store::AuditLog& log) : m_log(log) {}

  // The next event, nullptr after the last.
  core::Result<const store::AuditEvent*> peek() {
    if (m_pos < m_page.size()) return &m_page[m_pos];
    if (m_done) return static_cast<const store::AuditEvent*>(nullptr);
    store::AuditFilter page;
    page.after_id = m_after;
    page.limit = 10000;
    CARTORIO_TRY(m_page, m_log.list_audit_events(page));
    m_pos = 0;
    if (m_page.empty()) {
      m_done = true;
      return static_cast<const store::AuditEvent*>(nullptr);
    }
    m_after = m_page.back().id;
    return &m_page[0];
  }
  void pop() {
    ++m_pos;
    ++m_seen;
  }
  std::uint64_t seen() const { return m_seen; }

 private:
  store::AuditLog& m_log;
  std::vector<store::AuditEvent> m_page;
  std::size_t m_pos = 0;
  std::int64_t m_after = 0;
  bool m_done = false;
  std::uint64_t m_seen = 0;
};

class Verifier {
 public:
  Verifier(store::AuditLog& log, objectstore::ObjectStore& objects, const std::vector<crypto::PKey>& keys)
      : m_objects(objects), m_store(log) {
    for (const auto& k : keys)
      if (auto id = key_id_of(k.get())) m_keys.emplace(*id, k.get());
  }

  core::Result<ArchiveReport> run() {
    std::string start_after;
    for (;;) {
      CARTORIO_TRY(auto page, m_objects.list(kArchiveBatchPrefix, objectstore::kMaxListLimit, start_after));
      for (const auto& entry : page.entries) CARTORIO_TRY_VOID(batch(entry.key));
      if (!page.truncated) break;
      start_after = page.next_start_after;
    }
    // What the store holds past the archive is pending, not missing.
    for (;;) {
      CARTORIO_TRY(const store::AuditEvent* s, m_store.peek());
      if (!s) break;
      if (s->id > m_archived_max) ++m_report.pending;
      m_store.pop();
    }
    m_report.store_events = m_store.seen();
    CARTORIO_TRY_VOID(cursor());
    return std::move(m_report);
  }

 private:
  void find(std::string problem, const std::string& batch, std::int64_t id, std::string message) {
    ++m_report.findings_total;
    if (m_report.findings.size() < kMaxArchiveFindings)
      m_report.findings.push_back(ArchiveFinding{std::move(problem), batch, id, std::move(message)});
  }

  core::Result<void> batch(const std::string& key) {
    if (!is_archive_batch_key(key)) {
      find("misnamed", key, 0, "object " + key + " in the archive is not named as a batch");
      return core::ok();
    }
    ++m_report.batches;
    m_newest_listed = key;
    auto obj = m_objects.get(key);
    if (!obj) {
      if (obj.error().code != Errc::not_found && obj.error().code != Errc::store_error) return obj.error();
      find("unreadable", key, 0, "batch " + key + " cannot be read: " + obj.error().message);
      m_previous.reset();
      return core::ok();
    }
    auto parsed = parse_archive_batch(obj->data);
    if (!parsed) {
      find("malformed", key, 0, "batch " + key + ": " + parsed.error().message);
      m_previous.reset();
      return core::ok();
    }
    const BatchTrailer& t = parsed->trailer;
    if (archive_batch_key(t.first) != key)
      find("misnamed", key, t.first, "batch " + key + " starts at id " + std::to_string(t.first));
    if (parsed->events.empty() || t.count != static_cast<std::int64_t>(parsed->events.size()) ||
        parsed->events.front().id != t.first || parsed->events.back().id != t.last)
      find("malformed", key, 0, "batch " + key + ": its trailer does not describe its lines (first, last, count)");
    if (parsed->events_sha256 != t.events_sha256)
      find("digest-mismatch", key, 0, "batch " + key + ": its event lines do not hash to the signed digest");
    if (auto k = m_keys.find(t.key_id); k == m_keys.end())
      find("unknown-key", key, 0, "batch " + key + " is signed by a key that is not a recorded audit key");
    else if (!batch_signature_valid(t, k->second))
      find("bad-signature", key, 0, "batch " + key + ": the signature over its trailer does not verify");
    if (m_previous && t.previous_sha256 != *m_previous)
      find("chain-broken", key, t.first,
           m_previous_key.empty()
               ? "batch " + key + " is the first but names a previous batch: the batches before it were removed"
               : "batch " + key + " does not follow " + m_previous_key +
                     ": a batch between them was removed, replaced or inserted");
    if (m_report.batches == 1) m_report.first_id = t.first;
    m_report.last_id = std::max(m_report.last_id, t.last);

    for (std::size_t i = 0; i < parsed->events.size(); ++i) {
      const auto& e = parsed->events[i];
      ++m_report.events;
      if (e.id <= m_archived_max) {
        find("duplicate", key, e.id, "event " + std::to_string(e.id) + " is archived again in batch " + key);
        continue;
      }
      CARTORIO_TRY(const store::AuditEvent* s, m_store.peek());
      while (s && s->id < e.id) {
        find("gap", key, s->id, "event " + std::to_string(s->id) + " is in the store but in no batch");
        m_store.pop();
        CARTORIO_TRY(s, m_store.peek());
      }
      if (s && s->id == e.id) {
        if (archive_event_line(*s) != parsed->lines[i])
          find("changed", key, e.id,
               "event " + std::to_string(e.id) + " differs between the store and batch " + key);
        m_store.pop();
      } else {
        find("not-in-store", key, e.id,
             "event " + std::to_string(e.id) + " of batch " + key + " is no longer in the store");
      }
      m_archived_max = e.id;
    }
    m_previous = parsed->sha256;
    m_previous_key = key;
    return core::ok();
  }

  // The cursor is written after the batches it names: one newer than the newest batch
  // means the newest batches were removed (the chain cannot show a missing tail).
  core::Result<void> cursor() {
    auto obj = m_objects.get(kArchiveCursorKey);
    if (!obj) {
      if (obj.error().code == Errc::not_found || obj.error().code == Errc::store_error) return core::ok();
      return obj.error();
    }
    auto j = nlohmann::json::parse(obj->data, nullptr, false);
    if (!j.is_object() || !j.contains("batch") || !j["batch"].is_string()) return core::ok();
    const auto named = j["batch"].get<std::string>();
    if (is_archive_batch_key(named) && named > m_newest_listed)
      find("truncated", named, 0,
           "the cursor names batch " + named + ", past the newest batch: the newest batches were removed");
    return core::ok();
  }

  objectstore::ObjectStore& m_objects;
  StoreStream m_store;
  std::map<std::string, EVP_PKEY*> m_keys;  // by key id
  ArchiveReport m_report;
  std::optional<std::string> m_previous = std::string();  // empty: the first batch follows nothing
  std::string m_previous_key;
  std::string m_newest_listed;
  std::int64_t m_archived_max = 0;
};

}  // namespace

core::Result<ArchiveReport> verify_archive(store::AuditLog& log, objectstore::ObjectStore& objects,
                                           const std::vector<crypto::PKey>& audit_keys) {
  Verifier v(log, objects, audit_keys);
  return v.run();
}

}  // namespace cartorio::audit
