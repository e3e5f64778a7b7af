// AuditedKeyStore over a real software store, with a recording AuditLog test double.
#include "keys/audited_key_store.h"

#include "keys/software/software_key_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <mutex>

namespace cartorio::keys {
namespace {

using core::Errc;
using crypto::KeyAlgorithm;

// Records appended events; `fail` makes every append fail as an unreachable store would.
class RecordingAuditLog final : public store::AuditLog {
 public:
  core::Result<std::int64_t> append_audit_event(const store::AuditEvent& e) override {
    std::lock_guard guard(m_mutex);
    if (fail) return {Errc::store_unavailable, "audit store is down"};
    events.push_back(e);
    events.back().id = static_cast<std::int64_t>(events.size());
    return events.back().id;
  }
  core::Result<std::vector<std::int64_t>> append_audit_events(const std::vector<store::AuditEvent>& batch) override {
    std::vector<std::int64_t> ids;
    for (const auto& e : batch) {
      auto id = append_audit_event(e);
      if (!id) return id.error();
      ids.push_back(*id);
    }
    return ids;
  }
  core::Result<std::vector<store::AuditEvent>> list_audit_events(const store::AuditFilter&) override {
    std::lock_guard guard(m_mutex);
    return events;
  }

  bool fail = false;
  std::vector<store::AuditEvent> events;

 private:
  std::mutex m_mutex;
};

class AuditedKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(create_master_key_file(m_dir / "master.key"));
    SoftwareKeyStoreOptions o;
    o.directory = m_dir / "keys";
    o.master_key_file = m_dir / "master.key";
    auto inner = SoftwareKeyStore::open(std::move(o));
    ASSERT_TRUE(inner) << inner.error().to_string();
    m_store = std::make_unique<AuditedKeyStore>(std::move(inner).value(), m_log, m_clock, "cli:root");
  }

  static nlohmann::json details(const store::AuditEvent& e) { return nlohmann::json::parse(e.details); }

  cartorio::testing::TempDir m_dir;
  RecordingAuditLog m_log;
  core::ManualClock m_clock{core::from_unix(1767225600)};  // 2026-01-01T00:00:00Z
  std::unique_ptr<AuditedKeyStore> m_store;
};

TEST_F(AuditedKeyStoreTest, CreateKey_OneEvent) {
  auto info = m_store->create_key(CreateKeyRequest{"tls-ca-2026", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info) << info.error().to_string();
  ASSERT_EQ(m_log.events.size(), 1u);
  const auto& e = m_log.events[0];
  EXPECT_EQ(e.action, "key.create");
  EXPECT_EQ(e.actor, "cli:root");
  EXPECT_EQ(e.target, info->ref.uri);
  EXPECT_EQ(e.result, "success");
  EXPECT_EQ(e.time, 1767225600);
  EXPECT_EQ(e.source, "local");
  EXPECT_EQ(details(e)["label"], "tls-ca-2026");
  EXPECT_EQ(details(e)["algorithm"], "ec-p256");
  EXPECT_EQ(details(e)["backend"], "software");
}

TEST_F(AuditedKeyStoreTest, CreateKey_WithActor_DuplicateRecordsErrorCode) {
  ASSERT_TRUE(m_store->create_key(CreateKeyRequest{"dup", KeyAlgorithm::ec_p256}, "user:alice"));
  auto again = m_store->create_key(CreateKeyRequest{"dup", KeyAlgorithm::ec_p256}, "user:alice");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
  ASSERT_EQ(m_log.events.size(), 2u);
  EXPECT_EQ(m_log.events[1].actor, "user:alice");
  EXPECT_EQ(m_log.events[1].result, "store.already_exists");
  EXPECT_EQ(m_log.events[1].target, "");
}

TEST_F(AuditedKeyStoreTest, Signer_OneKeyUseEventWithPurposeActorTarget) {
  auto info = m_store->create_key(CreateKeyRequest{"crl-signer", KeyAlgorithm::ec_p384});
  ASSERT_TRUE(info);
  m_clock.advance(std::chrono::seconds(90));
  auto signer = m_store->signer(info->ref, KeyUse{"sign-crl", "job:crl-publish", "crl:tls#7"});
  ASSERT_TRUE(signer) << signer.error().to_string();
  EXPECT_NE((*signer)->pkey(), nullptr);
  ASSERT_EQ(m_log.events.size(), 2u);
  const auto& e = m_log.events[1];
  EXPECT_EQ(e.action, "key.use");
  EXPECT_EQ(e.actor, "job:crl-publish");
  EXPECT_EQ(e.target, info->ref.uri);
  EXPECT_EQ(e.result, "success");
  EXPECT_EQ(e.time, 1767225600 + 90);
  EXPECT_EQ(details(e)["purpose"], "sign-crl");
  EXPECT_EQ(details(e)["target"], "crl:tls#7");
}

TEST_F(AuditedKeyStoreTest, Signer_UnknownKey_EventWithErrorCode) {
  KeyRef ref{"soft:00112233445566778899aabbccddeeff"};
  auto signer = m_store->signer(ref, KeyUse{"issue-certificate", "user:bob", "serial 01"});
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, Errc::key_not_found);
  ASSERT_EQ(m_log.events.size(), 1u);
  EXPECT_EQ(m_log.events[0].action, "key.use");
  EXPECT_EQ(m_log.events[0].result, "keys.not_found");
  EXPECT_EQ(m_log.events[0].target, ref.uri);
}

TEST_F(AuditedKeyStoreTest, DestroyKey_OneEventEachTime) {
  auto info = m_store->create_key(CreateKeyRequest{"old", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  ASSERT_TRUE(m_store->destroy_key(info->ref));
  auto again = m_store->destroy_key(info->ref, "user:carol");
  ASSERT_FALSE(again);
  ASSERT_EQ(m_log.events.size(), 3u);
  EXPECT_EQ(m_log.events[1].action, "key.destroy");
  EXPECT_EQ(m_log.events[1].actor, "cli:root");
  EXPECT_EQ(m_log.events[1].target, info->ref.uri);
  EXPECT_EQ(m_log.events[1].result, "success");
  EXPECT_EQ(m_log.events[2].actor, "user:carol");
  EXPECT_EQ(m_log.events[2].result, "keys.not_found");
}

TEST_F(AuditedKeyStoreTest, ReadOnlyCalls_NotAudited) {
  auto info = m_store->create_key(CreateKeyRequest{"k", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  ASSERT_TRUE(m_store->public_key(info->ref));
  ASSERT_TRUE(m_store->list_keys());
  ASSERT_TRUE(m_store->check());
  EXPECT_EQ(m_store->backend_name(), "software");
  EXPECT_EQ(m_log.events.size(), 1u);
}

TEST_F(AuditedKeyStoreTest, FailingAuditLog_SignerFails) {
  auto info = m_store->create_key(CreateKeyRequest{"k", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  m_log.fail = true;
  auto signer = m_store->signer(info->ref, KeyUse{"sign-ocsp", "service:ocsp", ""});
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, Errc::store_unavailable);
  EXPECT_NE(signer.error().message.find("audit"), std::string::npos) << signer.error().message;
  m_log.fail = false;
  EXPECT_TRUE(m_store->signer(info->ref, KeyUse{"sign-ocsp", "service:ocsp", ""}));
}

TEST_F(AuditedKeyStoreTest, FailingAuditLog_CreatedKeyIsUndone) {
  m_log.fail = true;
  auto info = m_store->create_key(CreateKeyRequest{"unrecorded", KeyAlgorithm::ec_p256});
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::store_unavailable);
  auto keys = m_store->inner().list_keys();
  ASSERT_TRUE(keys);
  EXPECT_TRUE(keys->empty());
}

}  // namespace
}  // namespace cartorio::keys
