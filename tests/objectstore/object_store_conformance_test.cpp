// One behaviour suite for objectstore::ObjectStore, run on every backend: the filesystem,
// the fixture's S3 server, and the encryption decorator over each. A backend is correct
// when it passes all of it. What only one backend can show (its layout on disk, symbolic
// links planted in its root) lives in that backend's own test file.
#include "objectstore/object_store.h"

#include "encrypted_backend.h"
#include "object_store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cartorio::core::Errc;
using cartorio::objectstore::ListPage;
using cartorio::objectstore::ObjectInfo;
using cartorio::objectstore::ObjectStore;
using cartorio::objectstore::PutOptions;
using cartorio::objectstore::VersionEntry;
using cartorio::objectstore_test::OpenOptions;

template <class Backend>
class ObjectStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(m_backend.prepare());
    auto opened = m_backend.open();
    ASSERT_TRUE(opened) << opened.error().to_string();
    m_store = std::move(opened).value();
  }

  ObjectStore& store() { return *m_store; }

  std::string data_of(std::string_view key) {
    auto r = store().get(key);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->data : "<error>";
  }

  std::vector<std::string> keys(std::string_view prefix = {}, std::size_t limit = 1000,
                                std::string_view start_after = {}) {
    auto page = store().list(prefix, limit, start_after);
    EXPECT_TRUE(page) << page.error().to_string();
    std::vector<std::string> out;
    if (page)
      for (const auto& e : page->entries) out.push_back(e.key);
    return out;
  }

  // Follows next_start_after to the end, checking each page's size and flag.
  std::vector<std::string> all_pages(std::string_view prefix, std::size_t limit, int* pages = nullptr) {
    std::vector<std::string> out;
    std::string after;
    for (int n = 1;; ++n) {
      auto page = store().list(prefix, limit, after);
      EXPECT_TRUE(page) << page.error().to_string();
      if (!page || n > 1000) return out;
      EXPECT_LE(page->entries.size(), limit);
      for (const auto& e : page->entries) out.push_back(e.key);
      if (pages) *pages = n;
      if (!page->truncated) {
        EXPECT_TRUE(page->next_start_after.empty());
        return out;
      }
      EXPECT_EQ(page->entries.size(), limit) << "a truncated page must be full";
      EXPECT_EQ(page->next_start_after, page->entries.back().key);
      after = page->next_start_after;
    }
  }

  std::vector<VersionEntry> versions(std::string_view key) {
    auto page = store().list_versions(key);
    EXPECT_TRUE(page) << page.error().to_string();
    if (!page) return {};
    EXPECT_FALSE(page->truncated);
    return page->entries;
  }

  std::vector<std::string> version_ids(std::string_view key) {
    std::vector<std::string> out;
    for (const auto& e : versions(key)) out.push_back(e.version_id);
    return out;
  }

  std::vector<std::string> versioned_keys(std::string_view prefix = {}, std::size_t limit = 1000,
                                          std::string_view start_after = {}) {
    auto page = store().list_versioned_keys(prefix, limit, start_after);
    EXPECT_TRUE(page) << page.error().to_string();
    std::vector<std::string> out;
    if (page)
      for (const auto& e : page->entries) out.push_back(e.key);
    return out;
  }

  Backend m_backend;  // declared first: outlives the stores opened on it
  std::unique_ptr<ObjectStore> m_store;
};

// Every field of an ObjectInfo.
void expect_same_info(const ObjectInfo& got, const ObjectInfo& want) {
  EXPECT_EQ(got.key, want.key);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.etag, want.etag);
  EXPECT_EQ(got.content_type, want.content_type);
  EXPECT_EQ(got.last_modified, want.last_modified);
  EXPECT_EQ(got.metadata, want.metadata);
  EXPECT_EQ(got.version_id, want.version_id);
}

std::string every_byte() {
  std::string s;
  for (int round = 0; round < 4; ++round)
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

}  // namespace

// Global names so CTest lists cases as ObjectStoreConformance/<Backend>.<Case>.
class Filesystem : public cartorio::objectstore_test::FilesystemBackend {};
class S3 : public cartorio::objectstore_test::S3Backend {};
class EncryptedFilesystem : public cartorio::objectstore_test::EncryptedFilesystemBackend {};
class EncryptedS3 : public cartorio::objectstore_test::EncryptedS3Backend {};

namespace {

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    if (std::is_same_v<T, S3>) return "S3";
    if (std::is_same_v<T, EncryptedFilesystem>) return "EncryptedFilesystem";
    if (std::is_same_v<T, EncryptedS3>) return "EncryptedS3";
    return "Filesystem";
  }
};
using Backends = ::testing::Types<Filesystem, S3, EncryptedFilesystem, EncryptedS3>;
TYPED_TEST_SUITE(ObjectStoreConformance, Backends, BackendNames);

// --- round trips ------------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, Get_IsNotFound_WhenAbsent) {
  EXPECT_ERRC(this->store().get("missing"), Errc::not_found);
  EXPECT_ERRC(this->store().head("missing"), Errc::not_found);
  EXPECT_ERRC(this->store().get("no/such/dir/x"), Errc::not_found);
}

TYPED_TEST(ObjectStoreConformance, Put_TakesTheCallersSha256AsETag_AndRefusesAMalformedOne) {
  const std::string data = "signed bytes";
  PutOptions o;
  o.sha256_hex = cartorio::objectstore::etag_of(data);
  auto put = this->store().put("given-digest", data, o);
  ASSERT_OK(put);
  EXPECT_EQ(put->etag, o.sha256_hex);
  auto got = this->store().get("given-digest");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, data);
  for (const std::string& bad : {std::string("abc"), std::string(64, 'A'), std::string(63, '0') + "g"}) {
    o.sha256_hex = bad;
    EXPECT_ERRC(this->store().put("bad-digest", data, o), Errc::invalid_argument);
  }
  EXPECT_ERRC(this->store().head("bad-digest"), Errc::not_found);
}

TYPED_TEST(ObjectStoreConformance, Put_ThenGet_RoundTripsBinaryData_WithItsInfo) {
  const std::string data = every_byte() + std::string("\0\0tail\0", 7);
  PutOptions o;
  o.content_type = "application/pdf";
  o.metadata = {{"document-id", "42"}, {"requester", "Maria da Silva <m@example.org>"}};
  auto put = this->store().put("docs/2024/contract.pdf", data, o);
  ASSERT_OK(put);
  EXPECT_EQ(put->key, "docs/2024/contract.pdf");
  EXPECT_EQ(put->size, data.size());
  EXPECT_EQ(put->etag, cartorio::objectstore::etag_of(data));
  EXPECT_EQ(put->content_type, "application/pdf");
  EXPECT_EQ(put->metadata, o.metadata);

  auto got = this->store().get("docs/2024/contract.pdf");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, data);
  EXPECT_EQ(got->info.key, put->key);
  EXPECT_EQ(got->info.size, put->size);
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.content_type, "application/pdf");
  EXPECT_EQ(got->info.metadata, o.metadata);
  EXPECT_EQ(got->info.last_modified, put->last_modified);
  EXPECT_TRUE(cartorio::objectstore::check_version_id(put->version_id)) << "an opaque id of [A-Za-z0-9._-]";
  EXPECT_EQ(got->info.version_id, put->version_id);
}

TYPED_TEST(ObjectStoreConformance, Head_ReportsWhatPutReturned) {
  PutOptions o;
  o.content_type = "application/pkix-crl";
  o.metadata = {{"ca", "tls"}};
  auto put = this->store().put("crl/tls.crl", "crl-bytes", o);
  ASSERT_OK(put);
  auto head = this->store().head("crl/tls.crl");
  ASSERT_OK(head);
  EXPECT_EQ(head->key, "crl/tls.crl");
  EXPECT_EQ(head->size, 9u);
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->content_type, "application/pkix-crl");
  EXPECT_EQ(head->metadata, o.metadata);
  EXPECT_EQ(head->last_modified, put->last_modified);
  EXPECT_EQ(head->version_id, put->version_id);
}

TYPED_TEST(ObjectStoreConformance, EmptyObject_RoundTrips) {
  ASSERT_OK(this->store().put("empty", ""));
  auto got = this->store().get("empty");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, "");
  EXPECT_EQ(got->info.size, 0u);
}

TYPED_TEST(ObjectStoreConformance, LargeObject_RoundTrips) {
  std::string big(3 << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  ASSERT_OK(this->store().put("backups/big.bin", big));
  EXPECT_EQ(this->data_of("backups/big.bin"), big);
}

TYPED_TEST(ObjectStoreConformance, Put_DefaultsTheContentType) {
  ASSERT_OK(this->store().put("a", "x"));
  PutOptions empty;
  empty.content_type.clear();
  ASSERT_OK(this->store().put("b", "x", empty));
  EXPECT_EQ(this->store().head("a")->content_type, "application/octet-stream");
  EXPECT_EQ(this->store().head("b")->content_type, "application/octet-stream");
}

TYPED_TEST(ObjectStoreConformance, Put_ReplacesDataAndInfo) {
  PutOptions first;
  first.content_type = "text/plain";
  first.metadata = {{"v", "1"}};
  ASSERT_OK(this->store().put("k", "first version", first));
  PutOptions second;
  second.content_type = "application/json";
  ASSERT_OK(this->store().put("k", "2", second));
  auto got = this->store().get("k");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, "2");
  EXPECT_EQ(got->info.size, 1u);
  EXPECT_EQ(got->info.etag, cartorio::objectstore::etag_of("2"));
  EXPECT_EQ(got->info.content_type, "application/json");
  EXPECT_TRUE(got->info.metadata.empty()) << "metadata is replaced with the object, not merged";
  EXPECT_EQ(this->keys(), std::vector<std::string>{"k"});
}

TYPED_TEST(ObjectStoreConformance, Etag_IsTheLowercaseHexSha256_Unquoted) {
  // FIPS 180-2 test vectors.
  auto abc = this->store().put("abc", "abc");
  ASSERT_OK(abc);
  EXPECT_EQ(abc->etag, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto empty = this->store().put("empty", "");
  ASSERT_OK(empty);
  EXPECT_EQ(empty->etag, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(this->store().head("abc")->etag, abc->etag);
  EXPECT_EQ(this->store().get("abc")->info.etag, abc->etag);
}

TYPED_TEST(ObjectStoreConformance, LastModified_IsThePutTime_InWholeSeconds) {
  const auto before = std::chrono::floor<std::chrono::seconds>(this->m_backend.now());
  auto put = this->store().put("k", "v");
  ASSERT_OK(put);
  const auto after = this->m_backend.now();
  EXPECT_EQ(put->last_modified, std::chrono::floor<std::chrono::seconds>(put->last_modified));
  EXPECT_GE(put->last_modified, before);
  EXPECT_LE(put->last_modified, after + TypeParam::kLastModifiedSlack);
}

TYPED_TEST(ObjectStoreConformance, Objects_SurviveReopening) {
  ASSERT_OK(this->store().put("signed/doc-1.pdf", "pdf"));
  this->m_store.reset();
  auto reopened = this->m_backend.open();
  ASSERT_OK(reopened);
  auto got = (*reopened)->get("signed/doc-1.pdf");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, "pdf");
}

// --- keys -------------------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, KeyAndKeysBelowIt_AreDistinctObjects) {
  ASSERT_OK(this->store().put("a", "A"));
  ASSERT_OK(this->store().put("a/b", "AB"));
  ASSERT_OK(this->store().put("a/b/c", "ABC"));
  EXPECT_EQ(this->data_of("a"), "A");
  EXPECT_EQ(this->data_of("a/b"), "AB");
  EXPECT_EQ(this->data_of("a/b/c"), "ABC");
  EXPECT_EQ(this->keys(), (std::vector<std::string>{"a", "a/b", "a/b/c"}));
}

TYPED_TEST(ObjectStoreConformance, Accepts_EveryKeyTheRulesAllow) {
  std::string longest;
  for (char c : {'v', 'w', 'x', 'y'}) longest += std::string(250, c) + "/";
  longest += std::string(1024 - longest.size(), 'z');
  ASSERT_EQ(longest.size(), 1024u);
  const std::vector<std::string> ok_keys = {
      "a", "A-Z_a-z.0-9", ".hidden", "...", "a.", "-", "_", "x..y", "dir/.hidden/..a", std::string(250, 's'), longest};
  for (const auto& key : ok_keys) {
    ASSERT_OK(this->store().put(key, "v:" + key));
    EXPECT_EQ(this->data_of(key), "v:" + key) << key;
  }
  auto listed = this->keys();
  std::vector<std::string> sorted = ok_keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
}

struct BadKey {
  std::string key;
  const char* rule;
};

std::vector<BadKey> bad_keys() {
  return {
      {"", "empty"},
      {std::string(1025, 'k'), "longer than 1024 bytes"},
      {std::string(251, 's'), "segment longer than 250 bytes"},
      {"a b", "space"},
      {std::string("a\0b", 3), "NUL"},
      {"caf\xc3\xa9", "non-ASCII"},
      {"a\\b", "backslash"},
      {"a:b", "colon"},
      {"a#obj", "'#' (the filesystem backend's suffix)"},
      {"/etc/passwd", "absolute (leading '/')"},
      {"a/", "trailing '/'"},
      {"a//b", "empty segment"},
      {".", "'.' segment"},
      {"..", "'..' segment"},
      {"./a", "'.' first segment"},
      {"a/./b", "'.' inner segment"},
      {"a/.", "'.' last segment"},
      {"../x", "climbs out"},
      {"a/../../b", "climbs out from inside"},
      {"a/..", "'..' last segment"},
  };
}

TYPED_TEST(ObjectStoreConformance, Rejects_EachKeyRule_InEveryCall_ChangingNothing) {
  ASSERT_OK(this->store().put("a", "keep"));
  for (const auto& [key, rule] : bad_keys()) {
    SCOPED_TRACE(rule);
    // Same message as the shared check: every backend rejects in the same words.
    const auto expected = cartorio::objectstore::check_key(key);
    ASSERT_FALSE(expected);
    auto put = this->store().put(key, "x");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, Errc::invalid_argument);
    EXPECT_EQ(put.error().message, expected.error().message);
    EXPECT_ERRC(this->store().put_if_absent(key, "x"), Errc::invalid_argument);
    EXPECT_ERRC(this->store().get(key), Errc::invalid_argument);
    EXPECT_ERRC(this->store().head(key), Errc::invalid_argument);
    EXPECT_ERRC(this->store().erase(key), Errc::invalid_argument);
  }
  EXPECT_EQ(this->keys(), std::vector<std::string>{"a"});
  EXPECT_EQ(this->data_of("a"), "keep");
}

TYPED_TEST(ObjectStoreConformance, Rejects_BadPutOptions_ChangingNothing) {
  auto with = [](std::string type, cartorio::objectstore::Metadata m) {
    PutOptions o;
    o.content_type = std::move(type);
    o.metadata = std::move(m);
    return o;
  };
  const std::vector<std::pair<const char*, PutOptions>> cases = {
      {"content type with a newline", with("text/plain\r\nX-Evil: 1", {})},
      {"content type too long", with(std::string(257, 't'), {})},
      {"upper-case metadata name", with("", {{"Owner", "x"}})},
      {"metadata name with '_'", with("", {{"a_b", "x"}})},
      {"empty metadata name", with("", {{"", "x"}})},
      {"metadata name too long", with("", {{std::string(65, 'n'), "x"}})},
      {"metadata value with a newline", with("", {{"a", "x\ny"}})},
      {"metadata value not ASCII", with("", {{"a", "caf\xc3\xa9"}})},
      {"metadata over 2 KiB", with("", {{"a", std::string(1500, 'v')}, {"b", std::string(600, 'v')}})},
  };
  for (const auto& [what, options] : cases) {
    SCOPED_TRACE(what);
    EXPECT_ERRC(this->store().put("k", "x", options), Errc::invalid_argument);
    EXPECT_ERRC(this->store().put_if_absent("k", "x", options), Errc::invalid_argument);
  }
  EXPECT_TRUE(this->keys().empty());
}

// --- erase ------------------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, Erase_RemovesTheObject_AndSaysWhetherThereWasOne) {
  ASSERT_OK(this->store().put("k", "v"));
  auto first = this->store().erase("k");
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  EXPECT_ERRC(this->store().get("k"), Errc::not_found);
  auto second = this->store().erase("k");
  ASSERT_OK(second);
  EXPECT_FALSE(*second);
  auto never = this->store().erase("never/was/here");
  ASSERT_OK(never);
  EXPECT_FALSE(*never);
}

TYPED_TEST(ObjectStoreConformance, Erase_LeavesNeighboursAlone) {
  for (const char* k : {"a", "a/b", "a/b/c", "a/bc"}) ASSERT_OK(this->store().put(k, k));
  ASSERT_TRUE(*this->store().erase("a/b"));
  EXPECT_EQ(this->keys(), (std::vector<std::string>{"a", "a/b/c", "a/bc"}));
  ASSERT_TRUE(*this->store().erase("a/b/c"));
  EXPECT_EQ(this->keys(), (std::vector<std::string>{"a", "a/bc"}));
  ASSERT_OK(this->store().put("a/b/c", "again"));
  EXPECT_EQ(this->data_of("a/b/c"), "again");
}

// --- list -------------------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, List_IsEmpty_OnAnEmptyStore) {
  auto page = this->store().list();
  ASSERT_OK(page);
  EXPECT_TRUE(page->entries.empty());
  EXPECT_FALSE(page->truncated);
  EXPECT_TRUE(page->next_start_after.empty());
}

TYPED_TEST(ObjectStoreConformance, List_ReturnsKeysInByteOrder_WithSizeAndTime) {
  // '-' < '.' < '/' < '0' < 'B' < '_' < 'a': "a/..." sorts between "a.b" and "a0", which a
  // directory-by-directory walk gets wrong unless it sorts "a/" as a whole.
  std::vector<std::string> want = {"a",   "a-b", "a.b", "a/b", "a/c/d", "a/c/e/f", "a0", "B",
                                   "_x",  "z",   "a/c", "b/a", "b-a",   "a/b-",    "a/b0"};
  std::vector<std::string> shuffled = want;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
  for (const auto& k : shuffled) ASSERT_OK(this->store().put(k, std::string(k.size(), 'x')));
  std::sort(want.begin(), want.end());
  auto page = this->store().list();
  ASSERT_OK(page);
  std::vector<std::string> got;
  for (const auto& e : page->entries) {
    got.push_back(e.key);
    EXPECT_EQ(e.size, e.key.size()) << e.key;
    EXPECT_EQ(e.last_modified, this->store().head(e.key)->last_modified) << e.key;
  }
  EXPECT_EQ(got, want);
  EXPECT_FALSE(page->truncated);
}

TYPED_TEST(ObjectStoreConformance, List_Paginates_WithEveryKeyOnce) {
  std::vector<std::string> want;
  for (int i = 0; i < 25; ++i) {
    // Spread over nested directories, so pages end inside one and resume in another.
    const std::string k = "p" + std::to_string(i % 3) + "/" + (i % 2 ? "odd/" : "") + "k" + std::to_string(i);
    want.push_back(k);
    ASSERT_OK(this->store().put(k, "v"));
  }
  std::sort(want.begin(), want.end());
  for (std::size_t limit : {1u, 2u, 7u, 10u, 24u, 25u, 26u}) {
    int pages = 0;
    EXPECT_EQ(this->all_pages("", limit, &pages), want) << "limit " << limit;
    // A full last page says nothing follows: no empty extra page.
    EXPECT_EQ(pages, static_cast<int>((want.size() + limit - 1) / limit)) << "limit " << limit;
  }
}

TYPED_TEST(ObjectStoreConformance, List_FullLastPage_IsNotTruncated) {
  for (const char* k : {"a", "b", "c", "d"}) ASSERT_OK(this->store().put(k, "v"));
  auto first = this->store().list("", 2);
  ASSERT_OK(first);
  EXPECT_TRUE(first->truncated);
  auto second = this->store().list("", 2, first->next_start_after);
  ASSERT_OK(second);
  EXPECT_EQ(second->entries.size(), 2u);
  EXPECT_FALSE(second->truncated) << "nothing follows \"d\"";
}

TYPED_TEST(ObjectStoreConformance, List_FiltersByPrefix) {
  for (const char* k : {"docs/2023/a", "docs/2024/a", "docs/2024/b", "docs/20240/c", "docs2/x", "doc", "other/docs/y"})
    ASSERT_OK(this->store().put(k, "v"));
  EXPECT_EQ(this->keys("docs/2024/"), (std::vector<std::string>{"docs/2024/a", "docs/2024/b"}));
  EXPECT_EQ(this->keys("docs/2024"), (std::vector<std::string>{"docs/2024/a", "docs/2024/b", "docs/20240/c"}));
  EXPECT_EQ(this->keys("docs"),
            (std::vector<std::string>{"docs/2023/a", "docs/2024/a", "docs/2024/b", "docs/20240/c", "docs2/x"}));
  EXPECT_EQ(this->keys("doc"), (std::vector<std::string>{"doc", "docs/2023/a", "docs/2024/a", "docs/2024/b",
                                                         "docs/20240/c", "docs2/x"}));
  EXPECT_EQ(this->keys("docs/2024/a"), std::vector<std::string>{"docs/2024/a"});
  EXPECT_TRUE(this->keys("nothing").empty());
  EXPECT_TRUE(this->keys("docs/2025/").empty());
  EXPECT_EQ(this->all_pages("docs/", 1),
            (std::vector<std::string>{"docs/2023/a", "docs/2024/a", "docs/2024/b", "docs/20240/c"}));
}

TYPED_TEST(ObjectStoreConformance, List_StartAfter_NeedNotBeAKey) {
  for (const char* k : {"a", "a/b/c", "a/b0", "b"}) ASSERT_OK(this->store().put(k, "v"));
  EXPECT_EQ(this->keys("", 1000, "a/b"), (std::vector<std::string>{"a/b/c", "a/b0", "b"}));
  EXPECT_EQ(this->keys("", 1000, "a/b/"), (std::vector<std::string>{"a/b/c", "a/b0", "b"}));
  EXPECT_EQ(this->keys("", 1000, "a/b/c"), (std::vector<std::string>{"a/b0", "b"}));
  EXPECT_EQ(this->keys("", 1000, "a/c"), std::vector<std::string>{"b"});
  EXPECT_EQ(this->keys("", 1000, "0"), (std::vector<std::string>{"a", "a/b/c", "a/b0", "b"}));
  EXPECT_TRUE(this->keys("", 1000, "zz").empty());
  EXPECT_EQ(this->keys("a/", 1000, "a/b/c"), std::vector<std::string>{"a/b0"});
  EXPECT_EQ(this->keys("", 1000, "a~"), (std::vector<std::string>{"b"}))
      << "start_after is compared as bytes and may hold characters keys cannot";
}

TYPED_TEST(ObjectStoreConformance, List_RejectsBadArguments) {
  EXPECT_ERRC(this->store().list("", 0), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list("", cartorio::objectstore::kMaxListLimit + 1), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list("a b"), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list(std::string(1025, 'p')), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list("", 10, std::string(1025, 's')), Errc::invalid_argument);
  ASSERT_OK(this->store().list("", cartorio::objectstore::kMaxListLimit));
}

// --- put_if_absent ----------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, PutIfAbsent_CreatesOnlyWhenAbsent) {
  auto first = this->store().put_if_absent("signed/doc.pdf", "original");
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  auto second = this->store().put_if_absent("signed/doc.pdf", "forgery");
  ASSERT_OK(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(this->data_of("signed/doc.pdf"), "original");
  ASSERT_TRUE(*this->store().erase("signed/doc.pdf"));
  auto third = this->store().put_if_absent("signed/doc.pdf", "after erase");
  ASSERT_OK(third);
  EXPECT_TRUE(*third);
  EXPECT_EQ(this->data_of("signed/doc.pdf"), "after erase");
  EXPECT_EQ(this->keys(), std::vector<std::string>{"signed/doc.pdf"});
}

TYPED_TEST(ObjectStoreConformance, PutIfAbsent_KeepsTheInfoOfTheFirstWriter) {
  PutOptions o;
  o.content_type = "application/pdf";
  o.metadata = {{"writer", "first"}};
  ASSERT_TRUE(*this->store().put_if_absent("k", "1", o));
  PutOptions other;
  other.metadata = {{"writer", "second"}};
  ASSERT_FALSE(*this->store().put_if_absent("k", "2", other));
  auto head = this->store().head("k");
  ASSERT_OK(head);
  EXPECT_EQ(head->content_type, "application/pdf");
  EXPECT_EQ(head->metadata.at("writer"), "first");
}

TYPED_TEST(ObjectStoreConformance, PutIfAbsent_HasExactlyOneWinner_Among8Threads) {
  // Many short rounds: a check-then-rename implementation loses only about one in 25.
  constexpr int kThreads = 8, kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "once/" + std::to_string(round) + "/doc";
    std::atomic<int> winners{0}, failures{0}, winner{-1};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        auto r = this->store().put_if_absent(key, "thread-" + std::to_string(t));
        if (!r) {
          ++failures;
        } else if (*r) {
          ++winners;
          winner = t;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    ASSERT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(this->data_of(key), "thread-" + std::to_string(winner.load())) << "the winner's bytes are stored";
  }
}

// --- concurrency ------------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, ConcurrentReaders_SeeTheOldOrTheNewObject_NeverAMix) {
  const std::string a(256 * 1024, 'a');
  const std::string b(384 * 1024, 'b');
  ASSERT_OK(this->store().put("hot", a));
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::mutex first_bad_mutex;
  std::string first_bad;  // what the first bad read was, for the failure message
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      // At least a few reads each, even if the writer finishes first.
      for (int n = 0; !done || n < 5; ++n) {
        auto got = this->store().get("hot");
        ++reads;
        std::string why;
        if (!got) {
          why = got.error().to_string();
        } else if (got->data != a && got->data != b) {
          why = "a mix of " + std::to_string(got->data.size()) + " bytes";
        } else if (got->info.etag != cartorio::objectstore::etag_of(got->data)) {
          why = "an ETag not of the bytes";
        }
        if (why.empty()) continue;
        ++bad;
        std::lock_guard lock(first_bad_mutex);
        if (first_bad.empty()) first_bad = why;
      }
    });
  }
  int write_errors = 0;
  for (int i = 0; i < 40; ++i)
    if (!this->store().put("hot", i % 2 ? a : b)) ++write_errors;
  done = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(write_errors, 0);
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads; the first: " << first_bad;
}

TYPED_TEST(ObjectStoreConformance, ListingDuringWrites_ShowsOnlyCompleteObjects) {
  // Every object put under "w/" is exactly 4096 bytes: a listing that showed a staged or
  // half-written file would show another size or a key nobody put.
  const std::string data(4096, 'w');
  std::set<std::string> possible;
  for (int i = 0; i < 30; ++i) possible.insert("w/" + std::to_string(i % 5) + "/k" + std::to_string(i));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread lister([&] {
    for (int n = 0; !done || n < 3; ++n) {
      auto page = this->store().list("w/");
      if (!page) {
        ++bad;
        continue;
      }
      for (const auto& e : page->entries)
        if (!possible.count(e.key) || e.size != data.size()) ++bad;
    }
  });
  for (const auto& k : possible) {
    EXPECT_TRUE(this->store().put(k, data));
    EXPECT_TRUE(this->store().put(k, data));  // replacing stages again
  }
  done = true;
  lister.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(this->keys("w/").size(), possible.size());
}

TYPED_TEST(ObjectStoreConformance, ConcurrentWritersToDifferentKeys_AllLand) {
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string k = "shared/dir/t" + std::to_string(t) + "-" + std::to_string(i);
        if (!this->store().put(k, k)) ++failures;
        if (i % 2 != 0) continue;
        // Erasing every version removes the key, emptying the shared directory now and then,
        // racing the others' puts.
        if (!this->store().erase(k)) ++failures;
        auto versions = this->store().list_versions(k);
        if (!versions) {
          ++failures;
          continue;
        }
        for (const auto& v : versions->entries)
          if (auto removed = this->store().erase_version(k, v.version_id); !removed || !*removed) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->keys("shared/").size(), static_cast<std::size_t>(kThreads * kEach / 2));
  for (const auto& k : this->keys("shared/")) EXPECT_EQ(this->data_of(k), k);
}

// --- versions ---------------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, Versions_PutTwice_KeepsBoth_NewestFirst_EachReadableById) {
  PutOptions first;
  first.content_type = "text/plain";
  first.metadata = {{"v", "1"}};
  auto put1 = this->store().put("doc", "one", first);
  ASSERT_OK(put1);
  auto head1 = this->store().head("doc");
  ASSERT_OK(head1);
  PutOptions second;
  second.content_type = "application/json";
  auto put2 = this->store().put("doc", "second", second);
  ASSERT_OK(put2);
  auto head2 = this->store().head("doc");
  ASSERT_OK(head2);

  ASSERT_OK(cartorio::objectstore::check_version_id(put1->version_id));
  ASSERT_OK(cartorio::objectstore::check_version_id(put2->version_id));
  EXPECT_NE(put1->version_id, put2->version_id);
  EXPECT_EQ(head1->version_id, put1->version_id);
  EXPECT_EQ(head2->version_id, put2->version_id);
  EXPECT_EQ(this->store().get("doc")->info.version_id, put2->version_id);

  const auto v = this->versions("doc");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].version_id, put2->version_id);
  EXPECT_TRUE(v[0].is_latest);
  EXPECT_FALSE(v[0].delete_marker);
  EXPECT_EQ(v[0].size, 6u);
  EXPECT_EQ(v[0].last_modified, put2->last_modified);
  EXPECT_EQ(v[1].version_id, put1->version_id);
  EXPECT_FALSE(v[1].is_latest);
  EXPECT_FALSE(v[1].delete_marker);
  EXPECT_EQ(v[1].size, 3u);
  EXPECT_EQ(v[1].last_modified, put1->last_modified);

  auto old = this->store().get_version("doc", put1->version_id);
  ASSERT_OK(old);
  EXPECT_EQ(old->data, "one");
  expect_same_info(old->info, *head1);
  auto now = this->store().get_version("doc", put2->version_id);
  ASSERT_OK(now);
  EXPECT_EQ(now->data, "second");
  expect_same_info(now->info, *head2);
  EXPECT_EQ(this->data_of("doc"), "second");
  EXPECT_EQ(this->keys(), std::vector<std::string>{"doc"}) << "one key, however many versions";
}

TYPED_TEST(ObjectStoreConformance, Versions_PutsInQuickSuccession_GetDistinctIds_InPutOrder) {
  std::vector<std::string> put_ids;
  for (int i = 0; i < 8; ++i) {
    auto put = this->store().put("fast", "v" + std::to_string(i));
    ASSERT_OK(put);
    put_ids.push_back(put->version_id);
  }
  EXPECT_EQ(std::set<std::string>(put_ids.begin(), put_ids.end()).size(), put_ids.size());
  std::reverse(put_ids.begin(), put_ids.end());
  EXPECT_EQ(this->version_ids("fast"), put_ids) << "newest first";
  for (std::size_t i = 0; i < put_ids.size(); ++i)
    EXPECT_EQ(this->store().get_version("fast", put_ids[i])->data, "v" + std::to_string(put_ids.size() - 1 - i));
}

TYPED_TEST(ObjectStoreConformance, Versions_Erase_LeavesADeleteMarkerOnTop_OldVersionsStayReadable) {
  auto put1 = this->store().put("k", "v1");
  ASSERT_OK(put1);
  auto put2 = this->store().put("k", "v2");
  ASSERT_OK(put2);
  auto erased = this->store().erase("k");
  ASSERT_OK(erased);
  EXPECT_TRUE(*erased);
  EXPECT_ERRC(this->store().get("k"), Errc::not_found);
  EXPECT_ERRC(this->store().head("k"), Errc::not_found);
  EXPECT_TRUE(this->keys().empty());

  const auto v = this->versions("k");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v[0].delete_marker);
  EXPECT_TRUE(v[0].is_latest);
  EXPECT_EQ(v[0].size, 0u);
  EXPECT_NE(v[0].version_id, put2->version_id);
  EXPECT_NE(v[0].version_id, put1->version_id);
  EXPECT_EQ(v[1].version_id, put2->version_id);
  EXPECT_FALSE(v[1].is_latest);
  EXPECT_EQ(v[2].version_id, put1->version_id);
  EXPECT_EQ(this->store().get_version("k", put1->version_id)->data, "v1");
  EXPECT_EQ(this->store().get_version("k", put2->version_id)->data, "v2");
  EXPECT_ERRC(this->store().get_version("k", v[0].version_id), Errc::not_found);  // a delete marker has no bytes

  // Erasing what is already erased, or never was, changes nothing: no second marker.
  auto again = this->store().erase("k");
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(this->versions("k").size(), 3u);
  auto never = this->store().erase("never/was");
  ASSERT_OK(never);
  EXPECT_FALSE(*never);
  EXPECT_TRUE(this->versions("never/was").empty());
  EXPECT_EQ(this->versioned_keys(), std::vector<std::string>{"k"});
}

TYPED_TEST(ObjectStoreConformance, Versions_EraseVersionOfTheDeleteMarker_BringsTheObjectBack) {
  auto put = this->store().put("restore/me", "precious");
  ASSERT_OK(put);
  ASSERT_TRUE(*this->store().erase("restore/me"));
  const auto v = this->versions("restore/me");
  ASSERT_EQ(v.size(), 2u);
  ASSERT_TRUE(v[0].delete_marker);
  auto removed = this->store().erase_version("restore/me", v[0].version_id);
  ASSERT_OK(removed);
  EXPECT_TRUE(*removed);
  EXPECT_EQ(this->data_of("restore/me"), "precious");
  EXPECT_EQ(this->store().head("restore/me")->version_id, put->version_id);
  EXPECT_EQ(this->keys(), std::vector<std::string>{"restore/me"});
  const auto after = this->versions("restore/me");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].version_id, put->version_id);
  EXPECT_TRUE(after[0].is_latest);
  EXPECT_FALSE(after[0].delete_marker);
}

TYPED_TEST(ObjectStoreConformance, Versions_EraseVersionOfTheCurrent_MakesThePreviousCurrent) {
  PutOptions o;
  o.metadata = {{"n", "1"}};
  auto put1 = this->store().put("k", "v1", o);
  ASSERT_OK(put1);
  auto head1 = this->store().head("k");
  ASSERT_OK(head1);
  auto put2 = this->store().put("k", "v2");
  ASSERT_OK(put2);
  auto removed = this->store().erase_version("k", put2->version_id);
  ASSERT_OK(removed);
  EXPECT_TRUE(*removed);
  auto got = this->store().get("k");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, "v1");
  expect_same_info(got->info, *head1);
  EXPECT_EQ(this->version_ids("k"), std::vector<std::string>{put1->version_id});
  EXPECT_TRUE(this->versions("k")[0].is_latest);
  EXPECT_ERRC(this->store().get_version("k", put2->version_id), Errc::not_found);
  auto twice = this->store().erase_version("k", put2->version_id);
  ASSERT_OK(twice);
  EXPECT_FALSE(*twice);

  // A noncurrent one goes without touching the current one.
  auto put3 = this->store().put("k", "v3");
  ASSERT_OK(put3);
  ASSERT_TRUE(*this->store().erase_version("k", put1->version_id));
  EXPECT_EQ(this->data_of("k"), "v3");
  EXPECT_EQ(this->version_ids("k"), std::vector<std::string>{put3->version_id});
}

TYPED_TEST(ObjectStoreConformance, Versions_EraseVersionOfEveryVersion_RemovesTheKeyForGood) {
  for (const char* k : {"a/k", "a/k/below", "a/k2"}) ASSERT_OK(this->store().put(k, k));
  ASSERT_OK(this->store().put("a/k", "second"));
  ASSERT_TRUE(*this->store().erase("a/k"));
  const auto ids = this->version_ids("a/k");
  ASSERT_EQ(ids.size(), 3u);
  // Oldest first: each removal but the last leaves a current state behind.
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    auto removed = this->store().erase_version("a/k", *it);
    ASSERT_OK(removed);
    EXPECT_TRUE(*removed) << *it;
  }
  EXPECT_TRUE(this->versions("a/k").empty());
  EXPECT_ERRC(this->store().get("a/k"), Errc::not_found);
  EXPECT_EQ(this->keys(), (std::vector<std::string>{"a/k/below", "a/k2"}));
  EXPECT_EQ(this->versioned_keys(), (std::vector<std::string>{"a/k/below", "a/k2"}));
  for (const auto& id : ids) EXPECT_ERRC(this->store().get_version("a/k", id), Errc::not_found);
  EXPECT_EQ(this->data_of("a/k/below"), "a/k/below");

  // The key starts afresh.
  auto put = this->store().put("a/k", "new life");
  ASSERT_OK(put);
  EXPECT_EQ(this->version_ids("a/k"), std::vector<std::string>{put->version_id});
}

TYPED_TEST(ObjectStoreConformance, Versions_ListVersions_Paginates_NewestFirst_EachVersionOnce) {
  std::vector<std::string> want;
  for (int i = 0; i < 5; ++i) {
    auto put = this->store().put("paged", "v" + std::to_string(i));
    ASSERT_OK(put);
    want.insert(want.begin(), put->version_id);
  }
  std::vector<std::string> got;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page = this->store().list_versions("paged", 2, after);
    ASSERT_OK(page);
    ASSERT_LT(++pages, 10);
    EXPECT_LE(page->entries.size(), 2u);
    for (const auto& e : page->entries) {
      got.push_back(e.version_id);
      EXPECT_EQ(e.is_latest, got.size() == 1) << "only the newest is the latest";
    }
    if (!page->truncated) {
      EXPECT_TRUE(page->next_after_version.empty());
      break;
    }
    EXPECT_EQ(page->entries.size(), 2u) << "a truncated page must be full";
    EXPECT_EQ(page->next_after_version, page->entries.back().version_id);
    after = page->next_after_version;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 3);

  auto full = this->store().list_versions("paged", 5);
  ASSERT_OK(full);
  EXPECT_EQ(full->entries.size(), 5u);
  EXPECT_FALSE(full->truncated) << "a full last page is not truncated";
  auto four = this->store().list_versions("paged", 4);
  ASSERT_OK(four);
  EXPECT_TRUE(four->truncated);
  auto past_the_oldest = this->store().list_versions("paged", 10, want.back());
  ASSERT_OK(past_the_oldest);
  EXPECT_TRUE(past_the_oldest->entries.empty());
  EXPECT_FALSE(past_the_oldest->truncated);
  auto from_the_middle = this->store().list_versions("paged", 10, want[2]);
  ASSERT_OK(from_the_middle);
  ASSERT_EQ(from_the_middle->entries.size(), 2u);
  EXPECT_EQ(from_the_middle->entries[0].version_id, want[3]);
}

TYPED_TEST(ObjectStoreConformance, Versions_ListVersions_OnlyThatKey) {
  for (const char* k : {"p", "p/q", "p0", "pp"}) ASSERT_OK(this->store().put(k, k));
  ASSERT_OK(this->store().put("p", "again"));
  EXPECT_EQ(this->versions("p").size(), 2u);
  EXPECT_EQ(this->versions("p/q").size(), 1u);
  EXPECT_ERRC(this->store().list_versions("p/"), Errc::invalid_argument);
  EXPECT_TRUE(this->versions("absent").empty());
}

TYPED_TEST(ObjectStoreConformance, Versions_RejectBadArguments_AndReportUnknownVersions) {
  auto put = this->store().put("k", "v");
  ASSERT_OK(put);
  for (const std::string& bad : {std::string(), std::string("a/b"), std::string("a b"), std::string("a#b"),
                                 std::string(129, 'v'), std::string("caf\xc3\xa9")}) {
    SCOPED_TRACE(bad);
    EXPECT_ERRC(this->store().get_version("k", bad), Errc::invalid_argument);
    EXPECT_ERRC(this->store().erase_version("k", bad), Errc::invalid_argument);
    if (!bad.empty()) EXPECT_ERRC(this->store().list_versions("k", 10, bad), Errc::invalid_argument);
  }
  for (const auto& [key, rule] : bad_keys()) {
    SCOPED_TRACE(rule);
    EXPECT_ERRC(this->store().list_versions(key), Errc::invalid_argument);
    EXPECT_ERRC(this->store().get_version(key, put->version_id), Errc::invalid_argument);
    EXPECT_ERRC(this->store().erase_version(key, put->version_id), Errc::invalid_argument);
  }
  EXPECT_ERRC(this->store().list_versions("k", 0), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list_versions("k", cartorio::objectstore::kMaxListLimit + 1), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list_versioned_keys("", 0), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list_versioned_keys("a b"), Errc::invalid_argument);

  // Well-formed ids that name no version: not found (get), false (erase), not_found (list after).
  auto put2 = this->store().put("k", "v2");
  ASSERT_OK(put2);
  ASSERT_TRUE(*this->store().erase_version("k", put2->version_id));
  for (const std::string& unknown : {put2->version_id, std::string("nosuchversion")}) {
    SCOPED_TRACE(unknown);
    EXPECT_ERRC(this->store().get_version("k", unknown), Errc::not_found);
    auto removed = this->store().erase_version("k", unknown);
    ASSERT_OK(removed);
    EXPECT_FALSE(*removed);
    EXPECT_ERRC(this->store().list_versions("k", 10, unknown), Errc::not_found);
  }
  EXPECT_ERRC(this->store().get_version("other", put->version_id), Errc::not_found);
  EXPECT_ERRC(this->store().list_versions("other", 10, put->version_id), Errc::not_found);
  auto other = this->store().erase_version("other", put->version_id);
  ASSERT_OK(other);
  EXPECT_FALSE(*other);
  EXPECT_EQ(this->data_of("k"), "v") << "nothing else changed";
  EXPECT_EQ(this->version_ids("k"), std::vector<std::string>{put->version_id});
}

TYPED_TEST(ObjectStoreConformance, Versions_PutIfAbsent_SeesAnErasedKeyAsAbsent_AndKeepsItsHistory) {
  ASSERT_TRUE(*this->store().put_if_absent("once", "first"));
  ASSERT_TRUE(*this->store().erase("once"));
  auto again = this->store().put_if_absent("once", "second");
  ASSERT_OK(again);
  EXPECT_TRUE(*again) << "a delete marker on top is no current object";
  EXPECT_EQ(this->data_of("once"), "second");
  const auto v = this->versions("once");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v[0].is_latest);
  EXPECT_FALSE(v[0].delete_marker);
  EXPECT_TRUE(v[1].delete_marker);
  EXPECT_FALSE(v[2].delete_marker);
  EXPECT_EQ(this->store().get_version("once", v[2].version_id)->data, "first");
  auto taken = this->store().put_if_absent("once", "third");
  ASSERT_OK(taken);
  EXPECT_FALSE(*taken);
  EXPECT_EQ(this->versions("once").size(), 3u) << "a refused put_if_absent leaves no version";
}

TYPED_TEST(ObjectStoreConformance, Versions_ListVersionedKeys_IncludesErasedKeys_ListDoesNot) {
  ASSERT_OK(this->store().put("a", "aaa"));
  ASSERT_OK(this->store().put("b", "bbbb"));
  ASSERT_OK(this->store().put("c/d", "cd"));
  ASSERT_OK(this->store().put("c/e", "ce"));
  ASSERT_TRUE(*this->store().erase("b"));
  ASSERT_TRUE(*this->store().erase("c/d"));
  EXPECT_EQ(this->keys(), (std::vector<std::string>{"a", "c/e"}));
  EXPECT_EQ(this->versioned_keys(), (std::vector<std::string>{"a", "b", "c/d", "c/e"}));
  EXPECT_EQ(this->versioned_keys("c/"), (std::vector<std::string>{"c/d", "c/e"}));
  EXPECT_EQ(this->versioned_keys("", 1000, "b"), (std::vector<std::string>{"c/d", "c/e"}));

  auto page = this->store().list_versioned_keys();
  ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 4u);
  EXPECT_EQ(page->entries[0].size, 3u);
  EXPECT_EQ(page->entries[0].last_modified, this->store().head("a")->last_modified);
  EXPECT_EQ(page->entries[1].key, "b");
  EXPECT_EQ(page->entries[1].size, 0u) << "a deleted key: its delete marker's size";
  EXPECT_EQ(page->entries[1].last_modified, this->versions("b")[0].last_modified);

  // Pages like list().
  std::vector<std::string> paged;
  std::string after;
  for (int n = 0; n < 10; ++n) {
    auto p = this->store().list_versioned_keys("", 3, after);
    ASSERT_OK(p);
    for (const auto& e : p->entries) paged.push_back(e.key);
    if (!p->truncated) break;
    EXPECT_EQ(p->next_start_after, p->entries.back().key);
    after = p->next_start_after;
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"a", "b", "c/d", "c/e"}));
}

TYPED_TEST(ObjectStoreConformance, Versions_SurviveReopening) {
  auto put1 = this->store().put("kept/doc", "v1");
  ASSERT_OK(put1);
  ASSERT_OK(this->store().put("kept/doc", "v2"));
  ASSERT_TRUE(*this->store().erase("kept/doc"));
  const auto before = this->versions("kept/doc");
  this->m_store.reset();
  auto reopened = this->m_backend.open();
  ASSERT_OK(reopened);
  this->m_store = std::move(reopened).value();
  const auto after = this->versions("kept/doc");
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].version_id, before[i].version_id);
    EXPECT_EQ(after[i].is_latest, before[i].is_latest);
    EXPECT_EQ(after[i].delete_marker, before[i].delete_marker);
    EXPECT_EQ(after[i].size, before[i].size);
    EXPECT_EQ(after[i].last_modified, before[i].last_modified);
  }
  EXPECT_EQ(this->store().get_version("kept/doc", put1->version_id)->data, "v1");
  EXPECT_ERRC(this->store().get("kept/doc"), Errc::not_found);
}

TYPED_TEST(ObjectStoreConformance, Versions_ConcurrentPutsToOneKey_KeepEveryVersion) {
  constexpr int kThreads = 4, kEach = 5;
  std::latch start(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::vector<std::pair<std::string, std::string>>> made(kThreads);  // (id, data) per thread
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        const std::string data = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto put = this->store().put("contended", data);
        if (!put) {
          ++failures;
          continue;
        }
        made[t].emplace_back(put->version_id, data);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  const auto v = this->versions("contended");
  ASSERT_EQ(v.size(), static_cast<std::size_t>(kThreads * kEach)) << "no put replaced another's version";
  EXPECT_TRUE(v[0].is_latest);
  EXPECT_EQ(v[0].version_id, this->store().head("contended")->version_id);
  for (int t = 0; t < kThreads; ++t) {
    std::vector<std::size_t> positions;  // a thread's puts are listed in its own order
    for (const auto& [id, data] : made[t]) {
      EXPECT_EQ(this->store().get_version("contended", id)->data, data);
      const auto it = std::find_if(v.begin(), v.end(), [&](const auto& e) { return e.version_id == id; });
      ASSERT_NE(it, v.end());
      positions.push_back(static_cast<std::size_t>(it - v.begin()));
    }
    EXPECT_TRUE(std::is_sorted(positions.rbegin(), positions.rend())) << "thread " << t;
  }
}

TYPED_TEST(ObjectStoreConformance, Versions_AVersionNeverErased_StaysReadableById_WhileOthersComeAndGo) {
  // The writer makes the base version noncurrent and current again, over and over (a put
  // then erase_version of it; an erase then erase_version of its marker): readers by id,
  // and listings, must find the base version every time.
  auto base = this->store().put("moving", "base");
  ASSERT_OK(base);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      for (int n = 0; !done || n < 5; ++n) {
        ++reads;
        if (r == 0) {
          auto got = this->store().get_version("moving", base->version_id);
          if (!got || got->data != "base" || got->info.version_id != base->version_id) ++bad;
        } else {
          auto page = this->store().list_versions("moving");
          if (!page || std::none_of(page->entries.begin(), page->entries.end(),
                                    [&](const VersionEntry& e) { return e.version_id == base->version_id; }))
            ++bad;
        }
      }
    });
  }
  int write_errors = 0;
  for (int i = 0; i < 30; ++i) {
    if (i % 2 == 0) {
      auto put = this->store().put("moving", "round " + std::to_string(i));
      if (!put || !this->store().erase_version("moving", put->version_id)) ++write_errors;
    } else {
      auto erased = this->store().erase("moving");
      auto page = this->store().list_versions("moving", 1);
      if (!erased || !page || page->entries.empty() || !page->entries[0].delete_marker ||
          !this->store().erase_version("moving", page->entries[0].version_id))
        ++write_errors;
    }
  }
  done = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(write_errors, 0);
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_EQ(this->version_ids("moving"), std::vector<std::string>{base->version_id});
}

// --- limits and health ------------------------------------------------------------------

TYPED_TEST(ObjectStoreConformance, SizeLimit_RejectsLargerObjects_ChangingNothing) {
  auto small = this->m_backend.open(OpenOptions{1024});
  ASSERT_OK(small);
  ObjectStore& store = **small;
  ASSERT_OK(store.put("fits", std::string(1024, 'x')));
  EXPECT_ERRC(store.put("too-big", std::string(1025, 'x')), Errc::invalid_argument);
  EXPECT_ERRC(store.put_if_absent("too-big", std::string(1025, 'x')), Errc::invalid_argument);
  EXPECT_ERRC(store.put("fits", std::string(4096, 'y')), Errc::invalid_argument);
  EXPECT_EQ(store.get("fits")->data, std::string(1024, 'x')) << "a refused replace keeps the old object";
  EXPECT_ERRC(store.get("too-big"), Errc::not_found);
}

TYPED_TEST(ObjectStoreConformance, Check_Succeeds_AndNamesTheBackend) {
  ASSERT_OK(this->store().check());
  EXPECT_EQ(this->store().backend_name(), TypeParam::kBackendName);
}

}  // namespace
