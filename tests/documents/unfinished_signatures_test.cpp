// clean_unfinished_signatures over a real SQLite store and filesystem object store: what a
// signing process killed between the certificate and the record leaves is revoked and
// erased once the grace has passed, and nothing else is touched.
#include "documents/unfinished_signatures.h"

#include "core/clock.h"
#include "documents/document_id.h"
#include "documents/document_service.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cartorio::core::Errc;
using cartorio::core::ManualClock;
namespace documents = cartorio::documents;
namespace store = cartorio::store;

constexpr std::int64_t kStart = 1'800'000'000;

store::CertificateRecord document_cert(const std::string& serial, const std::string& document_id,
                                       std::int64_t created_at) {
  store::CertificateRecord c;
  c.serial = serial;
  c.issuer = "document";
  c.profile = "document-signing";
  c.subject = "CN=Ana Souza,O=Cartorio";
  c.sans = {"URI:ni:///sha-256;47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
            "URI:https://cartorio.example/verify/" + document_id};
  c.not_before = created_at;
  c.not_after = created_at + 86400;
  c.requester = "user:ana";
  c.pem = "PEM";
  c.created_at = created_at;
  return c;
}

class UnfinishedSignaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_sqlite_store((m_dir.path() / "store.db").string());
    ASSERT_TRUE(s) << s.error().to_string();
    m_store = std::move(s).value();
    auto o = cartorio::objectstore::FilesystemObjectStore::open({m_dir.path() / "objects"}, m_clock);
    ASSERT_TRUE(o) << o.error().to_string();
    m_objects = std::move(o).value();
  }

  documents::UnfinishedSignatureDeps deps() {
    documents::UnfinishedSignatureDeps d;
    d.certificates = m_store.get();
    d.objects = m_objects.get();
    d.clock = &m_clock;
    d.revoke = [this](const std::string& serial) {
      m_revoked.push_back(serial);
      return m_store->revoke_certificate(serial, 5, cartorio::core::to_unix(m_clock.now()));
    };
    return d;
  }

  std::string id(char c) const { return "doc_" + std::string(documents::kDocumentIdRandomChars, c); }

  cartorio::testing::TempDir m_dir;
  ManualClock m_clock{cartorio::core::from_unix(kStart)};
  std::unique_ptr<store::Store> m_store;
  std::unique_ptr<cartorio::objectstore::FilesystemObjectStore> m_objects;
  std::vector<std::string> m_revoked;
};

TEST_F(UnfinishedSignaturesTest, DocumentIdComesFromTheVerificationUri) {
  EXPECT_EQ(documents::document_id_of(document_cert("01", id('a'), kStart)), id('a'));
  auto other = document_cert("02", "not-an-id", kStart);
  EXPECT_EQ(documents::document_id_of(other), "");
  other.sans = {"DNS:example.org"};
  EXPECT_EQ(documents::document_id_of(other), "");
}

TEST_F(UnfinishedSignaturesTest, PastTheGrace_RevokesCertificatesWithoutDocument_AndErasesTheirPdf) {
  // a: finished (certificate, object, record). b: killed after the object was stored.
  // c: killed before it. d: as b, but too recent. e: abandoned at once by a failed signing.
  ASSERT_OK(m_store->insert_certificate(document_cert("a1", id('a'), kStart)));
  ASSERT_OK(m_objects->put(documents::DocumentService::object_key(id('a')), "%PDF a"));
  store::DocumentRecord rec;
  rec.id = id('a');
  rec.owner = "user:ana";
  rec.original_sha256 = std::string(64, 'a');
  rec.signed_sha256 = std::string(64, 'b');
  rec.object_key = documents::DocumentService::object_key(id('a'));
  rec.signer_serial = "a1";
  rec.level = "B-T";
  rec.created_at = kStart;
  store::AuditEvent event;
  event.time = kStart;
  event.actor = "user:ana";
  event.action = "document.sign";
  event.target = id('a');
  ASSERT_OK(m_store->insert_document(rec, event));
  ASSERT_OK(m_store->insert_certificate(document_cert("b1", id('b'), kStart)));
  ASSERT_OK(m_objects->put(documents::DocumentService::object_key(id('b')), "%PDF b"));
  ASSERT_OK(m_store->insert_certificate(document_cert("c1", id('c'), kStart + 10)));
  ASSERT_OK(m_store->insert_certificate(document_cert("d1", id('d'), kStart + 3000)));
  ASSERT_OK(m_objects->put(documents::DocumentService::object_key(id('d')), "%PDF d"));
  ASSERT_OK(m_store->insert_certificate(document_cert("e1", id('e'), kStart)));
  ASSERT_OK(m_store->revoke_certificate("e1", 5, kStart + 1));

  // Within the grace of all of them: nothing.
  m_clock.set(cartorio::core::from_unix(kStart + 60));
  auto report = documents::clean_unfinished_signatures(deps(), 15min);
  ASSERT_OK(report);
  EXPECT_TRUE(report->revoked.empty());

  // 20 minutes on: b and c, not d.
  m_clock.set(cartorio::core::from_unix(kStart + 20 * 60));
  report = documents::clean_unfinished_signatures(deps(), 15min);
  ASSERT_OK(report);
  EXPECT_EQ(report->revoked, (std::vector<std::string>{"b1", "c1"}));
  EXPECT_EQ(report->objects_erased, 1u);
  EXPECT_EQ(m_revoked, (std::vector<std::string>{"b1", "c1"}));
  EXPECT_ERRC(m_objects->get(documents::DocumentService::object_key(id('b'))), Errc::not_found);
  EXPECT_TRUE(m_objects->get(documents::DocumentService::object_key(id('a'))));
  EXPECT_TRUE(m_objects->get(documents::DocumentService::object_key(id('d'))));
  auto a = m_store->get_certificate("a1");
  ASSERT_OK(a);
  EXPECT_EQ(a->status, store::CertificateStatus::good);
  auto b = m_store->get_certificate("b1");
  ASSERT_OK(b);
  EXPECT_EQ(b->status, store::CertificateStatus::revoked);
  EXPECT_EQ(b->revocation_reason, 5);

  // A second run finds nothing left; later, d's turn comes.
  m_revoked.clear();
  report = documents::clean_unfinished_signatures(deps(), 15min);
  ASSERT_OK(report);
  EXPECT_TRUE(report->revoked.empty());
  m_clock.set(cartorio::core::from_unix(kStart + 3000 + 16 * 60));
  report = documents::clean_unfinished_signatures(deps(), 15min);
  ASSERT_OK(report);
  EXPECT_EQ(report->revoked, (std::vector<std::string>{"d1"}));
  EXPECT_EQ(report->objects_erased, 1u);
}

TEST_F(UnfinishedSignaturesTest, ARevocationThatFails_StopsTheRun_AndTheNextRunFinishesIt) {
  ASSERT_OK(m_store->insert_certificate(document_cert("b1", id('b'), kStart)));
  ASSERT_OK(m_objects->put(documents::DocumentService::object_key(id('b')), "%PDF b"));
  m_clock.set(cartorio::core::from_unix(kStart + 3600));
  auto failing = deps();
  failing.revoke = [](const std::string&) -> cartorio::core::Result<void> {
    return cartorio::core::Error{Errc::store_unavailable, "down"};
  };
  EXPECT_ERRC(documents::clean_unfinished_signatures(failing, 15min), Errc::store_unavailable);
  // The object went first; the certificate is still listed, so the next run revokes it.
  auto report = documents::clean_unfinished_signatures(deps(), 15min);
  ASSERT_OK(report);
  EXPECT_EQ(report->revoked, (std::vector<std::string>{"b1"}));
  EXPECT_EQ(report->objects_erased, 0u);
}

}  // namespace
