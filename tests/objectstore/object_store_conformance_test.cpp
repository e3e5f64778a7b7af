// One behaviour suite for objectstore::ObjectStore, run on every backend (the filesystem
// for now; S3 joins with one line in `Backends`). A backend is correct when it passes all
// of it. What only one backend can show (its layout on disk, symbolic links planted in
// its root) lives in that backend's own test file.
#include "objectstore/object_store.h"

#include "object_store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cartorio::core::Errc;
using cartorio::objectstore::ListPage;
using cartorio::objectstore::ObjectStore;
using cartorio::objectstore::PutOptions;
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

  Backend m_backend;  // declared first: outlives the stores opened on it
  std::unique_ptr<ObjectStore> m_store;
};

std::string every_byte() {
  std::string s;
  for (int round = 0; round < 4; ++round)
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

}  // namespace

// Global names so CTest lists cases as ObjectStoreConformance/<Backend>.<Case>.
class Filesystem : public cartorio::objectstore_test::FilesystemBackend {};

namespace {

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    return "Filesystem";
  }
};
using Backends = ::testing::Types<Filesystem>;
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
  EXPECT_LE(put->last_modified, after);
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
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      // At least a few reads each, even if the writer finishes first.
      for (int n = 0; !done || n < 5; ++n) {
        auto got = this->store().get("hot");
        ++reads;
        if (!got || (got->data != a && got->data != b) || got->info.etag != cartorio::objectstore::etag_of(got->data))
          ++bad;
      }
    });
  }
  int write_errors = 0;
  for (int i = 0; i < 40; ++i)
    if (!this->store().put("hot", i % 2 ? a : b)) ++write_errors;
  done = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(write_errors, 0);
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
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
        // Erasing empties the shared directory now and then, racing the others' puts.
        if (i % 2 == 0 && !this->store().erase(k)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->keys("shared/").size(), static_cast<std::size_t>(kThreads * kEach / 2));
  for (const auto& k : this->keys("shared/")) EXPECT_EQ(this->data_of(k), k);
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
