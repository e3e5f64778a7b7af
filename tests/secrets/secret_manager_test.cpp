// SecretStore and SecretManager over real backends: a filesystem object store, a software
// data-key ring and a SQLite audit log in a temp dir; time from a ManualClock.
#include "secrets/secret_manager.h"

#include "core/config.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "objectstore/lifecycle.h"
#include "pii/key_ring_fixture.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cartorio::secrets {
namespace {

using core::Errc;
using namespace std::chrono_literals;

constexpr auto kDay = std::chrono::hours(24);

class SecretsTest : public pii::testing::KeyRingTest {
 protected:
  void SetUp() override {
    KeyRingTest::SetUp();
    objectstore::FilesystemObjectStoreOptions o;
    o.root = m_dir / "objects";
    auto objects = objectstore::FilesystemObjectStore::open(o, m_clock);
    ASSERT_TRUE(objects) << objects.error().to_string();
    m_objects = std::move(*objects);
    auto db = store::open_sqlite_store((m_dir / "audit.db").string());
    ASSERT_TRUE(db) << db.error().to_string();
    m_db = std::move(*db);
    m_store = std::make_unique<SecretStore>(*m_objects, *m_ring);
    m_manager = std::make_unique<SecretManager>(*m_store, *m_db, m_clock, 30);
    m_manager->set_rotator(Kind::generic, random_value_rotator());
  }

  std::vector<store::AuditEvent> events(const std::string& action) {
    store::AuditFilter f;
    f.action = action;
    auto list = m_db->list_audit_events(f);
    EXPECT_TRUE(list) << list.error().to_string();
    return list ? *list : std::vector<store::AuditEvent>{};
  }

  // Every byte under the object store's root, for "is the value in there?".
  std::string raw_bytes() {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(m_dir / "objects"))
      if (e.is_regular_file()) {
        std::ifstream in(e.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        all += ss.str();
      }
    return all;
  }

  std::string raw_object(const std::string& key) {
    auto o = m_objects->get(key);
    EXPECT_TRUE(o) << o.error().to_string();
    return o ? o->data : std::string();
  }

  core::ManualClock m_clock{core::from_unix(1'800'000'000)};
  std::unique_ptr<objectstore::FilesystemObjectStore> m_objects;
  std::unique_ptr<store::Store> m_db;
  std::unique_ptr<SecretStore> m_store;
  std::unique_ptr<SecretManager> m_manager;
  const Caller m_alice{"user:alice", "192.0.2.7", "req-1"};
};

TEST_F(SecretsTest, Put_ThenReveal_GivesTheValue_AndEachReadIsAudited) {
  auto put = m_manager->put("billing-api-key", "s3cr3t-value-0001", std::nullopt, m_alice);
  ASSERT_OK(put);
  EXPECT_EQ(put->version, 1);
  EXPECT_EQ(put->kind, Kind::generic);
  EXPECT_EQ(put->rotation_days, 30);
  EXPECT_EQ(put->created_by, "user:alice");

  auto got = m_manager->reveal("billing-api-key", std::nullopt, m_alice);
  ASSERT_OK(got);
  EXPECT_EQ(got->value, "s3cr3t-value-0001");
  auto reads = events("secret.read");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].actor, "user:alice");
  EXPECT_EQ(reads[0].target, "billing-api-key");
  EXPECT_EQ(reads[0].source, "192.0.2.7");
  EXPECT_EQ(reads[0].request_id, "req-1");
  EXPECT_EQ(reads[0].result, "success");
  EXPECT_EQ(events("secret.put").size(), 1u);

  // A read of a secret that is not there is recorded too.
  EXPECT_ERRC(m_manager->reveal("nope", std::nullopt, m_alice), Errc::not_found);
  reads = events("secret.read");
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[1].result, "store.not_found");
}

TEST_F(SecretsTest, StoredBytes_DoNotContainTheValue) {
  ASSERT_OK(m_manager->put("webhook-hmac", "plain-text-marker-4242", 0, m_alice));
  const auto raw = raw_bytes();
  EXPECT_NE(raw.find("webhook-hmac"), std::string::npos);  // metadata is not secret
  EXPECT_EQ(raw.find("plain-text-marker-4242"), std::string::npos);
  EXPECT_NE(raw_object("secrets/webhook-hmac/000000000001").find("\"value\":\"pii1."), std::string::npos);
}

TEST_F(SecretsTest, EveryVersionIsKept_AndReadable) {
  ASSERT_OK(m_manager->put("k", "first", 7, m_alice));
  m_clock.advance(1h);
  ASSERT_OK(m_manager->put("k", "second", std::nullopt, m_alice));
  auto versions = m_manager->versions("k");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 2);
  EXPECT_EQ((*versions)[0].rotation_days, 7);  // kept from the version before
  EXPECT_EQ((*versions)[1].version, 1);
  EXPECT_EQ((*versions)[0].created_at - (*versions)[1].created_at, 3600);
  auto latest = m_manager->reveal("k", std::nullopt, m_alice);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->value, "second");
  auto old = m_manager->reveal("k", 1, m_alice);
  ASSERT_OK(old);
  EXPECT_EQ(old->value, "first");
  EXPECT_ERRC(m_manager->reveal("k", 3, m_alice), Errc::not_found);
  auto all = m_manager->list();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].version, 2);
}

TEST_F(SecretsTest, AValueMovedOrItsMetadataEdited_DoesNotOpen) {
  ASSERT_OK(m_manager->put("a", "value-of-a", 30, m_alice));
  // Copied under another name: the name is bound into the sealed value.
  auto doc = nlohmann::json::parse(raw_object("secrets/a/000000000001"));
  doc["name"] = "b";
  ASSERT_OK(m_objects->put("secrets/b/000000000001", doc.dump()));
  EXPECT_ERRC(m_store->read("b"), Errc::store_error);
  // Its rotation period lengthened in the bucket: bound too.
  doc = nlohmann::json::parse(raw_object("secrets/a/000000000001"));
  doc["rotation_days"] = 3000;
  ASSERT_OK(m_objects->put("secrets/a/000000000002", [&] {
    auto d = doc;
    d["version"] = 2;
    return d.dump();
  }()));
  EXPECT_ERRC(m_store->read("a"), Errc::store_error);
  // A file that is not a secret at all.
  ASSERT_OK(m_objects->put("secrets/c/000000000001", "not json"));
  EXPECT_ERRC(m_store->read("c"), Errc::store_error);
}

TEST_F(SecretsTest, TwoWritersOfTheSameVersion_OnlyOneWins) {
  SecretInfo info{"race", Kind::generic, 1, 1, "a", "put", 0};
  ASSERT_OK(m_store->write(info, "one"));
  info.created_by = "b";
  EXPECT_ERRC(m_store->write(info, "two"), Errc::conflict);
  auto s = m_store->read("race");
  ASSERT_OK(s);
  EXPECT_EQ(s->value, "one");
}

TEST_F(SecretsTest, BadInput_IsRefusedWithAStableCode) {
  for (const char* bad : {"", "UPPER", "-dash", "has/slash", "has space",
                          "0123456789012345678901234567890123456789012345678901234567890123456789"}) {
    SCOPED_TRACE(bad);
    EXPECT_ERRC(m_manager->put(bad, "v", std::nullopt, m_alice), Errc::invalid_argument);
    EXPECT_ERRC(m_manager->reveal(bad, std::nullopt, m_alice), Errc::invalid_argument);
  }
  EXPECT_ERRC(m_manager->put("ok", "", std::nullopt, m_alice), Errc::invalid_argument);
  EXPECT_ERRC(m_manager->put("ok", std::string(SecretStore::kMaxValueBytes + 1, 'x'), std::nullopt, m_alice),
              Errc::invalid_argument);
  EXPECT_ERRC(m_manager->put("ok", "v", -1, m_alice), Errc::invalid_argument);
  // Nothing half-written.
  auto all = m_manager->list();
  ASSERT_OK(all);
  EXPECT_TRUE(all->empty());
}

TEST_F(SecretsTest, Schedule_RotatesWhenThePeriodHasPassed_ByTheInjectedClock) {
  ASSERT_OK(m_manager->put("shared-key", "initial", 30, m_alice));
  ASSERT_OK(m_manager->put("forever", "never-rotated", 0, m_alice));
  const Caller job{"job:secret-rotation", "local", ""};
  m_clock.advance(29 * kDay);
  auto report = m_manager->rotate_due(job);
  ASSERT_OK(report);
  EXPECT_TRUE(report->rotated.empty());
  m_clock.advance(kDay + 1s);
  report = m_manager->rotate_due(job);
  ASSERT_OK(report);
  ASSERT_EQ(report->rotated.size(), 1u);
  EXPECT_EQ(report->rotated[0].name, "shared-key");
  EXPECT_EQ(report->rotated[0].version, 2);
  EXPECT_EQ(report->rotated[0].reason, "schedule");
  EXPECT_EQ(report->rotated[0].created_by, "job:secret-rotation");
  auto s = m_store->read("shared-key");
  ASSERT_OK(s);
  EXPECT_NE(s->value, "initial");
  EXPECT_EQ(s->value.size(), 43u);  // 32 random bytes, base64url
  // The next period starts from the rotation.
  report = m_manager->rotate_due(job);
  ASSERT_OK(report);
  EXPECT_TRUE(report->rotated.empty());
  auto rotations = events("secret.rotate");
  ASSERT_EQ(rotations.size(), 1u);
  EXPECT_EQ(rotations[0].actor, "job:secret-rotation");
}

TEST_F(SecretsTest, AManagedSecret_IsAdoptedThenRotatedOnSchedule) {
  int kid = 1;
  Rotator jwt;
  jwt.next_value = [&](std::string_view, const std::optional<Secret>& current) -> core::Result<std::string> {
    EXPECT_TRUE(current.has_value());
    return "kid-" + std::to_string(++kid);
  };
  m_manager->set_rotator(Kind::jwt_signing_key, jwt);
  m_manager->manage(std::string(kJwtSigningKey), Kind::jwt_signing_key,
                    [&]() -> core::Result<std::string> { return "kid-" + std::to_string(kid); });
  const Caller job{"job:secret-rotation", "local", ""};
  auto report = m_manager->rotate_due(job);
  ASSERT_OK(report);
  EXPECT_TRUE(report->rotated.empty());  // adopted, not rotated
  auto v1 = m_store->read(kJwtSigningKey);
  ASSERT_OK(v1);
  EXPECT_EQ(v1->value, "kid-1");
  EXPECT_EQ(v1->info.reason, "adopt");
  EXPECT_EQ(v1->info.kind, Kind::jwt_signing_key);
  // A person may not overwrite it with a value of their own.
  EXPECT_ERRC(m_manager->put(kJwtSigningKey, "kid-evil", std::nullopt, m_alice), Errc::invalid_argument);
  m_clock.advance(30 * kDay);
  report = m_manager->rotate_due(job);
  ASSERT_OK(report);
  ASSERT_EQ(report->rotated.size(), 1u);
  auto v2 = m_store->read(kJwtSigningKey);
  ASSERT_OK(v2);
  EXPECT_EQ(v2->value, "kid-2");
  EXPECT_EQ(v2->info.version, 2);
}

TEST_F(SecretsTest, AManagedSecretWithoutAValue_IsTakenOverByItsFirstRotation) {
  std::vector<std::string> activated;
  auto pg = random_value_rotator();
  pg.activate = [&](const std::string& v) -> core::Result<void> {
    // Recorded before it is put in force: a new connection finds it.
    auto stored = m_store->read(kPostgresPassword);
    EXPECT_TRUE(stored && stored->value == v);
    activated.push_back(v);
    return core::ok();
  };
  m_manager->set_rotator(Kind::postgres_password, pg);
  m_manager->manage(std::string(kPostgresPassword), Kind::postgres_password);
  auto report = m_manager->rotate_due({"job:secret-rotation", "local", ""});
  ASSERT_OK(report);
  ASSERT_EQ(report->rotated.size(), 1u);
  ASSERT_EQ(activated.size(), 1u);
  auto s = m_store->read(kPostgresPassword);
  ASSERT_OK(s);
  EXPECT_EQ(s->value, activated[0]);
  EXPECT_EQ(s->info.rotation_days, 30);
  // By hand, at once.
  auto r = m_manager->rotate(kPostgresPassword, m_alice);
  ASSERT_OK(r);
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(activated.size(), 2u);
}

TEST_F(SecretsTest, AnActivationThatFails_LeavesThePreviousValueInForce) {
  int calls = 0;
  auto pg = random_value_rotator();
  pg.activate = [&](const std::string&) -> core::Result<void> {
    if (++calls == 1) return core::ok();
    return core::Error(Errc::store_unavailable, "server gone");
  };
  m_manager->set_rotator(Kind::postgres_password, pg);
  m_manager->manage(std::string(kPostgresPassword), Kind::postgres_password);
  ASSERT_OK(m_manager->rotate(kPostgresPassword, m_alice));
  auto before = m_store->read(kPostgresPassword);
  ASSERT_OK(before);
  EXPECT_ERRC(m_manager->rotate(kPostgresPassword, m_alice), Errc::store_unavailable);
  auto after = m_store->read(kPostgresPassword);
  ASSERT_OK(after);
  EXPECT_EQ(after->value, before->value);
  EXPECT_EQ(after->info.version, 3);
  EXPECT_EQ(after->info.reason, "revert");
  auto rotations = events("secret.rotate");
  ASSERT_EQ(rotations.size(), 2u);
  EXPECT_EQ(rotations[1].result, "store.unavailable");
  // The schedule tries again in an hour, not a whole period later.
  EXPECT_EQ(*after->info.rotation_due(), core::to_unix(m_clock.now()) + 3600);
  m_clock.advance(59min);
  auto report = m_manager->rotate_due({"job:secret-rotation", "local", ""});
  ASSERT_OK(report);
  EXPECT_TRUE(report->rotated.empty());
  m_clock.advance(2min);
  report = m_manager->rotate_due({"job:secret-rotation", "local", ""});
  ASSERT_OK(report);
  EXPECT_EQ(report->failures.size(), 1u);  // this fake server is still down
}

TEST_F(SecretsTest, TheInstallationsOwnNames_AreReservedWhateverIsManaged) {
  for (auto name : {kPostgresPassword, kJwtSigningKey}) {
    SCOPED_TRACE(name);
    EXPECT_ERRC(m_manager->put(name, "mine", std::nullopt, m_alice), Errc::invalid_argument);
    EXPECT_ERRC(m_manager->rotate(name, m_alice, "rotate", Kind::generic), Errc::invalid_argument);
  }
  EXPECT_EQ(service_certificate_period(0), 30);
  EXPECT_EQ(service_certificate_period(3660), 390);
  EXPECT_EQ(service_certificate_period(7), 7);
}

TEST_F(SecretsTest, ADamagedSecret_DoesNotHideTheOthers_NorStopTheSchedule) {
  ASSERT_OK(m_manager->put("good", "v", 1, m_alice));
  ASSERT_OK(m_objects->put("secrets/bad/000000000001", "garbage"));
  auto all = m_manager->list();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].name, "good");
  m_clock.advance(2 * kDay);
  auto report = m_manager->rotate_due({"job:secret-rotation", "local", ""});
  ASSERT_OK(report);
  EXPECT_EQ(report->rotated.size(), 1u);
}

TEST_F(SecretsTest, ANewSecretIsCreatedByRotation_OnlyForKindsThisInstallationMakes) {
  auto made = m_manager->rotate("hook-key", m_alice, "rotate", Kind::generic);
  ASSERT_OK(made);
  EXPECT_EQ(made->version, 1);
  EXPECT_EQ(made->kind, Kind::generic);
  EXPECT_EQ(made->rotation_days, 30);
  auto again = m_manager->rotate("hook-key", m_alice, "rotate", Kind::generic);
  ASSERT_OK(again);
  EXPECT_EQ(again->version, 2);
  EXPECT_ERRC(m_manager->rotate("hook-key", m_alice, "rotate", Kind::service_certificate), Errc::invalid_argument);
  EXPECT_ERRC(m_manager->rotate("db", m_alice, "rotate", Kind::postgres_password), Errc::invalid_argument);
  EXPECT_ERRC(m_manager->rotate("jwt", m_alice, "rotate", Kind::jwt_signing_key), Errc::invalid_argument);
  // No rotator for the kind here: refused, nothing written.
  EXPECT_ERRC(m_manager->rotate("svc", m_alice, "rotate", Kind::service_certificate), Errc::not_supported);
  EXPECT_ERRC(m_store->latest("svc"), Errc::not_found);
}

TEST_F(SecretsTest, AKindWithoutRotator_IsRefused) {
  ASSERT_OK(m_store->write({"ext-db", Kind::postgres_password, 1, 1, "a", "put", 30}, "pw"));
  EXPECT_ERRC(m_manager->rotate("ext-db", m_alice), Errc::not_supported);
  EXPECT_ERRC(m_manager->rotate("absent", m_alice), Errc::not_found);
}

// An audit trail that refuses writes.
class BrokenAudit final : public store::AuditLog {
 public:
  core::Result<std::int64_t> append_audit_event(const store::AuditEvent&) override {
    return core::Error(Errc::store_unavailable, "down");
  }
  core::Result<std::vector<std::int64_t>> append_audit_events(const std::vector<store::AuditEvent>&) override {
    return core::Error(Errc::store_unavailable, "down");
  }
  core::Result<std::vector<store::AuditEvent>> list_audit_events(const store::AuditFilter&) override {
    return core::Error(Errc::store_unavailable, "down");
  }
};

TEST_F(SecretsTest, AReadThatCannotBeAudited_HandsOutNothing) {
  ASSERT_OK(m_manager->put("k", "v", 0, m_alice));
  BrokenAudit broken;
  SecretManager blind(*m_store, broken, m_clock, 30);
  EXPECT_ERRC(blind.reveal("k", std::nullopt, m_alice), Errc::store_unavailable);
}

TEST_F(SecretsTest, TheLifecycleRulesLeaveSecretsAlone) {
  ASSERT_OK(m_manager->put("k", "kept", 0, m_alice));
  ASSERT_OK(m_objects->put("docs/old.pdf", "%PDF"));
  auto rules = objectstore::parse_lifecycle_rules(core::Config{}.objects.lifecycle_rules);
  ASSERT_OK(rules);
  m_clock.advance(8 * 366 * kDay);
  objectstore::Lifecycle lifecycle(*m_objects, nullptr, *rules, m_clock);
  auto report = lifecycle.run(false);
  ASSERT_OK(report);
  EXPECT_ERRC(m_objects->get("docs/old.pdf"), Errc::not_found);
  auto s = m_store->read("k");
  ASSERT_OK(s);
  EXPECT_EQ(s->value, "kept");
}

}  // namespace
}  // namespace cartorio::secrets
