// One behaviour suite for store::Store, run on every backend (SQLite and a real PostgreSQL
// started by the `postgres` CTest fixture). A backend is correct when it passes all of it.
#include "store/store.h"

#include "store/sql/migrations.h"
#include "store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

namespace {

using cartorio::core::Errc;
using cartorio::store::AuditEvent;
using cartorio::store::AuditFilter;
using cartorio::store::AuthorityRecord;
using cartorio::store::CertificateFilter;
using cartorio::store::CertificateRecord;
using cartorio::store::CertificateStatus;
using cartorio::store::KeyRecord;
using cartorio::store::Store;
using cartorio::store_test::PostgresBackend;
using cartorio::store_test::SqliteBackend;

CertificateRecord make_cert(std::string serial, std::string issuer = "tls", std::int64_t not_after = 2000,
                            std::string profile = "tls-server") {
  CertificateRecord c;
  c.serial = std::move(serial);
  c.issuer = std::move(issuer);
  c.profile = std::move(profile);
  c.subject = "CN=" + c.serial + ".example,O=Cartorio";
  c.sans = {"DNS:" + c.serial + ".example"};
  c.not_before = 100;
  c.not_after = not_after;
  c.requester = "cli";
  c.pem = "-----BEGIN CERTIFICATE-----\n" + c.serial + "\n-----END CERTIFICATE-----\n";
  c.created_at = 100;
  return c;
}

void expect_same(const CertificateRecord& a, const CertificateRecord& b) {
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.issuer, b.issuer);
  EXPECT_EQ(a.profile, b.profile);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.sans, b.sans);
  EXPECT_EQ(a.not_before, b.not_before);
  EXPECT_EQ(a.not_after, b.not_after);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.revocation_reason, b.revocation_reason);
  EXPECT_EQ(a.revoked_at, b.revoked_at);
  EXPECT_EQ(a.requester, b.requester);
  EXPECT_EQ(a.pem, b.pem);
  EXPECT_EQ(a.created_at, b.created_at);
}

std::vector<std::string> serials(const std::vector<CertificateRecord>& certs) {
  std::vector<std::string> out;
  for (const auto& c : certs) out.push_back(c.serial);
  return out;
}

AuditEvent make_event(std::int64_t time, std::string actor, std::string action, std::string target) {
  AuditEvent e;
  e.time = time;
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.target = std::move(target);
  e.result = "success";
  e.source = "127.0.0.1";
  e.request_id = "req-" + std::to_string(time);
  e.details = R"({"n":)" + std::to_string(time) + "}";
  return e;
}

std::vector<std::int64_t> ids(const std::vector<AuditEvent>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

template <class Backend>
class StoreConformance : public cartorio::store_test::StoreFixture<Backend> {
 protected:
  using cartorio::store_test::StoreFixture<Backend>::store;

  // Six certificates across issuers, profiles, statuses and expiry times; two share
  // not_after so ordering by serial is exercised.
  void seed_certificates() {
    ASSERT_OK(store().insert_certificate(make_cert("a1", "tls", 1000)));
    ASSERT_OK(store().insert_certificate(make_cert("b2", "tls", 3000)));
    ASSERT_OK(store().insert_certificate(make_cert("d4", "document", 2000, "document-signing")));
    ASSERT_OK(store().insert_certificate(make_cert("c3", "document", 2000, "document-signing")));
    ASSERT_OK(store().insert_certificate(make_cert("e5", "root", 5000, "sub-ca")));
    ASSERT_OK(store().insert_certificate(make_cert("f6", "tls", 4000, "tls-client")));
    ASSERT_OK(store().revoke_certificate("f6", 1, 150));
  }

  std::vector<std::string> listed(const CertificateFilter& f) {
    auto r = store().list_certificates(f);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? serials(*r) : std::vector<std::string>{"<error>"};
  }

};

}  // namespace

// Global names so CTest lists cases as StoreConformance.<Case><Sqlite|Postgres>.
class Sqlite : public SqliteBackend {};
class Postgres : public PostgresBackend {};

namespace {

// NOTE: tests/store/CMakeLists.txt selects the PostgreSQL cases as StoreConformance/1.*:
// keep Postgres second. (A reorder fails loudly: PG cases outside the fixture fail.)
using Backends = ::testing::Types<Sqlite, Postgres>;
TYPED_TEST_SUITE(StoreConformance, Backends);

// --- certificates ---------------------------------------------------------------------

TYPED_TEST(StoreConformance, RoundTrips_EveryCertificateField) {
  CertificateRecord good = make_cert("1f2e3d4c5b6a79", "document", 1'900'000'000, "document-signing");
  good.subject = "CN=Jo\xc3\xa3o da Silva,O=Cart\xc3\xb3rio,C=BR";
  good.sans = {"email:joao@example.com.br", "DNS:a.example", "IP:10.0.0.1"};
  good.not_before = 1'700'000'000;
  good.requester = "user:alice";
  good.created_at = 1'700'000'123;
  ASSERT_OK(this->store().insert_certificate(good));

  CertificateRecord imported = make_cert("abcdef0123456789abcdef0123456789abcdef01", "tls", 1'800'000'000);
  imported.sans = {};
  imported.status = CertificateStatus::revoked;
  imported.revocation_reason = 4;
  imported.revoked_at = 1'750'000'000;
  ASSERT_OK(this->store().insert_certificate(imported));

  auto got = this->store().get_certificate(good.serial);
  ASSERT_TRUE(got) << got.error().to_string();
  expect_same(*got, good);
  auto got_imported = this->store().get_certificate(imported.serial);
  ASSERT_TRUE(got_imported) << got_imported.error().to_string();
  expect_same(*got_imported, imported);
}

TYPED_TEST(StoreConformance, Rejects_DuplicateSerial_KeepingFirstRow) {
  CertificateRecord first = make_cert("5e", "tls", 2000);
  ASSERT_OK(this->store().insert_certificate(first));
  CertificateRecord second = make_cert("5e", "document", 9000, "document-signing");
  second.subject = "CN=impostor";

  EXPECT_ERRC(this->store().insert_certificate(second), Errc::already_exists);

  auto got = this->store().get_certificate("5e");
  ASSERT_TRUE(got) << got.error().to_string();
  expect_same(*got, first);
  auto count = this->store().count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
}

TYPED_TEST(StoreConformance, AcceptsOneOfConcurrentInserts_OfSameSerial) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> ok{0}, duplicate{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      CertificateRecord c = make_cert("77", "tls", 2000);
      c.subject = "CN=writer" + std::to_string(i);
      start.arrive_and_wait();
      auto r = this->store().insert_certificate(c);
      if (r) ++ok;
      else if (r.error().code == Errc::already_exists) ++duplicate;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(duplicate.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  auto count = this->store().count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
}

// Concurrent inserts may share one commit (SQLite's group commit): a duplicate in the same
// batch must fail alone, leaving neither its transparency entry nor its events behind, and
// every other insert must land with all of its own.
TYPED_TEST(StoreConformance, KeepsEachInsertWhole_WhenConcurrentInsertsCollide) {
  constexpr int kThreads = 6, kPerThread = 30;
  std::latch start(kThreads);
  std::atomic<int> ok{0}, duplicate{0}, refused{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        // Every third serial is one that all threads race for; of the others, every second
        // fails at its last event (no action), after its certificate, transparency entry and
        // first event are written: grouped with others, it must take all of those back.
        const std::string serial = i % 3 == 0 ? "d" + std::to_string(i) : "c" + std::to_string(t * 100 + i);
        const bool fails_late = i % 3 == 2;
        const std::string actor = "thread:" + std::to_string(t);
        auto r = this->store().insert_certificate(make_cert(serial), {make_event(100 + i, actor, "key.use", serial),
                                                                      make_event(100 + i, actor, fails_late ? "" : "x.y", serial)});
        if (r) ++ok;
        else if (r.error().code == Errc::already_exists) ++duplicate;
        else if (fails_late && r.error().code == Errc::invalid_argument) ++refused;
        else {
          std::lock_guard lock(failures_mutex);
          failures.push_back(r.error().to_string());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  constexpr int kShared = kPerThread / 3, kFailing = kPerThread / 3;
  EXPECT_EQ(ok.load(), kThreads * (kPerThread - kShared - kFailing) + kShared);
  EXPECT_EQ(duplicate.load(), (kThreads - 1) * kShared);
  EXPECT_EQ(refused.load(), kThreads * kFailing);

  auto count = this->store().count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, ok.load());
  auto entries = this->store().list_transparency_entries(0, 10000);
  ASSERT_TRUE(entries) << entries.error().to_string();
  EXPECT_EQ(static_cast<int>(entries->size()), ok.load());
  std::set<std::string> refs;
  for (const auto& e : *entries) refs.insert(e.ref);
  EXPECT_EQ(static_cast<int>(refs.size()), ok.load());
  AuditFilter f;
  f.limit = 10000;
  auto events = this->store().list_audit_events(f);
  ASSERT_TRUE(events) << events.error().to_string();
  EXPECT_EQ(static_cast<int>(events->size()), 2 * ok.load());
  // Each stored certificate's events are those of the thread whose insert won.
  for (const std::string& serial : refs) {
    auto cert = this->store().get_certificate(serial);
    ASSERT_TRUE(cert) << serial;
    AuditFilter by_target;
    by_target.target = serial;
    auto mine = this->store().list_audit_events(by_target);
    ASSERT_TRUE(mine);
    ASSERT_EQ(mine->size(), 2u) << serial;
    EXPECT_EQ((*mine)[0].actor, (*mine)[1].actor);
  }
  // Nothing of a refused insert is left, though it failed after writing three rows.
  for (int t = 0; t < kThreads; ++t)
    for (int i = 2; i < kPerThread; i += 3) {
      const std::string serial = "c" + std::to_string(t * 100 + i);
      EXPECT_FALSE(refs.contains(serial)) << serial;
      EXPECT_ERRC(this->store().get_certificate(serial), Errc::not_found);
      AuditFilter by_target;
      by_target.target = serial;
      auto left = this->store().list_audit_events(by_target);
      ASSERT_TRUE(left);
      EXPECT_TRUE(left->empty()) << serial;
    }
}

TYPED_TEST(StoreConformance, ReturnsNotFound_ForUnknownSerial) {
  ASSERT_OK(this->store().insert_certificate(make_cert("1")));
  EXPECT_ERRC(this->store().get_certificate("2"), Errc::not_found);
}

TYPED_TEST(StoreConformance, Rejects_MalformedSerial_WithoutWriting) {
  for (const std::string& serial : std::vector<std::string>{"", "ABCD", "00ab", "xyz", "12 34", std::string(41, 'a')}) {
    SCOPED_TRACE("serial '" + serial + "'");
    EXPECT_ERRC(this->store().insert_certificate(make_cert(serial)), Errc::invalid_serial);
  }
  EXPECT_ERRC(this->store().get_certificate("ABCD"), Errc::invalid_serial);
  auto count = this->store().count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
}

TYPED_TEST(StoreConformance, Rejects_InvalidCertificateRecord_WithoutWriting) {
  auto no_issuer = make_cert("a1");
  no_issuer.issuer.clear();
  EXPECT_ERRC(this->store().insert_certificate(no_issuer), Errc::invalid_argument);
  auto inverted = make_cert("a2");
  inverted.not_before = inverted.not_after + 1;
  EXPECT_ERRC(this->store().insert_certificate(inverted), Errc::invalid_argument);
  auto nul = make_cert("a3");
  nul.subject = std::string("CN=a\0b", 6);
  EXPECT_ERRC(this->store().insert_certificate(nul), Errc::invalid_argument);
  auto revoked_without_time = make_cert("a4");
  revoked_without_time.status = CertificateStatus::revoked;
  revoked_without_time.revocation_reason = 1;
  EXPECT_ERRC(this->store().insert_certificate(revoked_without_time), Errc::invalid_argument);

  auto count = this->store().count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
}

TYPED_TEST(StoreConformance, Lists_AllInExpiryThenSerialOrder) {
  this->seed_certificates();
  EXPECT_EQ(this->listed({}), (std::vector<std::string>{"a1", "c3", "d4", "b2", "f6", "e5"}));
}

TYPED_TEST(StoreConformance, Lists_ByIssuer) {
  this->seed_certificates();
  CertificateFilter f;
  f.issuer = "tls";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"a1", "b2", "f6"}));
  f.issuer = "nobody";
  EXPECT_TRUE(this->listed(f).empty());
}

TYPED_TEST(StoreConformance, Lists_ByProfile) {
  this->seed_certificates();
  CertificateFilter f;
  f.profile = "document-signing";
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"c3", "d4"}));
}

TYPED_TEST(StoreConformance, Lists_ByStatus) {
  this->seed_certificates();
  CertificateFilter f;
  f.status = CertificateStatus::revoked;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"f6"}));
  f.status = CertificateStatus::good;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"a1", "c3", "d4", "b2", "e5"}));
}

TYPED_TEST(StoreConformance, Lists_ByExpiryWindow_WithStrictBounds) {
  this->seed_certificates();
  CertificateFilter expiring;
  expiring.not_after_before = 3000;  // strictly before
  EXPECT_EQ(this->listed(expiring), (std::vector<std::string>{"a1", "c3", "d4"}));
  CertificateFilter valid_after;
  valid_after.not_after_after = 3000;  // strictly after
  EXPECT_EQ(this->listed(valid_after), (std::vector<std::string>{"f6", "e5"}));
  CertificateFilter window;
  window.not_after_after = 1000;
  window.not_after_before = 4000;
  EXPECT_EQ(this->listed(window), (std::vector<std::string>{"c3", "d4", "b2"}));
}

TYPED_TEST(StoreConformance, Lists_WithCombinedFilters) {
  this->seed_certificates();
  CertificateFilter f;
  f.issuer = "tls";
  f.status = CertificateStatus::good;
  f.profile = "tls-server";
  f.not_after_before = 2500;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"a1"}));
}

TYPED_TEST(StoreConformance, Paginates_WithLimitAndOffset) {
  this->seed_certificates();
  CertificateFilter f;
  f.limit = 4;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"a1", "c3", "d4", "b2"}));
  f.offset = 4;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"f6", "e5"}));
  f.offset = 6;
  EXPECT_TRUE(this->listed(f).empty());
  f.limit = 1;
  f.offset = 2;
  EXPECT_EQ(this->listed(f), (std::vector<std::string>{"d4"}));
}

TYPED_TEST(StoreConformance, Rejects_InvalidPage) {
  CertificateFilter zero;
  zero.limit = 0;
  EXPECT_ERRC(this->store().list_certificates(zero), Errc::invalid_argument);
  CertificateFilter negative;
  negative.offset = -1;
  EXPECT_ERRC(this->store().list_certificates(negative), Errc::invalid_argument);
  CertificateFilter huge;
  huge.limit = 1'000'000;
  EXPECT_ERRC(this->store().list_certificates(huge), Errc::invalid_argument);
}

TYPED_TEST(StoreConformance, Counts_Certificates) {
  auto empty = this->store().count_certificates();
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_EQ(*empty, 0);
  this->seed_certificates();
  auto six = this->store().count_certificates();
  ASSERT_TRUE(six);
  EXPECT_EQ(*six, 6);
}

// --- revocation -------------------------------------------------------------------------

TYPED_TEST(StoreConformance, Revokes_SettingStatusReasonAndTime) {
  ASSERT_OK(this->store().insert_certificate(make_cert("a1")));
  ASSERT_OK(this->store().insert_certificate(make_cert("b2")));
  ASSERT_OK(this->store().revoke_certificate("a1", 4, 1'700'000'500));

  auto got = this->store().get_certificate("a1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, CertificateStatus::revoked);
  EXPECT_EQ(got->revocation_reason, 4);
  EXPECT_EQ(got->revoked_at, 1'700'000'500);
  auto other = this->store().get_certificate("b2");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, CertificateStatus::good);
  EXPECT_EQ(other->revoked_at, 0);
}

TYPED_TEST(StoreConformance, RejectsSecondRevocation_KeepingTheFirst) {
  ASSERT_OK(this->store().insert_certificate(make_cert("a1")));
  ASSERT_OK(this->store().revoke_certificate("a1", 1, 500));
  EXPECT_ERRC(this->store().revoke_certificate("a1", 5, 900), Errc::already_revoked);

  auto got = this->store().get_certificate("a1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->revocation_reason, 1);
  EXPECT_EQ(got->revoked_at, 500);
}

TYPED_TEST(StoreConformance, ReturnsNotFound_WhenRevokingUnknownSerial) {
  ASSERT_OK(this->store().insert_certificate(make_cert("a1")));
  EXPECT_ERRC(this->store().revoke_certificate("b2", 1, 500), Errc::not_found);
  auto got = this->store().get_certificate("a1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, CertificateStatus::good);
}

TYPED_TEST(StoreConformance, Rejects_InvalidRevocationReason) {
  ASSERT_OK(this->store().insert_certificate(make_cert("a1")));
  for (int reason : {-1, 7, 11}) {
    SCOPED_TRACE(reason);
    EXPECT_ERRC(this->store().revoke_certificate("a1", reason, 500), Errc::invalid_reason);
  }
  EXPECT_ERRC(this->store().revoke_certificate("a1", 1, 0), Errc::invalid_argument);
  auto got = this->store().get_certificate("a1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, CertificateStatus::good);
}

TYPED_TEST(StoreConformance, LetsExactlyOneConcurrentRevocationWin) {
  ASSERT_OK(this->store().insert_certificate(make_cert("a1")));
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> ok{0}, already{0}, other{0};
  std::atomic<int> winner_reason{-1};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const int reason = i == 7 ? 8 : i;  // eight distinct valid reasons
      start.arrive_and_wait();
      auto r = this->store().revoke_certificate("a1", reason, 1000 + i);
      if (r) {
        ++ok;
        winner_reason = reason;
      } else if (r.error().code == Errc::already_revoked) {
        ++already;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(already.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  auto got = this->store().get_certificate("a1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->revocation_reason, winner_reason.load());
}

TYPED_TEST(StoreConformance, ListsRevoked_OfIssuerNotYetExpired_OrderedBySerial) {
  ASSERT_OK(this->store().insert_certificate(make_cert("ff", "tls", 5000)));
  ASSERT_OK(this->store().insert_certificate(make_cert("1a", "tls", 2000)));  // expires exactly at the bound
  ASSERT_OK(this->store().insert_certificate(make_cert("2b", "tls", 1999)));  // expired before it
  ASSERT_OK(this->store().insert_certificate(make_cert("3c", "tls", 5000)));  // not revoked
  ASSERT_OK(this->store().insert_certificate(make_cert("4d", "document", 5000)));  // other issuer
  ASSERT_OK(this->store().revoke_certificate("ff", 1, 300));
  ASSERT_OK(this->store().revoke_certificate("1a", 4, 200));
  ASSERT_OK(this->store().revoke_certificate("2b", 1, 100));
  ASSERT_OK(this->store().revoke_certificate("4d", 1, 100));

  auto revoked = this->store().list_revoked("tls", 2000);
  ASSERT_TRUE(revoked) << revoked.error().to_string();
  ASSERT_EQ(revoked->size(), 2u);
  EXPECT_EQ((*revoked)[0].serial, "1a");
  EXPECT_EQ((*revoked)[0].reason, 4);
  EXPECT_EQ((*revoked)[0].revoked_at, 200);
  EXPECT_EQ((*revoked)[1].serial, "ff");
  EXPECT_EQ((*revoked)[1].reason, 1);
  EXPECT_EQ((*revoked)[1].revoked_at, 300);

  auto none = this->store().list_revoked("root", 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TYPED_TEST(StoreConformance, NumbersCrls_FromOne_PerIssuer) {
  std::vector<std::int64_t> got;
  for (const char* issuer : {"tls", "tls", "tls", "document", "tls", "document"}) {
    auto n = this->store().next_crl_number(issuer);
    ASSERT_TRUE(n) << n.error().to_string();
    got.push_back(*n);
  }
  EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2, 3, 1, 4, 2}));
}

TYPED_TEST(StoreConformance, NumbersCrls_Uniquely_UnderConcurrentCalls) {
  constexpr int kThreads = 4, kCalls = 25;
  std::latch start(kThreads);
  std::mutex mutex;
  std::vector<std::int64_t> numbers;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int c = 0; c < kCalls; ++c) {
        auto n = this->store().next_crl_number("document");
        if (!n) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        numbers.push_back(*n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::sort(numbers.begin(), numbers.end());
  std::vector<std::int64_t> expected(kThreads * kCalls);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(numbers, expected);
}

// --- audit ------------------------------------------------------------------------------

TYPED_TEST(StoreConformance, AppendsAudit_WithIncreasingIds_RoundTrippingFields) {
  AuditEvent e = make_event(1'700'000'000, "user:alice", "certificate.issue", "1f2e");
  e.details = R"({"profile":"tls-server","cpf_hmac":"ab12"})";
  auto first = this->store().append_audit_event(e);
  ASSERT_TRUE(first) << first.error().to_string();
  auto second = this->store().append_audit_event(make_event(1'700'000'001, "cli", "crl.generate", "tls"));
  ASSERT_TRUE(second);
  EXPECT_GT(*first, 0);
  EXPECT_GT(*second, *first);

  AuditFilter all;
  auto events = this->store().list_audit_events(all);
  ASSERT_TRUE(events) << events.error().to_string();
  ASSERT_EQ(events->size(), 2u);
  const AuditEvent& got = events->front();
  EXPECT_EQ(got.id, *first);
  EXPECT_EQ(got.time, e.time);
  EXPECT_EQ(got.actor, e.actor);
  EXPECT_EQ(got.action, e.action);
  EXPECT_EQ(got.target, e.target);
  EXPECT_EQ(got.result, e.result);
  EXPECT_EQ(got.source, e.source);
  EXPECT_EQ(got.request_id, e.request_id);
  EXPECT_EQ(got.details, e.details);
  EXPECT_EQ(events->back().id, *second);
}

TYPED_TEST(StoreConformance, FiltersAudit_ByActorActionAndTarget) {
  std::vector<std::int64_t> id;
  for (const auto& e : {make_event(10, "user:alice", "certificate.issue", "a1"),
                        make_event(11, "user:bob", "certificate.issue", "b2"),
                        make_event(12, "user:alice", "certificate.revoke", "a1"),
                        make_event(13, "job:crl-publish", "crl.generate", "tls")}) {
    auto r = this->store().append_audit_event(e);
    ASSERT_TRUE(r) << r.error().to_string();
    id.push_back(*r);
  }
  AuditFilter by_actor;
  by_actor.actor = "user:alice";
  auto alice = this->store().list_audit_events(by_actor);
  ASSERT_TRUE(alice);
  EXPECT_EQ(ids(*alice), (std::vector<std::int64_t>{id[0], id[2]}));

  AuditFilter by_action;
  by_action.action = "certificate.issue";
  auto issued = this->store().list_audit_events(by_action);
  ASSERT_TRUE(issued);
  EXPECT_EQ(ids(*issued), (std::vector<std::int64_t>{id[0], id[1]}));

  AuditFilter by_target;
  by_target.target = "a1";
  by_target.action = "certificate.revoke";
  auto revoked = this->store().list_audit_events(by_target);
  ASSERT_TRUE(revoked);
  EXPECT_EQ(ids(*revoked), (std::vector<std::int64_t>{id[2]}));
}

TYPED_TEST(StoreConformance, FiltersAudit_BySinceInclusive_UntilExclusive) {
  std::vector<std::int64_t> id;
  for (std::int64_t t : {100, 200, 300, 400}) {
    auto r = this->store().append_audit_event(make_event(t, "cli", "x.y", ""));
    ASSERT_TRUE(r) << r.error().to_string();
    id.push_back(*r);
  }
  AuditFilter f;
  f.since = 200;
  f.until = 400;
  auto window = this->store().list_audit_events(f);
  ASSERT_TRUE(window);
  EXPECT_EQ(ids(*window), (std::vector<std::int64_t>{id[1], id[2]}));
  AuditFilter only_since;
  only_since.since = 300;
  auto tail = this->store().list_audit_events(only_since);
  ASSERT_TRUE(tail);
  EXPECT_EQ(ids(*tail), (std::vector<std::int64_t>{id[2], id[3]}));
}

TYPED_TEST(StoreConformance, PaginatesAudit_ByAfterId) {
  std::vector<std::int64_t> appended;
  for (int i = 0; i < 7; ++i) {
    auto r = this->store().append_audit_event(make_event(100 + i, "cli", "x.y", ""));
    ASSERT_TRUE(r) << r.error().to_string();
    appended.push_back(*r);
  }
  std::vector<std::int64_t> paged;
  std::vector<std::size_t> page_sizes;
  AuditFilter f;
  f.limit = 3;
  for (;;) {
    auto page = this->store().list_audit_events(f);
    ASSERT_TRUE(page) << page.error().to_string();
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    for (const auto& e : *page) paged.push_back(e.id);
    f.after_id = page->back().id;
  }
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(paged, appended);
}

TYPED_TEST(StoreConformance, AppendsAudit_FromManyThreads_WithUniqueIds) {
  constexpr int kThreads = 4, kEvents = 20;
  std::latch start(kThreads);
  std::mutex mutex;
  std::vector<std::int64_t> returned;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEvents; ++i) {
        auto r = this->store().append_audit_event(make_event(i, "thread:" + std::to_string(t), "x.y", ""));
        if (!r) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        returned.push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  AuditFilter all;
  all.limit = 1000;
  auto listed = this->store().list_audit_events(all);
  ASSERT_TRUE(listed);
  auto listed_ids = ids(*listed);
  std::sort(returned.begin(), returned.end());
  EXPECT_EQ(std::set<std::int64_t>(returned.begin(), returned.end()).size(), returned.size());
  EXPECT_EQ(listed_ids, returned);  // listed in id order, every appended event present
}

TYPED_TEST(StoreConformance, Rejects_AuditEventWithoutActorOrAction) {
  EXPECT_ERRC(this->store().append_audit_event(make_event(1, "", "x.y", "")), Errc::invalid_argument);
  EXPECT_ERRC(this->store().append_audit_event(make_event(1, "cli", "", "")), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list_audit_events(AuditFilter{.limit = 0}), Errc::invalid_argument);
  auto events = this->store().list_audit_events({});
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

// --- key records and authorities ----------------------------------------------------------

TYPED_TEST(StoreConformance, UpsertsKeyRecords_ByLabel) {
  KeyRecord tls{"ca-tls", "soft:ca-tls", "software", "ECDSA-P384", "ca:tls", "active", 100};
  KeyRecord root{"ca-root", "pkcs11:token=root;object=ca-root", "offline", "RSA-4096", "root (offline)",
                 "offline", 50};
  ASSERT_OK(this->store().put_key_record(tls));
  ASSERT_OK(this->store().put_key_record(root));
  tls.state = "retired";
  tls.uri = "soft:ca-tls-v1";
  ASSERT_OK(this->store().put_key_record(tls));

  auto got = this->store().get_key_record("ca-tls");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->uri, "soft:ca-tls-v1");
  EXPECT_EQ(got->backend, "software");
  EXPECT_EQ(got->algorithm, "ECDSA-P384");
  EXPECT_EQ(got->purpose, "ca:tls");
  EXPECT_EQ(got->state, "retired");
  EXPECT_EQ(got->created_at, 100);

  auto all = this->store().list_key_records();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].label, "ca-root");
  EXPECT_EQ((*all)[0].uri, root.uri);
  EXPECT_EQ((*all)[0].state, "offline");
  EXPECT_EQ((*all)[1].label, "ca-tls");
}

TYPED_TEST(StoreConformance, ReturnsNotFound_ForUnknownKeyRecord) {
  EXPECT_ERRC(this->store().get_key_record("missing"), Errc::not_found);
  EXPECT_ERRC(this->store().put_key_record(KeyRecord{}), Errc::invalid_argument);
  auto all = this->store().list_key_records();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TYPED_TEST(StoreConformance, UpsertsAuthorities_ByName) {
  ASSERT_OK(this->store().put_authority({"tls", "PEM-TLS-1", "ca-tls", 100}));
  ASSERT_OK(this->store().put_authority({"document", "PEM-DOC-1", "ca-document", 110}));
  ASSERT_OK(this->store().put_authority({"tls", "PEM-TLS-2", "ca-tls-2", 200}));

  auto got = this->store().get_authority("tls");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->cert_pem, "PEM-TLS-2");
  EXPECT_EQ(got->key_label, "ca-tls-2");
  EXPECT_EQ(got->updated_at, 200);

  auto all = this->store().list_authorities();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "document");
  EXPECT_EQ((*all)[0].cert_pem, "PEM-DOC-1");
  EXPECT_EQ((*all)[1].name, "tls");
}

TYPED_TEST(StoreConformance, ReturnsNotFound_ForUnknownAuthority) {
  ASSERT_OK(this->store().put_authority({"tls", "PEM", "ca-tls", 1}));
  EXPECT_ERRC(this->store().get_authority("root"), Errc::not_found);
  EXPECT_ERRC(this->store().put_authority({"", "PEM", "x", 1}), Errc::invalid_argument);
}

// --- lifecycle ----------------------------------------------------------------------------

TYPED_TEST(StoreConformance, KeepsDataAndSchemaVersion_OnReopen) {
  const int latest = cartorio::store::sql::embedded_migrations().back().version;
  auto before = this->store().schema_version();
  ASSERT_TRUE(before) << before.error().to_string();
  EXPECT_EQ(*before, latest);
  ASSERT_OK(this->store().insert_certificate(make_cert("a1")));
  ASSERT_OK(this->store().append_audit_event(make_event(1, "cli", "x.y", "a1")));
  auto crl = this->store().next_crl_number("tls");
  ASSERT_TRUE(crl);
  EXPECT_EQ(*crl, 1);

  this->m_store.reset();
  auto reopened = this->m_backend.open();
  ASSERT_TRUE(reopened) << reopened.error().to_string();
  this->m_store = std::move(reopened).value();

  auto after = this->store().schema_version();
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, latest);
  auto cert = this->store().get_certificate("a1");
  ASSERT_TRUE(cert) << cert.error().to_string();
  EXPECT_EQ(cert->issuer, "tls");
  auto events = this->store().list_audit_events({});
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 1u);
  auto next = this->store().next_crl_number("tls");
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2);
}

TYPED_TEST(StoreConformance, AppliesMigrationsOnce_WhenOpenedConcurrently) {
  TypeParam fresh;  // a location no store has migrated yet
  ASSERT_OK(fresh.prepare());
  constexpr int kOpeners = 4;
  std::latch start(kOpeners);
  std::vector<std::unique_ptr<Store>> stores(kOpeners);
  std::vector<std::string> errors(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto s = fresh.open();
      if (s) stores[i] = std::move(s).value();
      else errors[i] = s.error().to_string();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kOpeners; ++i) {
    ASSERT_TRUE(stores[i]) << "opener " << i << ": " << errors[i];
    auto v = stores[i]->schema_version();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, cartorio::store::sql::embedded_migrations().back().version);
  }
  // Every opener sees the same database.
  ASSERT_OK(stores[0]->insert_certificate(make_cert("a1")));
  auto seen = stores[kOpeners - 1]->get_certificate("a1");
  EXPECT_TRUE(seen) << seen.error().to_string();
}

TYPED_TEST(StoreConformance, PassesCheck_AndNamesItsBackend) {
  ASSERT_OK(this->store().check());
  EXPECT_EQ(this->store().backend_name(), TypeParam::kBackendName);
}

}  // namespace
