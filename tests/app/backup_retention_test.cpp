// Retention of the backups in the object store (app/backup.h): backups made longer ago
// than the retention period are deleted for good (every version of every part, in both
// tiers), younger ones and unrelated keys stay; the listing groups a backup's parts.
#include "app/backup.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace {

using cartorio::core::ManualClock;
using cartorio::testing::TempDir;
namespace app = cartorio::app;
namespace core = cartorio::core;
namespace objectstore = cartorio::objectstore;

std::unique_ptr<objectstore::FilesystemObjectStore> open_store(const std::filesystem::path& root, const core::Clock& clock) {
  auto s = objectstore::FilesystemObjectStore::open({root, objectstore::kDefaultMaxObjectBytes}, clock);
  EXPECT_TRUE(s) << s.error().to_string();
  return std::move(*s);
}

#define EXPECT_OK_GET(store, key)                                     \
  do {                                                                \
    auto got_ = (store).get(key);                                     \
    EXPECT_TRUE(got_) << (key) << ": " << got_.error().to_string();   \
  } while (0)

std::size_t versions(objectstore::ObjectStore& s, const std::string& key) {
  auto page = s.list_versions(key);
  EXPECT_TRUE(page);
  return page ? page->entries.size() : 0;
}

TEST(BackupRetention, DeletesEveryVersionOfOldBackupsOnly) {
  TempDir dir;
  // 2026-03-01T00:00:00Z
  ManualClock clock(core::from_unix(1772323200));
  auto hot = open_store(dir / "hot", clock);
  auto cold = open_store(dir / "cold", clock);
  const std::string old_key = "backups/20260101T000000Z.cbk";
  ASSERT_OK(hot->put(old_key, "old backup, part 1"));
  ASSERT_OK(hot->put(old_key, "old backup, rewritten"));  // a noncurrent version too
  ASSERT_OK(hot->put(old_key + ".2", "old backup, part 2"));
  ASSERT_OK(cold->put("backups/20251201T120000Z.cbk", "older, moved to the cold tier"));
  ASSERT_OK(hot->put("backups/20251216T000000Z.cbk", "x"));
  ASSERT_OK(hot->erase("backups/20251216T000000Z.cbk"));  // a delete marker over a version
  const std::string young = "backups/20260215T083000Z.cbk";
  ASSERT_OK(hot->put(young, "young, part 1"));
  ASSERT_OK(hot->put(young + ".2", "young, part 2"));
  ASSERT_OK(hot->put(young + ".10", "young, part 10"));
  ASSERT_OK(hot->put("backups/notes.txt", "not a backup"));
  ASSERT_OK(hot->put("documents/20250101T000000Z.cbk", "elsewhere"));

  auto listed = app::list_backups(*hot, cold.get());
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].name, "20251201T120000Z.cbk");
  EXPECT_EQ((*listed)[1].name, "20260101T000000Z.cbk");
  EXPECT_EQ((*listed)[2].name, "20260215T083000Z.cbk");
  EXPECT_EQ((*listed)[2].keys, (std::vector<std::string>{young, young + ".2", young + ".10"}));

  auto pruned = app::prune_backups(*hot, cold.get(), clock, std::chrono::days(30));
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, (std::vector<std::string>{"20251201T120000Z.cbk", "20251216T000000Z.cbk",
                                               "20260101T000000Z.cbk"}));
  EXPECT_EQ(versions(*hot, old_key), 0u);
  EXPECT_EQ(versions(*hot, old_key + ".2"), 0u);
  EXPECT_EQ(versions(*hot, "backups/20251216T000000Z.cbk"), 0u);
  EXPECT_EQ(versions(*cold, "backups/20251201T120000Z.cbk"), 0u);
  EXPECT_OK_GET(*hot, young);
  EXPECT_OK_GET(*hot, young + ".10");
  EXPECT_OK_GET(*hot, "backups/notes.txt");
  EXPECT_OK_GET(*hot, "documents/20250101T000000Z.cbk");

  // 30 days after the young one was made, it goes too.
  clock.advance(std::chrono::days(16) + std::chrono::hours(9));
  pruned = app::prune_backups(*hot, cold.get(), clock, std::chrono::days(30));
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, std::vector<std::string>{"20260215T083000Z.cbk"});
  auto after = app::list_backups(*hot, cold.get());
  ASSERT_OK(after);
  EXPECT_TRUE(after->empty());
}

}  // namespace
