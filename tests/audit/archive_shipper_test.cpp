// The audit archive on a real store (SQLite), key store (software, audited) and object store
// (filesystem): batching by size and age, no endless batches of the shipper's own signatures,
// resume after a run that died before or after its put, concurrent shippers, and
// verify_archive naming every kind of tampering (batches edited, re-signed, removed or
// slipped in; rows changed or deleted in the database with sqlite3).
#include "audit/archive_batch.h"
#include "audit/archive_shipper.h"
#include "audit/archive_verifier.h"
#include "audit/tree_head_publisher.h"
#include "crypto/key_pair.h"
#include "keys/audited_key_store.h"
#include "keys/software/software_key_store.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <thread>

namespace {

using namespace cartorio;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;

// The real object store with faults injected where a crash or a slow listing would strike:
// the given put_if_absent call fails (the process "died" before the batch landed), the
// cursor put fails (it died between the batch and the cursor), or listings and the cursor
// are hidden (a shipper whose view is stale).
class FaultyObjects final : public objectstore::ObjectStore {
 public:
  explicit FaultyObjects(objectstore::ObjectStore& inner) : m_inner(inner) {}
  int fail_put_if_absent_call = 0;  // 1-based; 0: never
  bool fail_cursor_put = false;
  bool blind = false;

  core::Result<objectstore::ObjectInfo> put(std::string_view key, std::string_view data,
                                            const objectstore::PutOptions& o) override {
    if (fail_cursor_put && key == audit::kArchiveCursorKey) return core::Error(core::Errc::io_error, "crash");
    return m_inner.put(key, data, o);
  }
  core::Result<bool> put_if_absent(std::string_view key, std::string_view data,
                                   const objectstore::PutOptions& o) override {
    if (++m_put_if_absent_calls == fail_put_if_absent_call) return core::Error(core::Errc::io_error, "crash");
    return m_inner.put_if_absent(key, data, o);
  }
  core::Result<objectstore::Object> get(std::string_view key) override {
    if (blind && key == audit::kArchiveCursorKey) return core::Error(core::Errc::not_found, "hidden");
    return m_inner.get(key);
  }
  core::Result<objectstore::ObjectInfo> head(std::string_view key) override { return m_inner.head(key); }
  core::Result<bool> erase(std::string_view key) override { return m_inner.erase(key); }
  core::Result<objectstore::ListPage> list(std::string_view prefix, std::size_t limit,
                                           std::string_view start_after) override {
    if (blind) return objectstore::ListPage{};
    return m_inner.list(prefix, limit, start_after);
  }
  core::Result<objectstore::VersionPage> list_versions(std::string_view key, std::size_t limit,
                                                       std::string_view after) override {
    return m_inner.list_versions(key, limit, after);
  }
  core::Result<objectstore::Object> get_version(std::string_view key, std::string_view v) override {
    return m_inner.get_version(key, v);
  }
  core::Result<bool> erase_version(std::string_view key, std::string_view v) override {
    return m_inner.erase_version(key, v);
  }
  core::Result<objectstore::ListPage> list_versioned_keys(std::string_view prefix, std::size_t limit,
                                                          std::string_view start_after) override {
    return m_inner.list_versioned_keys(prefix, limit, start_after);
  }
  core::Result<void> check() override { return m_inner.check(); }
  std::string backend_name() const override { return m_inner.backend_name(); }

 private:
  objectstore::ObjectStore& m_inner;
  int m_put_if_absent_calls = 0;
};

class ArchiveShipperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = store::open_sqlite_store((m_dir.path() / "store.db").string());
    ASSERT_TRUE(st) << st.error().to_string();
    m_store = std::move(*st);
    ASSERT_TRUE(keys::create_master_key_file(m_dir.path() / "master.key"));
    keys::SoftwareKeyStoreOptions ko;
    ko.directory = m_dir.path() / "keys";
    ko.master_key_file = m_dir.path() / "master.key";
    auto ks = keys::SoftwareKeyStore::open(std::move(ko));
    ASSERT_TRUE(ks) << ks.error().to_string();
    m_keys = std::make_unique<keys::AuditedKeyStore>(std::move(*ks), *m_store, m_clock, "test");
    auto objects = objectstore::FilesystemObjectStore::open({m_dir.path() / "objects", 1 << 26}, m_clock);
    ASSERT_TRUE(objects) << objects.error().to_string();
    m_objects = std::move(*objects);
    auto key = audit::ensure_audit_key(*m_keys, *m_store, m_clock);
    ASSERT_TRUE(key) << key.error().to_string();
    m_key = *key;
  }

  std::unique_ptr<audit::ArchiveShipper> shipper(int batch_max, objectstore::ObjectStore* objects = nullptr,
                                                 std::string actor = "job:audit-log-processor") {
    audit::ShipperOptions o;
    o.origin = "notary.test/audit-archive";
    o.actor = std::move(actor);
    o.batch_max_events = batch_max;
    o.max_delay = std::chrono::seconds(60);
    return std::make_unique<audit::ArchiveShipper>(*m_store, objects ? *objects : *m_objects, *m_keys, m_key,
                                                   m_clock, o);
  }

  void append(int n) {
    for (int i = 0; i < n; ++i) {
      store::AuditEvent e;
      e.time = core::to_unix(m_clock.now());
      e.actor = "user:alice";
      e.action = "certificate.issue";
      e.target = "5e" + std::to_string(m_appended++);
      e.result = "success";
      e.source = "192.0.2.1";
      e.details = R"({"profile": "tls-server"})";
      ASSERT_TRUE(m_store->append_audit_event(e));
    }
  }

  audit::ShipResult ship(audit::ArchiveShipper& s, bool all) {
    auto r = s.ship(all);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : audit::ShipResult{};
  }

  audit::ArchiveReport verify() {
    auto keys = audit::audit_public_keys(*m_keys, *m_store);
    EXPECT_TRUE(keys) << keys.error().to_string();
    auto report = audit::verify_archive(*m_store, *m_objects, *keys);
    EXPECT_TRUE(report) << report.error().to_string();
    return report ? *report : audit::ArchiveReport{};
  }

  static std::string findings(const audit::ArchiveReport& r) {
    std::string out;
    for (const auto& f : r.findings) out += f.problem + ":" + std::to_string(f.id) + " ";
    return out;
  }
  static bool has(const audit::ArchiveReport& r, const std::string& problem, std::int64_t id = -1) {
    for (const auto& f : r.findings)
      if (f.problem == problem && (id < 0 || f.id == id)) return true;
    return false;
  }

  std::vector<std::string> batch_keys() {
    std::vector<std::string> out;
    std::string after;
    for (;;) {
      auto page = m_objects->list(audit::kArchiveBatchPrefix, 1000, after);
      EXPECT_TRUE(page);
      if (!page) return out;
      for (const auto& e : page->entries) out.push_back(e.key);
      if (!page->truncated) return out;
      after = page->next_start_after;
    }
  }

  // How often each id appears across every batch, read by parsing the objects.
  std::map<std::int64_t, int> archived_ids() {
    std::map<std::int64_t, int> count;
    for (const auto& key : batch_keys()) {
      auto obj = m_objects->get(key);
      EXPECT_TRUE(obj);
      if (!obj) continue;
      auto batch = audit::parse_archive_batch(obj->data);
      EXPECT_TRUE(batch) << batch.error().to_string();
      if (!batch) continue;
      for (const auto& e : batch->events) ++count[e.id];
    }
    return count;
  }

  std::vector<std::int64_t> store_ids() {
    std::vector<std::int64_t> ids;
    store::AuditFilter f;
    f.limit = 10000;
    auto events = m_store->list_audit_events(f);
    EXPECT_TRUE(events);
    for (const auto& e : *events) ids.push_back(e.id);
    return ids;
  }

  // Every store event up to the archive's end is archived exactly once; what is after it
  // is the shipper's own signatures only.
  void expect_every_event_once() {
    const auto archived = archived_ids();
    ASSERT_FALSE(archived.empty());
    const std::int64_t end = archived.rbegin()->first;
    for (auto id : store_ids()) {
      if (id > end) continue;
      auto it = archived.find(id);
      ASSERT_TRUE(it != archived.end()) << "event " << id << " is in no batch";
      EXPECT_EQ(it->second, 1) << "event " << id;
    }
    for (const auto& [id, n] : archived) EXPECT_EQ(n, 1) << "event " << id;
  }

  void sql(const std::string& statement) {
    auto r = run("sqlite3 " + shell_quote((m_dir.path() / "store.db").string()) + " " + shell_quote(statement));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir m_dir;
  core::ManualClock m_clock{core::from_unix(1767225600)};
  std::unique_ptr<store::Store> m_store;
  std::unique_ptr<keys::KeyStore> m_keys;
  std::unique_ptr<objectstore::ObjectStore> m_objects;
  keys::KeyRef m_key;
  int m_appended = 0;
};

TEST_F(ArchiveShipperTest, FullBatchesShipAtOnce_ThePartialOneAfterMaxDelay_AndVerify) {
  append(25);  // + ensure_audit_key's key.create: 26 events
  auto s = shipper(10);
  auto first = ship(*s, false);
  ASSERT_EQ(first.batches.size(), 2u);
  EXPECT_EQ(first.batches[0].first, 1);
  EXPECT_EQ(first.batches[0].last, 10);
  EXPECT_EQ(first.batches[0].key, "audit-logs/archive/batches/00000000000000000001.jsonl");
  EXPECT_EQ(first.batches[1].first, 11);
  EXPECT_EQ(first.batches[1].last, 20);
  EXPECT_EQ(first.archived_through, 20);

  // The tail (21..26 and the two batch signatures) waits for max_delay...
  EXPECT_TRUE(ship(*s, false).batches.empty());
  m_clock.advance(std::chrono::seconds(59));
  EXPECT_TRUE(ship(*s, false).batches.empty());
  m_clock.advance(std::chrono::seconds(1));
  auto tail = ship(*s, false);
  ASSERT_EQ(tail.batches.size(), 1u);
  EXPECT_EQ(tail.batches[0].first, 21);
  EXPECT_EQ(tail.batches[0].last, 28);

  // ... and `all` ships it at once.
  append(3);
  auto now = ship(*s, true);
  ASSERT_EQ(now.batches.size(), 1u);
  EXPECT_EQ(now.batches[0].first, 29);
  EXPECT_EQ(now.batches[0].count, 4);  // the tail batch's signature + 3

  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  EXPECT_EQ(report.batches, 4u);
  EXPECT_EQ(report.first_id, 1);
  EXPECT_EQ(report.last_id, 32);
  EXPECT_EQ(report.events, 32u);
  EXPECT_EQ(report.pending, 1u);  // the last batch's own signature
  EXPECT_EQ(report.store_events, 33u);
  expect_every_event_once();
}

TEST_F(ArchiveShipperTest, AnIdleInstallation_ShipsNoBatchOfItsOwnSignatures) {
  append(3);
  auto s = shipper(1000);
  ASSERT_EQ(ship(*s, true).batches.size(), 1u);
  for (int i = 0; i < 5; ++i) {
    m_clock.advance(std::chrono::hours(1));
    EXPECT_TRUE(ship(*s, false).batches.empty()) << "round " << i;
    EXPECT_TRUE(ship(*s, true).batches.empty()) << "round " << i;
  }
  // The job's own run records do not wake it either; anyone else's event does.
  store::AuditEvent run;
  run.time = core::to_unix(m_clock.now());
  run.actor = "job:audit-log-processor";
  run.action = "job.run";
  ASSERT_TRUE(m_store->append_audit_event(run));
  m_clock.advance(std::chrono::hours(1));
  EXPECT_TRUE(ship(*s, false).batches.empty());
  append(1);
  m_clock.advance(std::chrono::minutes(1));
  auto woke = ship(*s, false);
  ASSERT_EQ(woke.batches.size(), 1u);
  EXPECT_EQ(woke.batches[0].count, 3);  // own signature + job.run + the new event
  EXPECT_TRUE(verify().ok());
}

TEST_F(ArchiveShipperTest, ARunThatDiesBeforeItsPut_ShipsNothing_AndTheNextResumes) {
  append(50);
  FaultyObjects faulty(*m_objects);
  faulty.fail_put_if_absent_call = 3;  // the third batch never lands
  auto dying = shipper(10, &faulty);
  auto r = dying->ship(true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::io_error);
  EXPECT_EQ(batch_keys().size(), 2u);

  // A new process: its resume point is the archive, the dead run's signature (a key.use
  // event for a batch that never landed) is shipped like any event.
  auto next = shipper(10);
  auto rest = ship(*next, true);
  EXPECT_EQ(rest.batches.front().first, 21);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  expect_every_event_once();
}

TEST_F(ArchiveShipperTest, ARunThatDiesAfterItsPut_BeforeTheCursor_IsNotShippedTwice) {
  append(150);
  FaultyObjects faulty(*m_objects);
  faulty.fail_cursor_put = true;  // as if it died right after its last batch
  auto s = shipper(2, &faulty);
  auto a = ship(*s, true);
  EXPECT_GE(a.batches.size(), 100u);
  EXPECT_ERRC(m_objects->get(audit::kArchiveCursorKey), core::Errc::not_found);

  append(5);
  auto next = shipper(2);
  auto b = ship(*next, true);
  ASSERT_FALSE(b.batches.empty());
  EXPECT_EQ(b.batches.front().first, a.archived_through + 1);
  ASSERT_TRUE(m_objects->get(audit::kArchiveCursorKey));  // over 100 batches listed: the hint is written

  // A stale hint (an old batch), a hint naming a batch that is gone, and a garbled one:
  // the listing decides.
  const auto keys = batch_keys();
  for (const std::string& cursor : {R"({"batch":")" + keys[3] + R"("})",
                                    std::string(R"({"batch":"audit-logs/archive/batches/00000000000000099999.jsonl"})"),
                                    std::string("not json")}) {
    ASSERT_TRUE(m_objects->put(audit::kArchiveCursorKey, cursor));
    auto pos = next->position();
    ASSERT_TRUE(pos) << pos.error().to_string();
    EXPECT_EQ(pos->key, keys.back()) << cursor;
    EXPECT_EQ(pos->last_id, b.archived_through) << cursor;
  }
  append(2);
  auto c = ship(*next, true);
  ASSERT_FALSE(c.batches.empty());
  EXPECT_EQ(c.batches.front().first, b.archived_through + 1);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  expect_every_event_once();
}

TEST_F(ArchiveShipperTest, AShipperWithAStaleView_LosesTheRace_AndGoesOnAfterTheWinner) {
  append(30);
  auto winner = shipper(10);
  ASSERT_EQ(ship(*winner, false).batches.size(), 3u);
  append(12);
  // This one sees no batch at all: it cuts 1..10 again, loses every put_if_absent to the
  // batches there, adopts each and ships only what follows.
  FaultyObjects stale(*m_objects);
  stale.blind = true;
  auto late = shipper(10, &stale, "cli");
  auto r = ship(*late, true);
  EXPECT_EQ(r.lost_races, 3u);
  ASSERT_FALSE(r.batches.empty());
  EXPECT_EQ(r.batches.front().first, 31);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  expect_every_event_once();
}

TEST_F(ArchiveShipperTest, ConcurrentShippers_WhileEventsArrive_ArchiveEveryEventOnce) {
  auto a = shipper(7, nullptr, "job:audit-log-processor");
  auto b = shipper(7, nullptr, "cli");
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  const auto loop = [&](audit::ArchiveShipper& s) {
    while (!done.load()) {
      if (!s.ship(true)) ++failures;
    }
  };
  std::thread ta(loop, std::ref(*a));
  std::thread tb(loop, std::ref(*b));
  for (int i = 0; i < 20; ++i) append(15);
  done = true;
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  ship(*a, true);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  EXPECT_GE(report.events, 301u);
  expect_every_event_once();
}

TEST_F(ArchiveShipperTest, VerifyArchive_NamesEditedReSignedRemovedAndSlippedInBatches) {
  append(40);
  auto s = shipper(10);
  ship(*s, true);
  auto keys = batch_keys();
  ASSERT_GE(keys.size(), 4u);
  auto original = m_objects->get(keys[1]);
  ASSERT_TRUE(original);

  // An event line edited in place: the signed digest no longer matches, nor does the store.
  std::string edited = original->data;
  const auto at = edited.find("user:alice");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 10, "user:malle");
  ASSERT_TRUE(m_objects->put(keys[1], edited));
  auto report = verify();
  EXPECT_TRUE(has(report, "digest-mismatch")) << findings(report);
  EXPECT_TRUE(has(report, "changed", 11)) << findings(report);
  EXPECT_TRUE(has(report, "chain-broken")) << findings(report);  // the next batch hashed the original

  // ... with the digest recomputed: the signature fails.
  auto parsed = audit::parse_archive_batch(edited);
  ASSERT_TRUE(parsed);
  const std::string old_digest = parsed->trailer.events_sha256;
  std::string events_part = edited.substr(0, edited.rfind('\n', edited.size() - 2) + 1);
  std::string resigned = edited;
  resigned.replace(resigned.find(old_digest), old_digest.size(), audit::sha256_hex(events_part));
  ASSERT_TRUE(m_objects->put(keys[1], resigned));
  report = verify();
  EXPECT_TRUE(has(report, "bad-signature")) << findings(report);
  EXPECT_FALSE(has(report, "digest-mismatch")) << findings(report);

  // ... or signed whole by another key.
  auto other = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  ASSERT_TRUE(other);
  audit::BatchTrailer t = parsed->trailer;
  auto forged = audit::make_archive_batch(parsed->events, t, other->get());
  ASSERT_TRUE(forged);
  ASSERT_TRUE(m_objects->put(keys[1], *forged));
  report = verify();
  EXPECT_TRUE(has(report, "unknown-key")) << findings(report);

  // The original back: clean again.
  ASSERT_TRUE(m_objects->put(keys[1], original->data));
  report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);

  // A batch removed from the middle: the chain breaks and its events are a gap.
  ASSERT_TRUE(m_objects->erase(keys[2]));
  report = verify();
  EXPECT_TRUE(has(report, "chain-broken")) << findings(report);
  for (std::int64_t id = 21; id <= 30; ++id) EXPECT_TRUE(has(report, "gap", id)) << id << " " << findings(report);
  {  // undone from its noncurrent version (entries: the delete marker, then the batch)
    auto versions = m_objects->list_versions(keys[2]);
    ASSERT_TRUE(versions);
    ASSERT_EQ(versions->entries.size(), 2u);
    auto kept = m_objects->get_version(keys[2], versions->entries[1].version_id);
    ASSERT_TRUE(kept);
    ASSERT_TRUE(m_objects->put(keys[2], kept->data));
  }
  EXPECT_TRUE(verify().ok());

  // A batch slipped in, validly signed with the audit key, repeating events 15..18.
  store::AuditFilter f;
  f.after_id = 14;
  f.limit = 4;
  auto events = m_store->list_audit_events(f);
  ASSERT_TRUE(events);
  audit::BatchTrailer extra;
  extra.origin = "notary.test/audit-archive";
  {
    auto signer = m_keys->signer(m_key, keys::KeyUse{"sign-audit-batch", "test", "extra"});
    ASSERT_TRUE(signer);
    auto data = audit::make_archive_batch(*events, extra, (*signer)->pkey());
    ASSERT_TRUE(data);
    ASSERT_TRUE(m_objects->put(audit::archive_batch_key(15), *data));
  }
  report = verify();
  EXPECT_TRUE(has(report, "duplicate", 15)) << findings(report);
  EXPECT_TRUE(has(report, "chain-broken")) << findings(report);
  ASSERT_TRUE(m_objects->erase(audit::archive_batch_key(15)));
  EXPECT_TRUE(verify().ok());
}

TEST_F(ArchiveShipperTest, VerifyArchive_NamesRowsChangedOrDeletedInTheDatabase_AndARemovedTail) {
  append(240);
  auto s = shipper(2);
  ship(*s, true);  // over kCursorStride batches: the cursor names the newest
  ASSERT_TRUE(verify().ok());

  sql("UPDATE audit_events SET actor = 'user:mallory' WHERE id = 7");
  sql("DELETE FROM audit_events WHERE id = 9");
  auto report = verify();
  EXPECT_TRUE(has(report, "changed", 7)) << findings(report);
  EXPECT_TRUE(has(report, "not-in-store", 9)) << findings(report);
  EXPECT_EQ(report.findings_total, 2u) << findings(report);

  // The newest batches removed: the chain cannot show it, the cursor does.
  const auto keys = batch_keys();
  ASSERT_TRUE(m_objects->erase(keys.back()));
  ASSERT_TRUE(m_objects->erase(keys[keys.size() - 2]));
  report = verify();
  EXPECT_TRUE(has(report, "truncated")) << findings(report);
}

TEST_F(ArchiveShipperTest, EventsThatAreNotValidUtf8_RoundTripAndVerify) {
  store::AuditEvent e;
  e.time = core::to_unix(m_clock.now());
  e.actor = "user:bad\xff\xfe";
  e.action = "odd.event";
  e.details = R"({"k": "v",   "spaced": true})";
  ASSERT_TRUE(m_store->append_audit_event(e));
  auto s = shipper(100);
  ASSERT_EQ(ship(*s, true).batches.size(), 1u);
  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  auto obj = m_objects->get(audit::archive_batch_key(1));
  ASSERT_TRUE(obj);
  auto batch = audit::parse_archive_batch(obj->data);
  ASSERT_TRUE(batch) << batch.error().to_string();
  EXPECT_EQ(batch->events.back().details, R"({"k": "v",   "spaced": true})");  // verbatim
  EXPECT_EQ(batch->trailer.origin, "notary.test/audit-archive");
}

}  // namespace
