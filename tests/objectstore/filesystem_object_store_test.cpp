// FilesystemObjectStore beyond the conformance suite: the layout on disk, permissions,
// symbolic links and other files planted in the root, what a crash leaves behind, damage
// detection, and the readiness check.
#include "core/files.h"
#include "objectstore/fs/filesystem_object_store.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <regex>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using cartorio::core::Errc;
using cartorio::core::ManualClock;
using cartorio::core::TimePoint;
using cartorio::objectstore::FilesystemObjectStore;
using cartorio::objectstore::FilesystemObjectStoreOptions;
using cartorio::testing::read_file;
using cartorio::testing::write_file;

class FilesystemObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(m_outside);
    write_file(m_outside / "secret", "outside the root");
    auto opened = FilesystemObjectStore::open({m_root, 1 << 20}, m_clock);
    ASSERT_TRUE(opened) << opened.error().to_string();
    m_store = std::move(opened).value();
  }

  FilesystemObjectStore& store() { return *m_store; }

  std::vector<std::string> keys() {
    auto page = store().list();
    EXPECT_TRUE(page) << page.error().to_string();
    std::vector<std::string> out;
    if (page)
      for (const auto& e : page->entries) out.push_back(e.key);
    return out;
  }

  std::vector<std::string> version_ids(std::string_view key) {
    auto page = store().list_versions(key);
    EXPECT_TRUE(page) << page.error().to_string();
    std::vector<std::string> out;
    if (page)
      for (const auto& e : page->entries) out.push_back(e.version_id);
    return out;
  }

  void erase_every_version(std::string_view key) {
    for (const auto& id : version_ids(key)) {
      auto removed = store().erase_version(key, id);
      ASSERT_TRUE(removed) << removed.error().to_string();
      EXPECT_TRUE(*removed) << id;
    }
  }

  // The names in a directory, sorted.
  static std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }

  // Sets a file's mtime `age` into the past (what an old crash leaves).
  static void age(const fs::path& p, std::chrono::seconds by) {
    const timespec when{std::time(nullptr) - static_cast<std::time_t>(by.count()), 0};
    const timespec times[2] = {when, when};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
  }

  cartorio::testing::TempDir m_dir;
  fs::path m_root = m_dir / "objects";
  fs::path m_outside = m_dir / "outside";
  ManualClock m_clock{TimePoint(std::chrono::seconds(1'700'000'123))};
  std::unique_ptr<FilesystemObjectStore> m_store;
};

// --- layout -----------------------------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, Layout_OneFilePerObject_HeaderThenData) {
  ASSERT_TRUE(store().put("docs/2024/a.pdf", std::string("%PDF\0", 5)));
  const auto file = m_root / "docs" / "2024" / "a.pdf#obj";
  ASSERT_TRUE(fs::is_regular_file(file));
  const std::string on_disk = read_file(file);
  EXPECT_TRUE(on_disk.starts_with("cartorio-object 1\n{")) << on_disk;
  EXPECT_TRUE(on_disk.ends_with(std::string("\n%PDF\0", 6)));
  const std::string etag = cartorio::objectstore::etag_of(std::string("%PDF\0", 5));
  cartorio::testing::expect_contains(on_disk, "\"sha256\":\"" + etag + "\"");
  cartorio::testing::expect_contains(on_disk, "\"key\":\"docs/2024/a.pdf\"");
}

TEST_F(FilesystemObjectStoreTest, Permissions_DirectoriesAre0700_FilesAre0600_WhateverTheUmask) {
  const mode_t old = ::umask(0);  // the widest umask: nothing is narrowed for us
  auto put = store().put("a/b/c", "v");
  ::umask(old);
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_EQ(mode_of(m_root / "a"), 0700u);
  EXPECT_EQ(mode_of(m_root / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(m_root / "a" / "b" / "c#obj"), 0600u);
  EXPECT_EQ(mode_of(m_root), 0700u) << "a root the store creates is private too";
}

TEST_F(FilesystemObjectStoreTest, LastModified_ComesFromTheInjectedClock) {
  auto put = store().put("k", "v");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->last_modified, TimePoint(std::chrono::seconds(1'700'000'123)));
  m_clock.advance(1500ms);
  ASSERT_TRUE(store().put("k", "v2"));
  EXPECT_EQ(store().head("k")->last_modified, TimePoint(std::chrono::seconds(1'700'000'124)));
}

// --- keys cannot leave the root ---------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, TraversalKeys_AreRejected_AndNothingAppearsOutsideTheRoot) {
  for (const char* key : {"../x", "a/../../b", "/tmp/x", "..", "a/../..", "../outside/secret"}) {
    SCOPED_TRACE(key);
    EXPECT_ERRC(store().put(key, "escaped"), Errc::invalid_argument);
    EXPECT_ERRC(store().put_if_absent(key, "escaped"), Errc::invalid_argument);
    EXPECT_ERRC(store().get(key), Errc::invalid_argument);
    EXPECT_ERRC(store().erase(key), Errc::invalid_argument);
  }
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(m_dir.path())) beside.push_back(e.path().filename().string());
  std::sort(beside.begin(), beside.end());
  EXPECT_EQ(beside, (std::vector<std::string>{"objects", "outside"}));
  EXPECT_EQ(read_file(m_outside / "secret"), "outside the root");
}

TEST_F(FilesystemObjectStoreTest, SymlinkedDirectoryInsideTheRoot_IsNeverFollowed) {
  // An object file that would pass every check, placed outside, reachable through a link.
  ASSERT_TRUE(store().put("evil/secret", "outside object"));
  fs::rename(m_root / "evil" / "secret#obj", m_outside / "secret#obj");
  fs::remove(m_root / "evil");
  fs::create_directory_symlink(m_outside, m_root / "evil");

  EXPECT_ERRC(store().get("evil/secret"), Errc::store_error);
  EXPECT_ERRC(store().head("evil/secret"), Errc::store_error);
  EXPECT_ERRC(store().put("evil/new", "x"), Errc::store_error);
  EXPECT_ERRC(store().put_if_absent("evil/new", "x"), Errc::store_error);
  EXPECT_ERRC(store().erase("evil/secret"), Errc::store_error);
  EXPECT_ERRC(store().put("evil/deeper/new", "x"), Errc::store_error);
  EXPECT_TRUE(keys().empty()) << "list does not descend into the link";

  EXPECT_TRUE(fs::exists(m_outside / "secret#obj")) << "erase did not reach through the link";
  EXPECT_FALSE(fs::exists(m_outside / "new#obj"));
  EXPECT_FALSE(fs::exists(m_outside / "deeper"));
  EXPECT_EQ(read_file(m_outside / "secret"), "outside the root");
  EXPECT_TRUE(fs::is_symlink(m_root / "evil"));
}

TEST_F(FilesystemObjectStoreTest, SymlinkedObjectFile_IsNeverFollowed_AndReplacingItKeepsTheTarget) {
  ASSERT_TRUE(store().put("link", "real object"));
  fs::rename(m_root / "link#obj", m_outside / "link#obj");
  fs::create_symlink(m_outside / "link#obj", m_root / "link#obj");

  EXPECT_ERRC(store().get("link"), Errc::store_error);
  EXPECT_ERRC(store().head("link"), Errc::store_error);
  EXPECT_TRUE(keys().empty());
  auto put_if_absent = store().put_if_absent("link", "x");
  ASSERT_TRUE(put_if_absent);
  EXPECT_FALSE(*put_if_absent) << "the name is taken; nothing is written through it";

  // put renames over the link itself: the file it pointed to stays as it was.
  const std::string outside_before = read_file(m_outside / "link#obj");
  ASSERT_TRUE(store().put("link", "new"));
  EXPECT_FALSE(fs::is_symlink(m_root / "link#obj"));
  EXPECT_EQ(read_file(m_outside / "link#obj"), outside_before);
  EXPECT_EQ(store().get("link")->data, "new");
}

TEST_F(FilesystemObjectStoreTest, PlantedFifo_IsReportedWithoutHanging) {
  ASSERT_EQ(::mkfifo((m_root / "pipe#obj").c_str(), 0600), 0);
  EXPECT_ERRC(store().get("pipe"), Errc::store_error);
  EXPECT_ERRC(store().head("pipe"), Errc::store_error);
  EXPECT_TRUE(keys().empty());
}

TEST_F(FilesystemObjectStoreTest, ForeignFilesInTheRoot_AreNotObjects) {
  ASSERT_TRUE(store().put("real", "v"));
  write_file(m_root / "README", "not an object");
  write_file(m_root / "bad name#obj", "not a key");
  write_file(m_root / "x#objx", "wrong suffix");
  fs::create_directory(m_root / "dir with space");
  write_file(m_root / "dir with space" / "k#obj", "unreachable by any key");
  EXPECT_EQ(keys(), std::vector<std::string>{"real"});
}

// --- crash safety -----------------------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, StagedFilesOfACrashedWriter_AreInvisible_AndSweptWhenOld) {
  ASSERT_TRUE(store().put("a/kept", "v"));
  // What a writer that died before its rename leaves: a half-written temporary file.
  write_file(m_root / "#tmp.0123456789abcdef", "cartorio-object 1\n{\"key\":\"ha");
  write_file(m_root / "a" / "#tmp.fedcba9876543210", "partial");
  write_file(m_root / "a" / "#tmp.fresh00000000000", "a put still in flight");
  age(m_root / "#tmp.0123456789abcdef", 2h);
  age(m_root / "a" / "#tmp.fedcba9876543210", 2h);

  EXPECT_EQ(keys(), std::vector<std::string>{"a/kept"});
  EXPECT_ERRC(store().get("#tmp.0123456789abcdef"), Errc::invalid_argument);  // no key names a staged file

  auto swept = store().remove_stale_temp_files(1h);
  ASSERT_TRUE(swept) << swept.error().to_string();
  EXPECT_EQ(*swept, 2u);
  EXPECT_FALSE(fs::exists(m_root / "#tmp.0123456789abcdef"));
  EXPECT_FALSE(fs::exists(m_root / "a" / "#tmp.fedcba9876543210"));
  EXPECT_TRUE(fs::exists(m_root / "a" / "#tmp.fresh00000000000")) << "younger than min_age: maybe in flight";
  EXPECT_EQ(store().get("a/kept")->data, "v");
}

TEST_F(FilesystemObjectStoreTest, StaleLinkOfACrashedPutIfAbsent_IsSwept_ObjectStays) {
  // put_if_absent links the staged file to its name, then unlinks the staged name; a crash
  // in between leaves a second name for the same file.
  ASSERT_TRUE(*store().put_if_absent("once", "document"));
  fs::create_hard_link(m_root / "once#obj", m_root / "#tmp.0000000000000000");
  age(m_root / "#tmp.0000000000000000", 2h);
  EXPECT_EQ(keys(), std::vector<std::string>{"once"});
  ASSERT_EQ(*store().remove_stale_temp_files(1h), 1u);
  EXPECT_EQ(store().get("once")->data, "document");
}

TEST_F(FilesystemObjectStoreTest, NoStagedOrLockFileRemains_AfterWritesAndRefusedWrites) {
  ASSERT_TRUE(store().put("d/a", "1"));
  auto second = store().put("d/a", "2");
  ASSERT_TRUE(second);
  ASSERT_TRUE(*store().put_if_absent("d/b", "1"));
  ASSERT_FALSE(*store().put_if_absent("d/b", "2"));
  ASSERT_TRUE(*store().erase("d/b"));
  ASSERT_FALSE(*store().erase("d/b"));
  ASSERT_TRUE(*store().erase_version("d/a", second->version_id));
  ASSERT_TRUE(store().check());
  for (const auto& e : fs::recursive_directory_iterator(m_root)) {
    EXPECT_FALSE(e.path().filename().string().starts_with("#tmp.")) << e.path();
    EXPECT_FALSE(e.path().filename().string().ends_with("#lock")) << e.path();
  }
}

// --- versions on disk -------------------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, Versions_NoncurrentOnesLiveInTheKeysVersionsDirectory) {
  auto put1 = store().put("docs/a", "one");
  ASSERT_TRUE(put1);
  auto put2 = store().put("docs/a", "two");
  ASSERT_TRUE(put2);
  const auto dir = m_root / "docs";
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"a#obj", "a#v"})) << "no lock file stays behind";
  EXPECT_EQ(names_in(dir / "a#v"), std::vector<std::string>{put1->version_id});
  EXPECT_EQ(mode_of(dir / "a#v"), 0700u);
  EXPECT_EQ(mode_of(dir / "a#v" / put1->version_id), 0600u);
  cartorio::testing::expect_contains(read_file(dir / "a#obj"), "\"version_id\":\"" + put2->version_id + "\"");
  cartorio::testing::expect_contains(read_file(dir / "a#v" / put1->version_id),
                                     "\"version_id\":\"" + put1->version_id + "\"");

  ASSERT_TRUE(*store().erase("docs/a"));
  // The delete marker is the current state: "#obj" holds it, header only.
  const std::string marker = read_file(dir / "a#obj");
  cartorio::testing::expect_contains(marker, "\"delete_marker\":true");
  EXPECT_TRUE(marker.starts_with("cartorio-object 1\n{") && marker.ends_with("}\n")) << marker;
  EXPECT_EQ(names_in(dir / "a#v"), (std::vector<std::string>{put1->version_id, put2->version_id}));
  EXPECT_TRUE(keys().empty());
  auto versioned = store().list_versioned_keys();
  ASSERT_TRUE(versioned);
  ASSERT_EQ(versioned->entries.size(), 1u);
  EXPECT_EQ(versioned->entries[0].key, "docs/a");
}

TEST_F(FilesystemObjectStoreTest, VersionIds_AreFixedWidth_AndIncrease_WhileTheClockStandsStill) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto put = store().put("k", std::to_string(i));
    ASSERT_TRUE(put) << put.error().to_string();
    ids.push_back(put->version_id);
  }
  const std::regex format("[0-9]{20}\\.[0-9a-f]{8}");
  for (const auto& id : ids) EXPECT_TRUE(std::regex_match(id, format)) << id;
  EXPECT_EQ(ids[0].substr(0, 20), "00001700000123000000") << "microseconds since the epoch, by the injected clock";
  for (std::size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LT(ids[i - 1], ids[i]) << "byte order is age order";
    EXPECT_EQ(std::stoull(ids[i].substr(0, 20)), std::stoull(ids[i - 1].substr(0, 20)) + 1);
  }
  m_clock.advance(2s);
  auto later = store().put("k", "later");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->version_id.substr(0, 20), "00001700000125000000");
  m_clock.set(TimePoint(std::chrono::seconds(1'600'000'000)));  // the clock went back
  auto earlier = store().put("k", "clock went back");
  ASSERT_TRUE(earlier);
  EXPECT_LT(later->version_id, earlier->version_id) << "still after the newest version";
}

TEST_F(FilesystemObjectStoreTest, VersionIds_AreNotHandedOutAgain_AfterTheNewestIsErased) {
  auto put1 = store().put("k", "1");
  ASSERT_TRUE(put1);
  auto put2 = store().put("k", "2");
  ASSERT_TRUE(put2);
  ASSERT_TRUE(*store().erase_version("k", put2->version_id));
  auto put3 = store().put("k", "3");  // the clock has not moved: same time part as put2's id
  ASSERT_TRUE(put3);
  EXPECT_EQ(put3->version_id.substr(0, 20), put2->version_id.substr(0, 20));
  EXPECT_NE(put3->version_id, put2->version_id) << "the random part tells them apart";
  EXPECT_LT(put1->version_id, put3->version_id);
  EXPECT_ERRC(store().get_version("k", put2->version_id), Errc::not_found);
}

TEST_F(FilesystemObjectStoreTest, FileWrittenBeforeVersions_IsVersionNull_TheOldest) {
  const std::string data = "legacy bytes";
  write_file(m_root / "old#obj", "cartorio-object 1\n{\"key\":\"old\",\"size\":12,\"sha256\":\"" +
                                     cartorio::objectstore::etag_of(data) +
                                     "\",\"content_type\":\"text/plain\",\"last_modified\":1600000000,"
                                     "\"metadata\":{}}\n" +
                                     data);
  auto head = store().head("old");
  ASSERT_TRUE(head) << head.error().to_string();
  EXPECT_EQ(head->version_id, "null");
  EXPECT_EQ(store().get("old")->data, data);
  EXPECT_EQ(version_ids("old"), std::vector<std::string>{"null"});

  auto put = store().put("old", "new bytes");
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_EQ(version_ids("old"), (std::vector<std::string>{put->version_id, "null"}));
  EXPECT_TRUE(fs::is_regular_file(m_root / "old#v" / "null"));
  auto legacy = store().get_version("old", "null");
  ASSERT_TRUE(legacy) << legacy.error().to_string();
  EXPECT_EQ(legacy->data, data);
  EXPECT_EQ(legacy->info.version_id, "null");
  EXPECT_EQ(legacy->info.content_type, "text/plain");
  ASSERT_TRUE(*store().erase_version("old", "null"));
  EXPECT_EQ(version_ids("old"), std::vector<std::string>{put->version_id});
}

TEST_F(FilesystemObjectStoreTest, EraseKeepsDirectories_ErasingEveryVersionPrunesThem_AndNoOthers) {
  ASSERT_TRUE(store().put("x/y/z", "1"));
  ASSERT_TRUE(store().put("x/w", "2"));
  ASSERT_TRUE(*store().erase("x/y/z"));
  EXPECT_TRUE(fs::exists(m_root / "x" / "y" / "z#obj")) << "the delete marker";
  EXPECT_TRUE(fs::is_directory(m_root / "x" / "y" / "z#v"));
  erase_every_version("x/y/z");
  EXPECT_FALSE(fs::exists(m_root / "x" / "y"));
  EXPECT_TRUE(fs::exists(m_root / "x" / "w#obj"));
  ASSERT_TRUE(*store().erase("x/w"));
  erase_every_version("x/w");
  EXPECT_FALSE(fs::exists(m_root / "x"));
  EXPECT_TRUE(fs::is_directory(m_root)) << "the root itself stays";
  EXPECT_TRUE(names_in(m_root).empty());
}

TEST_F(FilesystemObjectStoreTest, EraseVersion_RemovesTheVersionsDirectoryWhenItEmpties) {
  auto put1 = store().put("k", "1");
  ASSERT_TRUE(put1);
  ASSERT_TRUE(store().put("k", "2"));
  ASSERT_TRUE(fs::is_directory(m_root / "k#v"));
  ASSERT_TRUE(*store().erase_version("k", put1->version_id));
  EXPECT_EQ(names_in(m_root), std::vector<std::string>{"k#obj"});
}

// --- versions: crash leftovers ----------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, CrashLeftover_TwinOfTheCurrentVersion_IsListedOnce_AndTakenOver) {
  auto put1 = store().put("k", "v1");
  ASSERT_TRUE(put1);
  auto put2 = store().put("k", "v2");
  ASSERT_TRUE(put2);
  // A put or erase that died after filing "#obj" under its id, before replacing "#obj".
  fs::create_hard_link(m_root / "k#obj", m_root / "k#v" / put2->version_id);
  EXPECT_EQ(version_ids("k"), (std::vector<std::string>{put2->version_id, put1->version_id}));
  auto page = store().list_versions("k");
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->entries[0].is_latest);
  EXPECT_FALSE(page->entries[1].is_latest);
  EXPECT_EQ(store().get_version("k", put2->version_id)->data, "v2");

  auto put3 = store().put("k", "v3");  // its link of "#obj" finds the twin already there
  ASSERT_TRUE(put3) << put3.error().to_string();
  EXPECT_EQ(version_ids("k"), (std::vector<std::string>{put3->version_id, put2->version_id, put1->version_id}));
  EXPECT_EQ(store().get_version("k", put2->version_id)->data, "v2");
}

TEST_F(FilesystemObjectStoreTest, CrashLeftover_TwinGoesWithTheCurrentVersion) {
  auto put1 = store().put("k", "v1");
  ASSERT_TRUE(put1);
  auto put2 = store().put("k", "v2");
  ASSERT_TRUE(put2);
  fs::create_hard_link(m_root / "k#obj", m_root / "k#v" / put2->version_id);
  ASSERT_TRUE(*store().erase_version("k", put2->version_id));
  EXPECT_EQ(version_ids("k"), std::vector<std::string>{put1->version_id}) << "the twin did not come back";
  EXPECT_EQ(store().get("k")->data, "v1");

  // A key whose only version has a twin: erasing it removes the key and its directories.
  auto only = store().put("d/only", "x");
  ASSERT_TRUE(only);
  fs::create_directory(m_root / "d" / "only#v");
  fs::create_hard_link(m_root / "d" / "only#obj", m_root / "d" / "only#v" / only->version_id);
  EXPECT_EQ(version_ids("d/only"), std::vector<std::string>{only->version_id});
  ASSERT_TRUE(*store().erase_version("d/only", only->version_id));
  EXPECT_TRUE(version_ids("d/only").empty());
  EXPECT_FALSE(fs::exists(m_root / "d"));
}

TEST_F(FilesystemObjectStoreTest, CrashLeftover_LockFile_IsTakenOverByTheNextWriter_AndSweptUnlessHeld) {
  write_file(m_root / "k#lock", "");  // a writer died holding it: flock let go with the process
  ASSERT_TRUE(store().put("k", "v"));
  EXPECT_FALSE(fs::exists(m_root / "k#lock")) << "the next writer takes it over and removes it";

  write_file(m_root / "stale#lock", "");
  write_file(m_root / "held#lock", "");
  cartorio::core::UniqueFd held(::open((m_root / "held#lock").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(held.get(), 0);
  ASSERT_EQ(::flock(held.get(), LOCK_EX), 0);  // a writer at work
  auto swept = store().remove_stale_temp_files(1h);
  ASSERT_TRUE(swept) << swept.error().to_string();
  EXPECT_EQ(*swept, 1u);
  EXPECT_FALSE(fs::exists(m_root / "stale#lock"));
  EXPECT_TRUE(fs::exists(m_root / "held#lock")) << "a held lock stays";
  held.close();
  EXPECT_EQ(keys(), std::vector<std::string>{"k"});
}

TEST_F(FilesystemObjectStoreTest, WritersOfOneKey_WhileItsDirectoriesArePruned_AllSucceed_AndLeaveNoLocks) {
  // Each thread puts, erases, and now and then erases every version, so the key's
  // directories go and come back under the others' writes and their lock files.
  constexpr int kThreads = 4, kRounds = 12;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        if (!store().put("p/q/k", "t" + std::to_string(t))) ++errors;
        if (!store().erase("p/q/k")) ++errors;
        if (i % 3 != 0) continue;
        auto page = store().list_versions("p/q/k");
        if (!page) {
          ++errors;
          continue;
        }
        for (const auto& v : page->entries)
          if (!store().erase_version("p/q/k", v.version_id)) ++errors;  // false: another thread was first
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  if (fs::exists(m_root / "p")) {
    for (const auto& e : fs::recursive_directory_iterator(m_root)) {
      const std::string name = e.path().filename().string();
      EXPECT_FALSE(name.ends_with("#lock") || name.starts_with("#tmp.")) << e.path();
    }
    const auto ids = version_ids("p/q/k");
    EXPECT_EQ(fs::exists(m_root / "p" / "q" / "k#obj"), !ids.empty()) << "\"#obj\" exactly when versions remain";
  }
  erase_every_version("p/q/k");
  EXPECT_TRUE(names_in(m_root).empty());
}

// --- versions: what is not ours ---------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, VersionIdsNotOfThisBackend_NeverNameAFile) {
  auto put1 = store().put("a/k", "v1");
  ASSERT_TRUE(put1);
  ASSERT_TRUE(store().put("a/k", "v2"));
  write_file(m_root / "a" / "k#v" / "foreign", "an operator's note");
  // Valid ids by the contract's charset, but not this backend's format.
  for (const char* id : {"..", ".", "foreign", "0", "00000000000000000001", "99999999999999999999.00000000"}) {
    SCOPED_TRACE(id);
    EXPECT_ERRC(store().get_version("a/k", id), Errc::not_found);
    auto removed = store().erase_version("a/k", id);
    ASSERT_TRUE(removed) << removed.error().to_string();
    EXPECT_FALSE(*removed);
    EXPECT_ERRC(store().list_versions("a/k", 10, id), Errc::not_found);
  }
  EXPECT_EQ(version_ids("a/k").size(), 2u) << "a foreign file in \"#v\" is not a version";
  EXPECT_TRUE(fs::exists(m_root / "a" / "k#v" / "foreign"));
  EXPECT_TRUE(fs::exists(m_root / "a" / "k#v" / put1->version_id));
  EXPECT_EQ(store().get("a/k")->data, "v2");
}

TEST_F(FilesystemObjectStoreTest, SymlinkedVersionsDirectory_IsNeverFollowed) {
  auto put1 = store().put("k", "v1");
  ASSERT_TRUE(put1);
  ASSERT_TRUE(store().put("k", "v2"));
  fs::rename(m_root / "k#v", m_outside / "k#v");
  fs::create_directory_symlink(m_outside / "k#v", m_root / "k#v");

  EXPECT_ERRC(store().put("k", "v3"), Errc::store_error);
  EXPECT_ERRC(store().erase("k"), Errc::store_error);
  EXPECT_ERRC(store().list_versions("k"), Errc::store_error);
  EXPECT_ERRC(store().get_version("k", put1->version_id), Errc::store_error);
  EXPECT_ERRC(store().erase_version("k", put1->version_id), Errc::store_error);
  EXPECT_EQ(store().get("k")->data, "v2") << "a refused write changes nothing";
  EXPECT_EQ(names_in(m_outside / "k#v"), std::vector<std::string>{put1->version_id});
}

TEST_F(FilesystemObjectStoreTest, VersionFileRenamedByHand_IsReported) {
  auto put1 = store().put("k", "v1");
  ASSERT_TRUE(put1);
  ASSERT_TRUE(store().put("k", "v2"));
  const std::string other = "00000000000000000001.00000000";
  fs::rename(m_root / "k#v" / put1->version_id, m_root / "k#v" / other);
  auto got = store().get_version("k", other);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::store_error);
  cartorio::testing::expect_contains(got.error().message, put1->version_id);
  EXPECT_ERRC(store().list_versions("k"), Errc::store_error);
}

TEST_F(FilesystemObjectStoreTest, DamagedCurrentFile_IsNeitherReplacedNorErased) {
  // Its version id is unreadable, so it cannot be kept as a version: refused, not destroyed.
  write_file(m_root / "raw#obj", "just bytes");
  EXPECT_ERRC(store().put("raw", "x"), Errc::store_error);
  EXPECT_ERRC(store().put_if_absent("raw", "x"), Errc::store_error);
  EXPECT_ERRC(store().erase("raw"), Errc::store_error);
  EXPECT_ERRC(store().list_versions("raw"), Errc::store_error);
  EXPECT_EQ(read_file(m_root / "raw#obj"), "just bytes");
}

TEST_F(FilesystemObjectStoreTest, HeaderWithAMalformedVersionId_IsReported) {
  ASSERT_TRUE(store().put("k", "v"));
  std::string file = read_file(m_root / "k#obj");
  const auto at = file.find("\"version_id\":\"") + 14;
  file.replace(at, 29, "../../../../../../../outside.");  // same length: the size still matches
  write_file(m_root / "k#obj", file);
  EXPECT_ERRC(store().get("k"), Errc::store_error);
  EXPECT_ERRC(store().put("k", "v2"), Errc::store_error);  // never used as a file name
  EXPECT_FALSE(fs::exists(m_root / "k#v"));
}

// --- damage on disk ---------------------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, AlteredBytes_AreReported_NotServed) {
  ASSERT_TRUE(store().put("doc", "signed content"));
  auto file = read_file(m_root / "doc#obj");
  file.back() = 'X';  // same size, different bytes
  write_file(m_root / "doc#obj", file);
  auto got = store().get("doc");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::store_error);
  cartorio::testing::expect_contains(got.error().message, "SHA-256");
}

TEST_F(FilesystemObjectStoreTest, TruncatedFile_IsReported) {
  ASSERT_TRUE(store().put("doc", "signed content"));
  fs::resize_file(m_root / "doc#obj", fs::file_size(m_root / "doc#obj") - 3);
  EXPECT_ERRC(store().get("doc"), Errc::store_error);
  EXPECT_ERRC(store().head("doc"), Errc::store_error);
  auto page = store().list();
  EXPECT_FALSE(page) << "a listing does not hide damage";
}

TEST_F(FilesystemObjectStoreTest, ObjectCopiedToAnotherName_IsReported) {
  ASSERT_TRUE(store().put("genuine", "signed content"));
  fs::copy_file(m_root / "genuine#obj", m_root / "forged#obj");
  auto got = store().get("forged");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::store_error);
  cartorio::testing::expect_contains(got.error().message, "genuine");
}

TEST_F(FilesystemObjectStoreTest, FileWithoutHeader_IsReported) {
  write_file(m_root / "raw#obj", "just bytes");
  EXPECT_ERRC(store().get("raw"), Errc::store_error);
  write_file(m_root / "json#obj", "cartorio-object 1\n{\"key\":\"json\"}\n");
  EXPECT_ERRC(store().head("json"), Errc::store_error);
}

// --- opening and readiness --------------------------------------------------------------

TEST_F(FilesystemObjectStoreTest, Open_RejectsAnEmptyRootOrLimit) {
  EXPECT_ERRC(FilesystemObjectStore::open({"", 1}, m_clock), Errc::config_invalid);
  EXPECT_ERRC(FilesystemObjectStore::open({m_root, 0}, m_clock), Errc::config_invalid);
}

TEST_F(FilesystemObjectStoreTest, Open_FailsWhenTheRootIsAFile) {
  write_file(m_dir / "file", "x");
  EXPECT_ERRC(FilesystemObjectStore::open({m_dir / "file", 1}, m_clock), Errc::io_error);
}

TEST_F(FilesystemObjectStoreTest, Check_FailsWhenTheRootIsRemoved) {
  ASSERT_TRUE(store().check());
  fs::remove_all(m_root);
  EXPECT_ERRC(store().check(), Errc::store_unavailable);
}

TEST_F(FilesystemObjectStoreTest, Check_FailsWhenTheRootIsReplaced) {
  fs::rename(m_root, m_dir / "moved");
  fs::create_directory(m_root);
  EXPECT_ERRC(store().check(), Errc::store_unavailable);
}

}  // namespace
