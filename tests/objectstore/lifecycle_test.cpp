// The lifecycle job (objectstore/lifecycle.h) and the tiered store reading through to the
// cold tier, on every backend (the filesystem and the fixture's S3 server): time moves on
// an injected clock, from the backend's own "now", so objects the server dated a second ago
// look 91 days or 8 years old to the rules.
#include "objectstore/lifecycle.h"
#include "objectstore/tiered_object_store.h"

#include "object_store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using cartorio::core::Errc;
using cartorio::core::ManualClock;
using namespace cartorio::objectstore;
using Kind = LifecycleAction::Kind;

constexpr Days kCold{90};
constexpr Days kExpire{7 * 365};

template <class Backend>
class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(m_hot_backend.prepare());
    ASSERT_OK(m_cold_backend.prepare());
    auto hot = m_hot_backend.open();
    auto cold = m_cold_backend.open();
    ASSERT_OK(hot);
    ASSERT_OK(cold);
    m_hot = std::move(*hot);
    m_cold = std::move(*cold);
    m_clock.set(m_hot_backend.now());
  }

  Lifecycle lifecycle(std::vector<LifecycleRule> rules, bool with_cold = true) {
    return Lifecycle(*m_hot, with_cold ? m_cold.get() : nullptr, std::move(rules), m_clock);
  }

  std::vector<std::string> versions_of(ObjectStore& store, const std::string& key) {
    auto page = store.list_versions(key);
    EXPECT_TRUE(page) << page.error().to_string();
    std::vector<std::string> out;
    if (page)
      for (const auto& v : page->entries) out.push_back(v.version_id + (v.delete_marker ? "(marker)" : ""));
    return out;
  }

  std::vector<std::string> versioned_keys(ObjectStore& store) {
    auto page = store.list_versioned_keys();
    EXPECT_TRUE(page) << page.error().to_string();
    std::vector<std::string> out;
    if (page)
      for (const auto& e : page->entries) out.push_back(e.key);
    return out;
  }

  Backend m_hot_backend;
  Backend m_cold_backend;
  std::unique_ptr<ObjectStore> m_hot;
  std::unique_ptr<ObjectStore> m_cold;
  ManualClock m_clock{cartorio::core::TimePoint{}};
};

}  // namespace

class Filesystem : public cartorio::objectstore_test::FilesystemBackend {};
class S3 : public cartorio::objectstore_test::S3Backend {};

namespace {

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, S3> ? "S3" : "Filesystem";
  }
};
using Backends = ::testing::Types<Filesystem, S3>;
TYPED_TEST_SUITE(LifecycleTest, Backends, BackendNames);

TYPED_TEST(LifecycleTest, DryRun_ReportsTheMove_AndChangesNothing) {
  ASSERT_OK(this->m_hot->put("docs/a.pdf", "A"));
  this->m_clock.advance(kCold + Days(1));
  auto report = this->lifecycle({{"docs/", kCold, kExpire, {}}}).run(true);
  ASSERT_OK(report);
  EXPECT_TRUE(report->dry_run);
  EXPECT_EQ(report->count(Kind::move_to_cold), 1u);
  EXPECT_TRUE(report->failures.empty());
  ASSERT_OK(this->m_hot->get("docs/a.pdf"));
  EXPECT_ERRC(this->m_cold->get("docs/a.pdf"), Errc::not_found);
}

TYPED_TEST(LifecycleTest, OldObjects_MoveToTheColdTier_AndStillRead) {
  PutOptions p;
  p.content_type = "application/pdf";
  p.metadata = {{"document-id", "d1"}};
  auto old = this->m_hot->put("docs/old.pdf", "OLD", p);
  ASSERT_OK(old);
  ASSERT_OK(this->m_hot->put("other/old.bin", "no rule"));
  const std::vector<LifecycleRule> rules{{"docs/", kCold, kExpire, {}}};
  this->m_clock.advance(kCold - Days(1));
  auto young = this->lifecycle(rules).run(false);
  ASSERT_OK(young);
  EXPECT_TRUE(young->actions.empty()) << "89 days old: still hot";
  this->m_clock.advance(Days(2));
  auto report = this->lifecycle(rules).run(false);
  ASSERT_OK(report);
  ASSERT_EQ(report->count(Kind::move_to_cold), 1u) << report->actions.size();
  EXPECT_EQ(report->actions[0].key, "docs/old.pdf");
  // Hot: gone (a delete marker over the old version); cold: there, with its original time.
  EXPECT_ERRC(this->m_hot->get("docs/old.pdf"), Errc::not_found);
  auto cold = this->m_cold->get("docs/old.pdf");
  ASSERT_OK(cold);
  EXPECT_EQ(cold->data, "OLD");
  EXPECT_EQ(cold->info.metadata.at(std::string(kOriginalTimeMetadata)),
            std::to_string(cartorio::core::to_unix(old->last_modified)));
  ASSERT_OK(this->m_hot->get("other/old.bin"));

  // Read through the tiers: the moved object as it was put.
  TieredObjectStore tiered(std::move(this->m_hot), std::move(this->m_cold));
  auto got = tiered.get("docs/old.pdf");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, "OLD");
  EXPECT_EQ(got->info.content_type, "application/pdf");
  EXPECT_EQ(got->info.metadata, p.metadata);
  EXPECT_EQ(got->info.etag, etag_of("OLD"));
  ASSERT_OK(tiered.put("docs/new.pdf", "NEW"));
  auto listed = tiered.list("docs/");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->entries.size(), 2u);
  EXPECT_EQ(listed->entries[0].key, "docs/new.pdf");
  EXPECT_EQ(listed->entries[1].key, "docs/old.pdf");
  auto again = tiered.put_if_absent("docs/old.pdf", "NEW");
  ASSERT_OK(again);
  EXPECT_FALSE(*again) << "a key in the cold tier is not absent";
}

TYPED_TEST(LifecycleTest, RetentionEnd_DeletesEveryVersion_InBothTiers) {
  ASSERT_OK(this->m_hot->put("docs/a.pdf", "v1"));
  ASSERT_OK(this->m_hot->put("docs/a.pdf", "v2"));
  ASSERT_OK(this->m_hot->put("docs/b.pdf", "b"));
  ASSERT_OK(this->m_hot->erase("docs/b.pdf"));
  const std::vector<LifecycleRule> rules{{"docs/", kCold, kExpire, {}}};
  this->m_clock.advance(kCold + Days(1));
  ASSERT_OK(this->lifecycle(rules).run(false));
  ASSERT_OK(this->m_cold->get("docs/a.pdf"));

  // One day short of seven years from the first write: nothing is deleted yet.
  this->m_clock.advance(kExpire - kCold - Days(2));
  auto early = this->lifecycle(rules).run(false);
  ASSERT_OK(early);
  EXPECT_EQ(early->count(Kind::expire_cold), 0u);
  ASSERT_OK(this->m_cold->get("docs/a.pdf"));

  this->m_clock.advance(Days(2));
  auto report = this->lifecycle(rules).run(false);
  ASSERT_OK(report);
  EXPECT_TRUE(report->failures.empty()) << report->failures.front();
  EXPECT_EQ(report->count(Kind::expire_cold), 1u);
  EXPECT_GE(report->count(Kind::expire), 4u);  // a: v1, v2, marker; b: b, marker
  EXPECT_TRUE(this->versioned_keys(*this->m_hot).empty());
  EXPECT_TRUE(this->versioned_keys(*this->m_cold).empty());
}

TYPED_TEST(LifecycleTest, NoncurrentVersions_ExpireAfterTheyWereReplaced) {
  ASSERT_OK(this->m_hot->put("audit-logs/checkpoint.json", "head 1"));
  ASSERT_OK(this->m_hot->put("audit-logs/checkpoint.json", "head 2"));
  ASSERT_OK(this->m_hot->put("audit-logs/checkpoint.json", "head 3"));
  // The backend dated all three puts now: 29 days on, heads 1 and 2 were replaced 29 days
  // ago and stay; 31 days on, they go.
  this->m_clock.advance(Days(29));
  auto early = this->lifecycle({{"audit-logs/", {}, {}, Days(30)}}).run(false);
  ASSERT_OK(early);
  EXPECT_TRUE(early->actions.empty());
  this->m_clock.advance(Days(2));
  auto report = this->lifecycle({{"audit-logs/", {}, {}, Days(30)}}).run(false);
  ASSERT_OK(report);
  EXPECT_EQ(report->count(Kind::expire_noncurrent), 2u);
  EXPECT_EQ(this->versions_of(*this->m_hot, "audit-logs/checkpoint.json").size(), 1u);
  auto current = this->m_hot->get("audit-logs/checkpoint.json");
  ASSERT_OK(current);
  EXPECT_EQ(current->data, "head 3");
}

TYPED_TEST(LifecycleTest, WithoutAColdTier_ColdRulesAreSkipped_AndSaidSo) {
  ASSERT_OK(this->m_hot->put("docs/a.pdf", "A"));
  this->m_clock.advance(kCold + Days(1));
  auto report = this->lifecycle({{"", kCold, kExpire, {}}}, false).run(false);
  ASSERT_OK(report);
  EXPECT_EQ(report->count(Kind::move_to_cold), 0u);
  ASSERT_EQ(report->failures.size(), 1u);
  ASSERT_OK(this->m_hot->get("docs/a.pdf"));
}

TEST(LifecycleRules, Parse_AndFormat) {
  auto rules = parse_lifecycle_rules(" =cold:90,expire:2555 ; audit-logs/=noncurrent:30;");
  ASSERT_OK(rules);
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0], (LifecycleRule{"", Days(90), Days(2555), {}}));
  EXPECT_EQ((*rules)[1], (LifecycleRule{"audit-logs/", {}, {}, Days(30)}));
  EXPECT_EQ(format_lifecycle_rules(*rules), "=cold:90,expire:2555; audit-logs/=noncurrent:30");
  auto keep = parse_lifecycle_rules("=expire:30; secrets/=");
  ASSERT_OK(keep);
  ASSERT_EQ(keep->size(), 2u);
  EXPECT_EQ((*keep)[1], (LifecycleRule{"secrets/", {}, {}, {}}));
  EXPECT_EQ(format_lifecycle_rules(*keep), "=expire:30; secrets/=");
  auto empty = parse_lifecycle_rules("");
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(LifecycleRules, Parse_RefusesWhatItCannotMean) {
  for (const char* bad : {"docs/", "docs/=cold", "docs/=cold:x", "docs/=cold:0", "docs/=freeze:3",
                          "docs/=cold:9,cold:10", "docs/=cold:90,expire:30", "a b/=cold:1", "a=cold:1;a=expire:2"}) {
    SCOPED_TRACE(bad);
    EXPECT_ERRC(parse_lifecycle_rules(bad), Errc::config_invalid);
  }
}

}  // namespace
