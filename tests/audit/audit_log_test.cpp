// The audit log end to end on a real store (SQLite), key store (software) and object store
// (filesystem): heads are published, `verify_log` holds the store to them and names a row
// changed, removed or inserted behind the store's back (with the engine's own client), and
// the proofs are checked by tests/audit/verify_proofs.py, an independent verifier written
// from RFC 9162 in Python.
#include "audit/log_verifier.h"
#include "audit/merkle_log.h"
#include "audit/tree_head_publisher.h"
#include "crypto/key_pair.h"
#include "keys/audited_key_store.h"
#include "keys/software/software_key_store.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace cartorio;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;

class AuditLogTest : public ::testing::Test {
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
    auto objects = objectstore::FilesystemObjectStore::open({m_dir.path() / "objects", 1 << 24}, m_clock);
    ASSERT_TRUE(objects) << objects.error().to_string();
    m_objects = std::move(*objects);
    auto key = audit::ensure_audit_key(*m_keys, *m_store, m_clock);
    ASSERT_TRUE(key) << key.error().to_string();
    m_key = *key;
    m_source = std::make_unique<audit::AuditLeafSource>(*m_store);
    m_log = std::make_unique<audit::MerkleLog>("audit", *m_source);
    m_heads = std::make_unique<audit::TreeHeadPublisher>(*m_log, *m_keys, m_key, *m_objects, m_clock,
                                                         audit::PublisherOptions{"notary.test/audit", "test"});
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
      e.details = R"({"profile":"tls-server"})";
      ASSERT_TRUE(m_store->append_audit_event(e));
      m_clock.advance(std::chrono::seconds(1));
    }
  }

  audit::Checkpoint publish() {
    auto head = m_heads->publish();
    EXPECT_TRUE(head) << head.error().to_string();
    m_clock.advance(std::chrono::seconds(1));
    return *head;
  }

  audit::VerifyReport verify() {
    auto keys = audit::audit_public_keys(*m_keys, *m_store);
    EXPECT_TRUE(keys) << keys.error().to_string();
    audit::AuditLeafSource source(*m_store);
    auto report = audit::verify_log("audit", source, *m_objects, *keys);
    EXPECT_TRUE(report) << report.error().to_string();
    return *report;
  }

  void sql(const std::string& statement) {
    auto r = run("sqlite3 " + shell_quote((m_dir.path() / "store.db").string()) + " " + shell_quote(statement));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static std::string findings(const audit::VerifyReport& r) {
    std::string out;
    for (const auto& f : r.findings) out += f.problem + ":" + std::to_string(f.id) + " ";
    return out;
  }

  TempDir m_dir;
  core::ManualClock m_clock{core::from_unix(1767225600)};
  std::unique_ptr<store::Store> m_store;
  std::unique_ptr<keys::KeyStore> m_keys;
  std::unique_ptr<objectstore::ObjectStore> m_objects;
  keys::KeyRef m_key;
  std::unique_ptr<audit::AuditLeafSource> m_source;
  std::unique_ptr<audit::MerkleLog> m_log;
  std::unique_ptr<audit::TreeHeadPublisher> m_heads;
  int m_appended = 0;
};

TEST_F(AuditLogTest, AnUntouchedStore_Verifies_AgainstEveryHead) {
  append(5);
  const auto first = publish();
  // The head's own key use is an audit event: the log grew by one.
  EXPECT_EQ(first.tree_size, 5u + 1u /* ensure_audit_key's key.create */);
  append(7);
  const auto second = publish();
  EXPECT_GT(second.tree_size, first.tree_size);
  append(2);  // not yet under a head: fine

  auto report = verify();
  EXPECT_TRUE(report.ok()) << findings(report);
  EXPECT_EQ(report.checkpoints, 2u);
  EXPECT_EQ(report.covered, second.tree_size);
  EXPECT_EQ(report.published_leaves, second.tree_size);
  EXPECT_EQ(report.store_entries, second.tree_size + 1 /* second head's key use */ + 2);

  // The heads are consistent and each published leaf is the store's.
  auto proof = m_log->consistency(first.tree_size, second.tree_size);
  ASSERT_TRUE(proof);
  EXPECT_TRUE(audit::verify_consistency(first.tree_size, second.tree_size, first.root, second.root, *proof));
}

TEST_F(AuditLogTest, ARowChangedInTheDatabase_IsNamed_AndNoHeadIsSignedOverIt) {
  append(6);
  publish();
  sql("UPDATE audit_events SET actor = 'user:mallory' WHERE id = 4");
  auto report = verify();
  ASSERT_FALSE(report.ok());
  ASSERT_EQ(report.findings.size(), 1u) << findings(report);
  EXPECT_EQ(report.findings[0].problem, "changed");
  EXPECT_EQ(report.findings[0].id, 4);
  EXPECT_NE(report.findings[0].message.find("entry 4"), std::string::npos);

  // A fresh process (a new tree from the store) refuses to sign over the change.
  audit::MerkleLog fresh("audit", *m_source);
  audit::TreeHeadPublisher heads(fresh, *m_keys, m_key, *m_objects, m_clock, {"notary.test/audit", "test"});
  auto refused = heads.publish();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::audit_tampered);
}

TEST_F(AuditLogTest, ARowDeletedOrInserted_IsNamed) {
  append(6);
  publish();
  sql("DELETE FROM audit_events WHERE id = 3");
  auto before = verify();
  ASSERT_EQ(before.findings.size(), 1u) << findings(before);
  EXPECT_EQ(before.findings[0].problem, "missing");
  EXPECT_EQ(before.findings[0].id, 3);

  sql("INSERT INTO audit_events (id, time, actor, action) VALUES (3, 1, 'user:mallory', 'backdated.event')");
  auto after = verify();
  ASSERT_EQ(after.findings.size(), 1u) << findings(after);
  EXPECT_EQ(after.findings[0].problem, "changed");
  EXPECT_EQ(after.findings[0].id, 3);
}

TEST_F(AuditLogTest, APublishedLeafBundleEdited_OrAHeadForged_IsCaught) {
  append(4);
  publish();
  auto keys = m_objects->list("audit-logs/audit/leaves/");
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->entries.size(), 1u);
  auto bundle = m_objects->get(keys->entries[0].key);
  ASSERT_TRUE(bundle);
  auto j = nlohmann::json::parse(bundle->data);
  // Written by hand, in the bytes a JSON library writes (sorted keys, no spaces).
  EXPECT_EQ(j.dump(), bundle->data);
  ASSERT_EQ(j["ids"].size(), m_log->size());
  EXPECT_EQ(j["first"], 0);
  EXPECT_EQ(j["log"], "audit");
  EXPECT_EQ(j["leaf_hashes"][0], audit::to_hex(m_log->leaves(0, 1).front().second));
  j["leaf_hashes"][1] = std::string(64, '0');
  ASSERT_TRUE(m_objects->put(keys->entries[0].key, j.dump()));
  auto report = verify();
  EXPECT_NE(findings(report).find("bundle-mismatch"), std::string::npos) << findings(report);

  // A head signed by another key.
  auto other = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  audit::Checkpoint forged;
  forged.origin = "notary.test/audit";
  forged.tree_size = 1;
  forged.root = m_log->leaves(0, 1).front().second;
  ASSERT_TRUE(audit::sign_checkpoint(forged, other->get()));
  ASSERT_TRUE(m_objects->put(audit::LogLayout("audit").checkpoint(1, 5), forged.to_json()));
  report = verify();
  EXPECT_NE(findings(report).find("bad-signature"), std::string::npos) << findings(report);
}

// The proofs this code serves, checked by an independent verifier (Python, from the RFC).
TEST_F(AuditLogTest, Proofs_AreAccepted_ByTheIndependentPythonVerifier) {
  append(9);
  const auto a = publish();
  append(13);
  const auto b = publish();
  auto pem = crypto::public_key_to_pem((*m_keys->public_key(m_key)).get());
  ASSERT_TRUE(pem);
  nlohmann::json bundle{{"public_key_pem", *pem},
                        {"checkpoints", {nlohmann::json::parse(a.to_json()), nlohmann::json::parse(b.to_json())}},
                        {"inclusion", nlohmann::json::array()},
                        {"consistency", nlohmann::json::array()}};
  store::AuditFilter all;
  all.limit = 1000;
  auto events = m_store->list_audit_events(all);
  ASSERT_TRUE(events);
  for (std::size_t c = 0; c < 2; ++c) {
    const auto size = c == 0 ? a.tree_size : b.tree_size;
    for (const auto& e : *events) {
      auto inc = m_log->inclusion_by_id(e.id, size);
      if (!inc) continue;  // not under this head
      nlohmann::json path = nlohmann::json::array();
      for (const auto& h : inc->path) path.push_back(audit::to_hex(h));
      bundle["inclusion"].push_back({{"checkpoint", c},
                                     {"leaf_index", inc->index},
                                     {"tree_size", size},
                                     {"leaf_fields", audit::audit_event_fields(e)},
                                     {"leaf_hash", audit::to_hex(inc->leaf_hash)},
                                     {"path", path}});
    }
  }
  for (auto [f, s] : {std::pair{0, 1}, std::pair{0, 0}, std::pair{1, 1}}) {
    const auto m = f == 0 ? a.tree_size : b.tree_size;
    const auto n = s == 0 ? a.tree_size : b.tree_size;
    auto proof = m_log->consistency(m, n);
    ASSERT_TRUE(proof);
    nlohmann::json path = nlohmann::json::array();
    for (const auto& h : *proof) path.push_back(audit::to_hex(h));
    bundle["consistency"].push_back({{"first", f}, {"second", s}, {"path", path}});
  }
  EXPECT_GT(bundle["inclusion"].size(), 30u);

  const auto file = m_dir.path() / "bundle.json";
  const std::string verifier = CARTORIO_SOURCE_DIR "/tests/audit/verify_proofs.py";
  cartorio::testing::write_file(file, bundle.dump());
  auto ok = run("python3 " + verifier + " " + file.string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

  // The same verifier rejects a leaf changed after the fact and a proof cut short.
  auto changed = bundle;
  changed["inclusion"][3]["leaf_fields"][3] = "user:mallory";
  changed["inclusion"][3].erase("leaf_hash");
  changed["consistency"][0]["path"].erase(0);
  cartorio::testing::write_file(file, changed.dump());
  auto bad = run("python3 " + verifier + " " + file.string());
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("inclusion[3]"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("consistency[0]"), std::string::npos) << bad.err;
}

}  // namespace
