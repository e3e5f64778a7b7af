// The document repository of store::Store (flow 1's records), one behaviour suite run on
// SQLite and on the fixture's PostgreSQL.
#include "store/store.h"

#include "store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <set>
#include <thread>
#include <tuple>

namespace {

using cartorio::core::Errc;
using cartorio::store::AuditEvent;
using cartorio::store::AuditFilter;
using cartorio::store::DocumentCursor;
using cartorio::store::DocumentFilter;
using cartorio::store::DocumentRecord;
using cartorio::store::DocumentTokens;
using cartorio::store::Store;
using cartorio::store_test::make_cert;
using cartorio::store_test::PostgresBackend;
using cartorio::store_test::SqliteBackend;

// A digest made of one repeated hex digit, so tests read which document holds which.
std::string digest(char c) { return std::string(64, c); }

DocumentRecord make_document(const std::string& id, const std::string& owner = "user:alice",
                             std::int64_t created_at = 1000) {
  DocumentRecord d;
  d.id = id;
  d.owner = owner;
  d.title = "Contrato " + id;
  d.original_sha256 = digest('a');
  d.signed_sha256 = digest('b');
  d.signed_size = 4096;
  d.object_key = "documents/" + id + ".pdf";
  d.signer_serial = "d0c1";
  d.level = "B-LT";
  d.created_at = created_at;
  return d;
}

AuditEvent sign_event(const std::string& document_id, std::int64_t time = 1000) {
  AuditEvent e;
  e.time = time;
  e.actor = "user:alice";
  e.action = "document.sign";
  e.target = document_id;
  e.result = "success";
  e.source = "127.0.0.1";
  e.request_id = "req-" + document_id;
  e.details = R"({"level":"B-LT"})";
  return e;
}

void expect_same(const DocumentRecord& a, const DocumentRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.original_sha256, b.original_sha256);
  EXPECT_EQ(a.signed_sha256, b.signed_sha256);
  EXPECT_EQ(a.signed_size, b.signed_size);
  EXPECT_EQ(a.object_key, b.object_key);
  EXPECT_EQ(a.signer_serial, b.signer_serial);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.signer_cpf, b.signer_cpf);
  EXPECT_EQ(a.signer_cpf_index, b.signer_cpf_index);
  EXPECT_EQ(a.signer_name, b.signer_name);
  EXPECT_EQ(a.signer_email, b.signer_email);
  EXPECT_EQ(a.signer_email_index, b.signer_email_index);
}

// Stand-ins for what the documents domain seals: the store treats them as opaque text.
DocumentRecord with_signatory(DocumentRecord d, const std::string& who) {
  d.signer_cpf = "pii1.dk-1.cpf-" + who + "-" + d.id;
  d.signer_cpf_index = "idx-cpf-" + who;
  d.signer_name = "pii1.dk-1.name-" + who + "-" + d.id;
  d.signer_email = "pii1.dk-1.email-" + who + "-" + d.id;
  d.signer_email_index = "idx-email-" + who;
  return d;
}

std::vector<std::string> ids(const std::vector<DocumentRecord>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.id);
  return out;
}

template <class Backend>
class DocumentStoreConformance : public cartorio::store_test::StoreFixture<Backend> {
 protected:
  using cartorio::store_test::StoreFixture<Backend>::store;
  void SetUp() override {
    cartorio::store_test::StoreFixture<Backend>::SetUp();
    if (::testing::Test::HasFatalFailure()) return;
    // The per-document certificate every document references.
    ASSERT_OK(store().insert_certificate(make_cert("d0c1")));
  }

  std::vector<AuditEvent> audit_events() {
    AuditFilter f;
    f.limit = 1000;
    auto r = store().list_audit_events(f);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::vector<AuditEvent>{};
  }

  std::vector<std::string> listed(const DocumentFilter& f) {
    auto r = store().list_documents(f);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? ids(*r) : std::vector<std::string>{"<error>"};
  }

  // Nothing of a failed insert may remain: no row, no event.
  void expect_nothing_written(const std::string& id) {
    EXPECT_ERRC(store().get_document(id), Errc::not_found);
    EXPECT_TRUE(listed(DocumentFilter{}).empty());
    EXPECT_TRUE(audit_events().empty());
  }

  // Seven documents of two owners; three share created_at 2000, so the id tie-break counts.
  void seed_documents() {
    const std::pair<const char*, std::int64_t> alice[] = {
        {"doc_a1", 1000}, {"doc_a2", 2000}, {"doc_a4", 2000}, {"doc_a5", 4000}};
    const std::pair<const char*, std::int64_t> bob[] = {{"doc_b3", 2000}, {"doc_b6", 3000}, {"doc_b7", 5000}};
    for (auto [id, t] : alice) ASSERT_OK(store().insert_document(make_document(id, "user:alice", t), sign_event(id, t)));
    for (auto [id, t] : bob) ASSERT_OK(store().insert_document(make_document(id, "user:bob", t), sign_event(id, t)));
  }

};

}  // namespace

// Global names so CTest lists cases as DocumentStoreConformance/<n>.<Case>; the same
// definitions as in store_conformance_test.cpp.
class Sqlite : public SqliteBackend {};
class Postgres : public PostgresBackend {};

namespace {

// NOTE: tests/store/CMakeLists.txt selects the PostgreSQL cases as
// DocumentStoreConformance/1.*: keep Postgres second.
using Backends = ::testing::Types<Sqlite, Postgres>;
TYPED_TEST_SUITE(DocumentStoreConformance, Backends);

// --- insert and get ------------------------------------------------------------------------

TYPED_TEST(DocumentStoreConformance, RoundTrips_EveryDocumentField) {
  DocumentRecord d = make_document("doc_abcdefghijklmnopqrstuvwxyz");
  d.title = "Escritura p\xc3\xba" "blica \xe2\x80\x94 Jo\xc3\xa3o";
  d.original_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  d.signed_sha256 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
  d.signed_size = 5'000'000'000;  // beyond 32 bits
  d.level = "B-LTA";
  d.created_at = 1'700'000'123;
  ASSERT_OK(this->store().insert_document(d, sign_event(d.id)));

  auto got = this->store().get_document(d.id);
  ASSERT_TRUE(got) << got.error().to_string();
  expect_same(*got, d);
}

// The documents.unfinished job's query: per-document certificates no document names.
TYPED_TEST(DocumentStoreConformance, ListsCertificatesWithoutADocument_RecordedBeforeATime) {
  auto cert = [](const std::string& serial, std::int64_t created_at) {
    auto c = make_cert(serial);
    c.issuer = "document";
    c.profile = "document-signing";
    c.created_at = created_at;
    return c;
  };
  // d0c1 (SetUp, created_at 1) signs doc_a; d0c2 and d0c3 sign nothing; d0c4 is too recent;
  // d0c5 signs nothing but is revoked.
  ASSERT_OK(this->store().insert_document(make_document("doc_a"), sign_event("doc_a")));
  ASSERT_OK(this->store().insert_certificate(cert("d0c2", 500)));
  ASSERT_OK(this->store().insert_certificate(cert("d0c3", 900)));
  ASSERT_OK(this->store().insert_certificate(cert("d0c4", 2000)));
  ASSERT_OK(this->store().insert_certificate(cert("d0c5", 600)));
  ASSERT_OK(this->store().revoke_certificate("d0c5", 5, 700));

  cartorio::store::CertificateFilter f;
  f.without_document = true;
  f.created_before = 1000;
  f.status = cartorio::store::CertificateStatus::good;
  auto got = this->store().list_certificates(f);
  ASSERT_OK(got);
  std::vector<std::string> serials;
  for (const auto& c : *got) serials.push_back(c.serial);
  std::sort(serials.begin(), serials.end());
  EXPECT_EQ(serials, (std::vector<std::string>{"d0c2", "d0c3"}));

  f.created_before.reset();
  got = this->store().list_certificates(f);
  ASSERT_OK(got);
  EXPECT_EQ(got->size(), 3u) << "without the time bound d0c4 too";
  f.without_document = false;
  got = this->store().list_certificates(f);
  ASSERT_OK(got);
  EXPECT_EQ(got->size(), 4u) << "and d0c1, which signs doc_a";
}

TYPED_TEST(DocumentStoreConformance, AcceptsEveryPadesLevel_AndAnEmptyTitle) {
  int n = 0;
  for (const char* level : {"B-B", "B-T", "B-LT", "B-LTA"}) {
    DocumentRecord d = make_document("doc_level" + std::to_string(++n));
    d.level = level;
    d.title = "";
    ASSERT_OK(this->store().insert_document(d, sign_event(d.id)));
    auto got = this->store().get_document(d.id);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->level, level);
  }
}

TYPED_TEST(DocumentStoreConformance, ReturnsNotFound_ForUnknownId) {
  EXPECT_ERRC(this->store().get_document("doc_nope"), Errc::not_found);
  EXPECT_ERRC(this->store().get_document(""), Errc::not_found);
}

TYPED_TEST(DocumentStoreConformance, WritesTheAuditEvent_WithTheDocument) {
  // An event appended on its own before and after: document events share one id sequence.
  AuditEvent before = sign_event("x");
  before.action = "user.login";
  ASSERT_OK(this->store().append_audit_event(before));
  ASSERT_OK(this->store().insert_document(make_document("doc_1"), sign_event("doc_1", 1234)));
  ASSERT_OK(this->store().append_audit_event(before));

  auto events = this->audit_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_LT(events[0].id, events[1].id);
  EXPECT_LT(events[1].id, events[2].id);
  const AuditEvent& e = events[1];
  const AuditEvent want = sign_event("doc_1", 1234);
  EXPECT_EQ(e.time, want.time);
  EXPECT_EQ(e.actor, want.actor);
  EXPECT_EQ(e.action, want.action);
  EXPECT_EQ(e.target, "doc_1");
  EXPECT_EQ(e.result, want.result);
  EXPECT_EQ(e.source, want.source);
  EXPECT_EQ(e.request_id, want.request_id);
  EXPECT_EQ(e.details, want.details);
}

// --- atomicity: both or neither --------------------------------------------------------------

TYPED_TEST(DocumentStoreConformance, RollsBackTheDocument_WhenTheAuditInsertFails) {
  // The document row goes in first; the event then fails inside the same transaction
  // (text with a NUL byte is refused on every engine), and the row must go with it.
  AuditEvent bad = sign_event("doc_1");
  bad.details = std::string("{\"a\":\"\0\"}", 9);
  EXPECT_ERRC(this->store().insert_document(make_document("doc_1"), bad), Errc::invalid_argument);
  this->expect_nothing_written("doc_1");

  AuditEvent no_actor = sign_event("doc_1");
  no_actor.actor.clear();
  EXPECT_ERRC(this->store().insert_document(make_document("doc_1"), no_actor), Errc::invalid_argument);
  this->expect_nothing_written("doc_1");

  // The connection is clean afterwards: the same insert with a good event succeeds.
  ASSERT_OK(this->store().insert_document(make_document("doc_1"), sign_event("doc_1")));
  EXPECT_EQ(this->audit_events().size(), 1u);
}

TYPED_TEST(DocumentStoreConformance, Rejects_DuplicateId_KeepingFirstRowAndItsEventOnly) {
  DocumentRecord first = make_document("doc_dup");
  ASSERT_OK(this->store().insert_document(first, sign_event("doc_dup")));
  DocumentRecord second = make_document("doc_dup", "user:mallory", 9999);
  second.title = "impostor";
  AuditEvent second_event = sign_event("doc_dup");
  second_event.actor = "user:mallory";

  EXPECT_ERRC(this->store().insert_document(second, second_event), Errc::already_exists);

  auto got = this->store().get_document("doc_dup");
  ASSERT_TRUE(got) << got.error().to_string();
  expect_same(*got, first);
  auto events = this->audit_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "user:alice");
}

TYPED_TEST(DocumentStoreConformance, AcceptsOneOfConcurrentInserts_OfSameId_WithOneEvent) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> ok{0}, duplicate{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      DocumentRecord d = make_document("doc_race");
      d.title = "writer " + std::to_string(i);
      start.arrive_and_wait();
      auto r = this->store().insert_document(d, sign_event(d.id));
      if (r) ++ok;
      else if (r.error().code == Errc::already_exists) ++duplicate;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(duplicate.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(this->audit_events().size(), 1u);
}

TYPED_TEST(DocumentStoreConformance, Rejects_SignerWithoutCertificate_WithoutWriting) {
  DocumentRecord d = make_document("doc_1");
  d.signer_serial = "abc";  // well-formed, never recorded
  EXPECT_ERRC(this->store().insert_document(d, sign_event(d.id)), Errc::invalid_argument);
  this->expect_nothing_written("doc_1");
}

TYPED_TEST(DocumentStoreConformance, Rejects_InvalidRecords_WithoutWriting) {
  struct Case {
    const char* name;
    void (*spoil)(DocumentRecord&);
    Errc code;
  };
  const Case cases[] = {
      {"empty id", [](DocumentRecord& d) { d.id.clear(); }, Errc::invalid_argument},
      {"empty owner", [](DocumentRecord& d) { d.owner.clear(); }, Errc::invalid_argument},
      {"empty object key", [](DocumentRecord& d) { d.object_key.clear(); }, Errc::invalid_argument},
      {"uppercase digest", [](DocumentRecord& d) { d.signed_sha256 = std::string(64, 'B'); }, Errc::invalid_argument},
      {"short digest", [](DocumentRecord& d) { d.original_sha256 = std::string(63, 'a'); }, Errc::invalid_argument},
      {"non-hex digest", [](DocumentRecord& d) { d.original_sha256 = std::string(64, 'g'); }, Errc::invalid_argument},
      {"negative size", [](DocumentRecord& d) { d.signed_size = -1; }, Errc::invalid_argument},
      {"unknown level", [](DocumentRecord& d) { d.level = "B-X"; }, Errc::invalid_argument},
      {"lowercase level", [](DocumentRecord& d) { d.level = "b-lt"; }, Errc::invalid_argument},
      {"malformed serial", [](DocumentRecord& d) { d.signer_serial = "0D0C1"; }, Errc::invalid_serial},
      {"NUL in title", [](DocumentRecord& d) { d.title = std::string("a\0b", 3); }, Errc::invalid_argument},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    DocumentRecord d = make_document("doc_bad");
    c.spoil(d);
    EXPECT_ERRC(this->store().insert_document(d, sign_event(d.id)), c.code);
  }
  this->expect_nothing_written("doc_bad");
}

// --- lookups by digest ---------------------------------------------------------------------------

TYPED_TEST(DocumentStoreConformance, FindsByOriginalOrSignedDigest_NewestFirst) {
  DocumentRecord one = make_document("doc_1", "user:alice", 1000);
  one.original_sha256 = digest('1');
  one.signed_sha256 = digest('2');
  DocumentRecord two = make_document("doc_2", "user:bob", 3000);
  two.original_sha256 = digest('1');  // the same PDF signed again
  two.signed_sha256 = digest('3');
  DocumentRecord three = make_document("doc_3", "user:bob", 2000);
  three.original_sha256 = digest('2');  // a signed PDF signed once more
  three.signed_sha256 = digest('4');
  for (const auto* d : {&one, &two, &three}) ASSERT_OK(this->store().insert_document(*d, sign_event(d->id)));

  auto by = [&](const std::string& hex) {
    auto r = this->store().find_documents_by_digest(hex);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? ids(*r) : std::vector<std::string>{"<error>"};
  };
  EXPECT_EQ(by(digest('1')), (std::vector<std::string>{"doc_2", "doc_1"}));
  EXPECT_EQ(by(digest('2')), (std::vector<std::string>{"doc_3", "doc_1"}));  // signed of one, original of three
  EXPECT_EQ(by(digest('3')), (std::vector<std::string>{"doc_2"}));
  EXPECT_EQ(by(digest('9')), (std::vector<std::string>{}));
  // Upper-case input (as some tools print digests) finds the lowercase record.
  DocumentRecord hexy = make_document("doc_4", "user:alice", 4000);
  hexy.signed_sha256 = digest('c');
  ASSERT_OK(this->store().insert_document(hexy, sign_event(hexy.id)));
  EXPECT_EQ(by(std::string(64, 'C')), (std::vector<std::string>{"doc_4"}));

  auto got = this->store().find_documents_by_digest(digest('1'));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  expect_same((*got)[0], two);
}

TYPED_TEST(DocumentStoreConformance, Rejects_MalformedDigestLookup) {
  for (const std::string& bad : {std::string(), std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'g'),
                                 std::string(62, 'a') + "'", std::string(64, ' ')})
    EXPECT_ERRC(this->store().find_documents_by_digest(bad), Errc::invalid_argument);
}

// --- listing -----------------------------------------------------------------------------------------

TYPED_TEST(DocumentStoreConformance, Lists_NewestFirst_TiesByIdDescending) {
  this->seed_documents();
  EXPECT_EQ(this->listed(DocumentFilter{}),
            (std::vector<std::string>{"doc_b7", "doc_a5", "doc_b6", "doc_b3", "doc_a4", "doc_a2", "doc_a1"}));
}

TYPED_TEST(DocumentStoreConformance, Lists_ByOwner) {
  this->seed_documents();
  DocumentFilter f;
  f.owner = "user:alice";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_a5", "doc_a4", "doc_a2", "doc_a1"}));
  f.owner = "user:bob";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_b7", "doc_b6", "doc_b3"}));
  f.owner = "user:nobody";
  EXPECT_TRUE(this->listed(f).empty());
  f.owner = "USER:ALICE";  // owners are exact principal subjects
  EXPECT_TRUE(this->listed(f).empty());
}

TYPED_TEST(DocumentStoreConformance, Paginates_WithCursor_AcrossEqualTimes) {
  this->seed_documents();
  for (std::optional<std::string> owner : {std::optional<std::string>{}, std::optional<std::string>{"user:alice"}}) {
    for (int limit : {1, 2, 3}) {
      SCOPED_TRACE("owner " + owner.value_or("*") + ", limit " + std::to_string(limit));
      DocumentFilter whole;
      whole.owner = owner;
      const auto expected = this->listed(whole);
      std::vector<std::string> paged;
      DocumentFilter f;
      f.owner = owner;
      f.limit = limit;
      for (int guard = 0; guard < 20; ++guard) {
        auto page = this->store().list_documents(f);
        ASSERT_TRUE(page) << page.error().to_string();
        EXPECT_LE(page->size(), static_cast<std::size_t>(limit));
        if (page->empty()) break;
        for (const auto& d : *page) paged.push_back(d.id);
        f.after = DocumentCursor{page->back().created_at, page->back().id};
      }
      EXPECT_EQ(paged, expected);
    }
  }
}

TYPED_TEST(DocumentStoreConformance, Paginates_FromACursorOfAnyRecord) {
  this->seed_documents();
  DocumentFilter f;
  f.after = DocumentCursor{2000, "doc_a4"};  // in the middle of the three at 2000
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_a2", "doc_a1"}));
  f.after = DocumentCursor{2000, "doc_zz"};  // need not exist: it is a position, not a row
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_b3", "doc_a4", "doc_a2", "doc_a1"}));
  f.after = DocumentCursor{1000, "doc_a1"};
  EXPECT_TRUE(this->listed(f).empty());
}

TYPED_TEST(DocumentStoreConformance, Rejects_InvalidLimit) {
  for (int bad : {0, -1, 10001}) {
    DocumentFilter f;
    f.limit = bad;
    EXPECT_ERRC(this->store().list_documents(f), Errc::invalid_argument);
  }
}

// --- the signatory's personal data (tokens and blind-index digests) ---------------------------

TYPED_TEST(DocumentStoreConformance, RoundTrips_SignatoryTokens_AndStoresAbsentOnesAsNull) {
  const DocumentRecord full = with_signatory(make_document("doc_full"), "ana");
  DocumentRecord cpf_only = make_document("doc_cpf", "user:alice", 1001);
  cpf_only.signer_cpf = "pii1.dk-1.only";
  cpf_only.signer_cpf_index = "idx-only";
  const DocumentRecord none = make_document("doc_none", "user:alice", 1002);
  const std::vector<const DocumentRecord*> all = {&full, &cpf_only, &none};
  for (const auto* d : all) ASSERT_OK(this->store().insert_document(*d, sign_event(d->id)));
  for (const auto* d : all) {
    auto got = this->store().get_document(d->id);
    ASSERT_TRUE(got) << got.error().to_string();
    expect_same(*got, *d);
  }
  // "Not given" is NULL, never '' (the compare-and-set and the lookups rely on it).
  auto dump = this->m_backend.query_cli(
      "SELECT id, COALESCE(signer_cpf, 'NULL'), COALESCE(signer_cpf_index, 'NULL'), COALESCE(signer_name, 'NULL'), "
      "COALESCE(signer_email, 'NULL'), COALESCE(signer_email_index, 'NULL') FROM documents ORDER BY id");
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out,
            "doc_cpf|pii1.dk-1.only|idx-only|NULL|NULL|NULL\n"
            "doc_full|pii1.dk-1.cpf-ana-doc_full|idx-cpf-ana|pii1.dk-1.name-ana-doc_full|pii1.dk-1.email-ana-doc_full|"
            "idx-email-ana\n"
            "doc_none|NULL|NULL|NULL|NULL|NULL\n");
}

TYPED_TEST(DocumentStoreConformance, Rejects_AnIndexWithoutItsToken_WithoutWriting) {
  DocumentRecord d = make_document("doc_bad");
  d.signer_cpf_index = "idx-cpf";
  EXPECT_ERRC(this->store().insert_document(d, sign_event(d.id)), Errc::invalid_argument);
  d = make_document("doc_bad");
  d.signer_email_index = "idx-email";
  EXPECT_ERRC(this->store().insert_document(d, sign_event(d.id)), Errc::invalid_argument);
  this->expect_nothing_written("doc_bad");
}

TYPED_TEST(DocumentStoreConformance, Lists_BySignerCpfIndex_NewestFirst_WithOwnerAndPaging) {
  const std::tuple<const char*, const char*, std::int64_t, const char*> docs[] = {
      {"doc_1", "user:alice", 1000, "ana"}, {"doc_2", "user:bob", 2000, "ana"}, {"doc_3", "user:alice", 3000, "rui"},
      {"doc_4", "user:alice", 4000, "ana"}, {"doc_5", "user:bob", 5000, nullptr}};
  for (const auto& [id, owner, t, who] : docs) {
    DocumentRecord d = make_document(id, owner, t);
    if (who) d = with_signatory(d, who);
    ASSERT_OK(this->store().insert_document(d, sign_event(id, t)));
  }
  DocumentFilter f;
  f.signer_cpf_index = "idx-cpf-ana";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_4", "doc_2", "doc_1"}));
  f.owner = "user:alice";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_4", "doc_1"}));
  f.owner.reset();
  f.limit = 2;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_4", "doc_2"}));
  f.after = DocumentCursor{2000, "doc_2"};
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_1"}));
  f = DocumentFilter{};
  f.signer_cpf_index = "idx-cpf-rui";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"doc_3"}));
  f.signer_cpf_index = "idx-cpf-nobody";
  EXPECT_TRUE(this->listed(f).empty());
  // The e-mail digest is another domain: it never matches as a CPF digest.
  f.signer_cpf_index = "idx-email-ana";
  EXPECT_TRUE(this->listed(f).empty());
  f.signer_cpf_index = "";
  EXPECT_ERRC(this->store().list_documents(f), Errc::invalid_argument);
}

TYPED_TEST(DocumentStoreConformance, PagesDocumentTokens_InIdOrder_SkippingRowsWithout) {
  // Inserted out of id order; doc_c has none; doc_e only a name.
  for (const char* id : {"doc_d", "doc_a", "doc_c", "doc_b", "doc_e"}) {
    DocumentRecord d = make_document(id);
    if (std::string(id) == "doc_e") d.signer_name = "pii1.dk-1.name-e";
    else if (std::string(id) != "doc_c") d = with_signatory(d, "x");
    ASSERT_OK(this->store().insert_document(d, sign_event(id)));
  }
  std::vector<std::string> seen;
  std::string after;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = this->store().list_document_tokens(after, 2);
    ASSERT_TRUE(page) << page.error().to_string();
    EXPECT_LE(page->size(), 2u);
    if (page->empty()) break;
    for (const auto& t : *page) seen.push_back(t.id);
    after = page->back().id;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"doc_a", "doc_b", "doc_d", "doc_e"}));

  auto all = this->store().list_document_tokens("", 100);
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ(all->front().tokens, (std::map<std::string, std::string>{{"signer_cpf", "pii1.dk-1.cpf-x-doc_a"},
                                                                      {"signer_email", "pii1.dk-1.email-x-doc_a"},
                                                                      {"signer_name", "pii1.dk-1.name-x-doc_a"}}));
  // NULL columns are left out, and indexes are never among the tokens.
  EXPECT_EQ(all->back().tokens, (std::map<std::string, std::string>{{"signer_name", "pii1.dk-1.name-e"}}));
  for (int bad : {0, -1, 10001}) EXPECT_ERRC(this->store().list_document_tokens("", bad), Errc::invalid_argument);
}

TYPED_TEST(DocumentStoreConformance, ReplacesTokens_OnlyWhileTheRowStillHoldsWhatWasRead) {
  DocumentRecord d = make_document("doc_r");
  d.signer_cpf = "pii1.old.cpf";
  d.signer_cpf_index = "idx-cpf";
  d.signer_name = "pii1.old.name";
  ASSERT_OK(this->store().insert_document(d, sign_event(d.id)));
  const DocumentTokens read{"doc_r", {{"signer_cpf", "pii1.old.cpf"}, {"signer_name", "pii1.old.name"}}};
  const DocumentTokens resealed{"doc_r", {{"signer_cpf", "pii1.new.cpf"}, {"signer_name", "pii1.new.name"}}};

  auto ok = this->store().replace_document_tokens(read, resealed);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(*ok);
  auto got = this->store().get_document("doc_r");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->signer_cpf, "pii1.new.cpf");
  EXPECT_EQ(got->signer_name, "pii1.new.name");
  EXPECT_EQ(got->signer_cpf_index, "idx-cpf");  // digests stay: the plaintexts did not change
  EXPECT_TRUE(got->signer_email.empty());

  // Stale: the row no longer holds what was read; nothing is written.
  const DocumentTokens again{"doc_r", {{"signer_cpf", "pii1.other.cpf"}, {"signer_name", "pii1.other.name"}}};
  auto stale = this->store().replace_document_tokens(read, again);
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);
  // A column read as NULL must still be NULL: here the reader thinks signer_name is absent.
  auto missing = this->store().replace_document_tokens({"doc_r", {{"signer_cpf", "pii1.new.cpf"}}},
                                                       {"doc_r", {{"signer_cpf", "pii1.other.cpf"}}});
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto gone = this->store().replace_document_tokens({"doc_nope", {{"signer_cpf", "a"}}}, {"doc_nope", {{"signer_cpf", "b"}}});
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  got = this->store().get_document("doc_r");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->signer_cpf, "pii1.new.cpf");
  EXPECT_EQ(got->signer_name, "pii1.new.name");

  // Only one column changed: the other is compared, not written.
  const DocumentTokens current{"doc_r", {{"signer_cpf", "pii1.new.cpf"}, {"signer_name", "pii1.new.name"}}};
  auto one = this->store().replace_document_tokens(
      current, {"doc_r", {{"signer_cpf", "pii1.newer.cpf"}, {"signer_name", "pii1.new.name"}}});
  ASSERT_TRUE(one);
  EXPECT_TRUE(*one);
  EXPECT_EQ(this->store().get_document("doc_r")->signer_cpf, "pii1.newer.cpf");

  // Malformed requests.
  const DocumentTokens now{"doc_r", {{"signer_cpf", "pii1.newer.cpf"}, {"signer_name", "pii1.new.name"}}};
  EXPECT_ERRC(this->store().replace_document_tokens(now, {"doc_x", now.tokens}), Errc::invalid_argument);
  EXPECT_ERRC(this->store().replace_document_tokens(now, {"doc_r", {{"signer_cpf", "x"}}}), Errc::invalid_argument);
  EXPECT_ERRC(this->store().replace_document_tokens({"doc_r", {{"signer_cpf_index", "x"}}},
                                                    {"doc_r", {{"signer_cpf_index", "y"}}}),
              Errc::invalid_argument);
  EXPECT_ERRC(this->store().replace_document_tokens({"doc_r", {{"signer_cpf", ""}}}, {"doc_r", {{"signer_cpf", "y"}}}),
              Errc::invalid_argument);
  EXPECT_EQ(this->store().get_document("doc_r")->signer_cpf, "pii1.newer.cpf");
}

// --- what lies in the database -------------------------------------------------------------

TYPED_TEST(DocumentStoreConformance, DumpOfTheTable_ShowsTheStoredColumns) {
  DocumentRecord d = make_document("doc_dump", "user:alice", 1'700'000'000);
  d.title = "Procura\xc3\xa7\xc3\xa3o";
  d.signed_size = 123456;
  d.level = "B-T";
  ASSERT_OK(this->store().insert_document(d, sign_event(d.id, 1'700'000'000)));

  auto dump = this->m_backend.query_cli(
      "SELECT id, owner, title, original_sha256, signed_sha256, signed_size, object_key, signer_serial, level, "
      "created_at FROM documents ORDER BY id");
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out, "doc_dump|user:alice|Procura\xc3\xa7\xc3\xa3o|" + digest('a') + "|" + digest('b') +
                          "|123456|documents/doc_dump.pdf|d0c1|B-T|1700000000\n");

  auto events = this->m_backend.query_cli("SELECT time, actor, action, target, result FROM audit_events");
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(events.out, "1700000000|user:alice|document.sign|doc_dump|success\n");

  // The indexes the lookups rely on, whatever the engine names its catalogue.
  auto indexes = this->m_backend.query_cli(
      std::string(TypeParam::kBackendName) == "sqlite"
          ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents' AND sql IS NOT NULL "
            "ORDER BY name"
          : "SELECT indexname FROM pg_indexes WHERE tablename = 'documents' AND schemaname = current_schema() "
            "AND indexname <> 'documents_pkey' ORDER BY indexname");
  ASSERT_EQ(indexes.exit_code, 0) << indexes.err;
  EXPECT_EQ(indexes.out,
            "documents_created\ndocuments_original_sha256\ndocuments_owner_created\ndocuments_signed_sha256\n"
            "documents_signer_cpf\ndocuments_signer_email\ndocuments_signer_serial\n");
}

// --- the public transparency log -------------------------------------------------------

TYPED_TEST(DocumentStoreConformance, AppendsATransparencyEntry_PerCertificateAndDocument_InCommitOrder) {
  // The fixture recorded the signer certificate "d0c1" first.
  ASSERT_OK(this->store().insert_document(make_document("doc_one", "user:alice", 1001), sign_event("doc_one", 1001)));
  ASSERT_OK(this->store().insert_document(make_document("doc_two", "user:bob", 1002), sign_event("doc_two", 1002)));
  // A failed insert (duplicate id) leaves no entry behind.
  EXPECT_ERRC(this->store().insert_document(make_document("doc_one"), sign_event("doc_one")), Errc::already_exists);

  auto entries = this->store().list_transparency_entries(0, 100);
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 3u);
  const auto& cert = (*entries)[0];
  EXPECT_EQ(cert.kind, "certificate");
  EXPECT_EQ(cert.ref, "d0c1");
  EXPECT_TRUE(cert.found);
  EXPECT_FALSE(cert.pem.empty());
  const auto& doc = (*entries)[1];
  EXPECT_EQ(doc.kind, "document");
  EXPECT_EQ(doc.ref, "doc_one");
  EXPECT_EQ(doc.time, 1001);
  EXPECT_TRUE(doc.found);
  EXPECT_EQ(doc.signed_sha256, digest('b'));
  EXPECT_EQ(doc.original_sha256, digest('a'));
  EXPECT_EQ(doc.signer_serial, "d0c1");
  EXPECT_EQ(doc.level, "B-LT");
  EXPECT_LT(cert.id, doc.id);
  EXPECT_LT(doc.id, (*entries)[2].id);
  EXPECT_EQ((*entries)[2].ref, "doc_two");

  auto after = this->store().list_transparency_entries(doc.id, 100);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().ref, "doc_two");

  auto found = this->store().find_transparency_entry("document", "doc_two");
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->id, (*entries)[2].id);
  EXPECT_ERRC(this->store().find_transparency_entry("document", "doc_nope"), Errc::not_found);
  EXPECT_ERRC(this->store().list_transparency_entries(0, 0), Errc::invalid_argument);
}

}  // namespace
