// FilesystemObjectStore beyond the conformance suite: the layout on disk, permissions,
// symbolic links and other files planted in the root, what a crash leaves behind, damage
// detection, and the readiness check.
#include "objectstore/fs/filesystem_object_store.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
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

TEST_F(FilesystemObjectStoreTest, Erase_RemovesDirectoriesItEmptied_AndNoOthers) {
  ASSERT_TRUE(store().put("x/y/z", "1"));
  ASSERT_TRUE(store().put("x/w", "2"));
  ASSERT_TRUE(*store().erase("x/y/z"));
  EXPECT_FALSE(fs::exists(m_root / "x" / "y"));
  EXPECT_TRUE(fs::exists(m_root / "x" / "w#obj"));
  ASSERT_TRUE(*store().erase("x/w"));
  EXPECT_FALSE(fs::exists(m_root / "x"));
  EXPECT_TRUE(fs::is_directory(m_root)) << "the root itself stays";
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

TEST_F(FilesystemObjectStoreTest, NoStagedFileRemains_AfterPutsAndRefusedPuts) {
  ASSERT_TRUE(store().put("d/a", "1"));
  ASSERT_TRUE(store().put("d/a", "2"));
  ASSERT_TRUE(*store().put_if_absent("d/b", "1"));
  ASSERT_FALSE(*store().put_if_absent("d/b", "2"));
  ASSERT_TRUE(store().check());
  for (const auto& e : fs::recursive_directory_iterator(m_root))
    EXPECT_FALSE(e.path().filename().string().starts_with("#tmp.")) << e.path();
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
