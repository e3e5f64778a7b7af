// The ACME repository on every backend: accounts unique by key and by EAB key id, orders
// created with their authorizations and challenges in one transaction, and compare-and-set
// status moves that only one of two racing instances wins.
#include "store/store.h"

#include "store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace {

using cartorio::core::Errc;
using cartorio::store::AcmeAccountRecord;
using cartorio::store::AcmeAuthorizationRecord;
using cartorio::store::AcmeChallengeRecord;
using cartorio::store::AcmeOrderRecord;
using cartorio::store::AuditEvent;
using cartorio::store::Store;
using cartorio::store_test::PostgresBackend;
using cartorio::store_test::SqliteBackend;

AcmeAccountRecord account_of(const std::string& id, const std::string& thumbprint, const std::string& eab = "") {
  AcmeAccountRecord a;
  a.id = id;
  a.key_thumbprint = thumbprint;
  a.jwk_json = R"({"crv":"P-256","kty":"EC","x":"x","y":"y"})";
  a.eab_kid = eab;
  a.created_at = 1000;
  return a;
}

AuditEvent event_for(const std::string& action) {
  AuditEvent e;
  e.time = 1000;
  e.actor = "acme:account/a1";
  e.action = action;
  e.target = "a1";
  e.result = "success";
  e.source = "127.0.0.1";
  e.details = "{}";
  return e;
}

std::vector<AcmeAuthorizationRecord> authorizations_for(const std::vector<std::string>& names) {
  std::vector<AcmeAuthorizationRecord> out;
  for (const auto& n : names) {
    AcmeAuthorizationRecord a;
    a.id = "authz-" + n;
    a.account_id = "a1";
    a.identifier_value = n;
    a.expires_at = 5000;
    for (const char* type : {"http-01", "tls-alpn-01"}) {
      AcmeChallengeRecord c;
      c.id = std::string(type) + "-" + n;
      c.type = type;
      c.token = "token-" + n + "-" + type;
      a.challenges.push_back(c);
    }
    out.push_back(a);
  }
  return out;
}

// Account a1 (no EAB) with order `id` for `names`: one authorization per name, two challenges each.
AcmeOrderRecord order_of(const std::string& id, const std::vector<std::string>& names) {
  AcmeOrderRecord o;
  o.id = id;
  o.account_id = "a1";
  o.expires_at = 5000;
  std::string identifiers;
  for (const auto& n : names) identifiers += (identifiers.empty() ? "" : ",") + std::string(R"({"type":"dns","value":")") + n + "\"}";
  o.identifiers_json = "[" + identifiers + "]";
  o.created_at = 1000;
  return o;
}

template <class Backend>
class AcmeStoreConformance : public cartorio::store_test::StoreFixture<Backend> {};

}  // namespace

class Sqlite : public SqliteBackend {};
class Postgres : public PostgresBackend {};

namespace {

// NOTE: tests/store/CMakeLists.txt selects the PostgreSQL cases as AcmeStoreConformance/1.*.
using Backends = ::testing::Types<Sqlite, Postgres>;
TYPED_TEST_SUITE(AcmeStoreConformance, Backends);

TYPED_TEST(AcmeStoreConformance, AccountsAreUniqueByKeyAndByEabKey_AndAudited) {
  auto& s = this->store();
  ASSERT_OK(s.create_acme_account(account_of("a1", "thumb-1", "eab-1"), event_for("acme.account.create")));
  EXPECT_EQ(s.create_acme_account(account_of("a2", "thumb-1"), event_for("acme.account.create")).error().code,
            Errc::already_exists);
  EXPECT_EQ(s.create_acme_account(account_of("a3", "thumb-3", "eab-1"), event_for("acme.account.create")).error().code,
            Errc::already_exists);
  ASSERT_OK(s.create_acme_account(account_of("a4", "thumb-4"), event_for("acme.account.create")));
  ASSERT_OK(s.create_acme_account(account_of("a5", "thumb-5"), event_for("acme.account.create")));  // two without EAB

  auto found = s.find_acme_account_by_key("thumb-1");
  ASSERT_OK(found);
  EXPECT_EQ(found->id, "a1");
  EXPECT_EQ(found->eab_kid, "eab-1");
  EXPECT_EQ(found->status, "valid");
  EXPECT_EQ(s.find_acme_account_by_key("nope").error().code, Errc::not_found);
  EXPECT_EQ(s.get_acme_account("nope").error().code, Errc::not_found);

  // Key change to a key another account holds: refused, nothing changes.
  auto a1 = *found;
  a1.key_thumbprint = "thumb-4";
  EXPECT_EQ(s.update_acme_account(a1, event_for("acme.account.key_change")).error().code, Errc::already_exists);
  a1.key_thumbprint = "thumb-new";
  a1.status = "deactivated";
  a1.contact_json = R"(["mailto:ops@example.org"])";
  ASSERT_OK(s.update_acme_account(a1, event_for("acme.account.key_change")));
  auto again = s.get_acme_account("a1");
  ASSERT_OK(again);
  EXPECT_EQ(again->key_thumbprint, "thumb-new");
  EXPECT_EQ(again->status, "deactivated");
  EXPECT_EQ(again->contact_json, R"(["mailto:ops@example.org"])");
  // A deactivated account is not changed again, not even back to valid (a request that
  // authenticated before the deactivation committed).
  auto revived = *again;
  revived.status = "valid";
  EXPECT_EQ(s.update_acme_account(revived, event_for("acme.account.update")).error().code, Errc::conflict);
  EXPECT_EQ(s.get_acme_account("a1")->status, "deactivated");

  cartorio::store::AuditFilter f;
  f.action = "acme.account.create";
  auto events = s.list_audit_events(f);
  ASSERT_OK(events);
  EXPECT_EQ(events->size(), 3u);  // the refused ones left no event
}

TYPED_TEST(AcmeStoreConformance, OrdersKeepTheirAuthorizationsAndChallengesInOrder) {
  auto& s = this->store();
  ASSERT_OK(s.create_acme_account(account_of("a1", "thumb-1"), event_for("acme.account.create")));
  const auto o = order_of("o1", {"b.example", "a.example"});
  ASSERT_OK(s.create_acme_order(o, authorizations_for({"b.example", "a.example"})));
  // An order whose authorization collides with an existing id: nothing of it is kept.
  AcmeOrderRecord bad = o;
  bad.id = "o2";
  EXPECT_FALSE(s.create_acme_order(bad, authorizations_for({"b.example"})));
  EXPECT_EQ(s.get_acme_order("o2").error().code, Errc::not_found);

  auto got = s.get_acme_order("o1");
  ASSERT_OK(got);
  EXPECT_EQ(got->status, "pending");
  EXPECT_EQ(got->authorization_ids, (std::vector<std::string>{"authz-b.example", "authz-a.example"}));
  EXPECT_FALSE(got->not_before);
  auto authz = s.get_acme_authorization("authz-a.example");
  ASSERT_OK(authz);
  EXPECT_EQ(authz->order_id, "o1");
  EXPECT_EQ(authz->identifier_value, "a.example");
  ASSERT_EQ(authz->challenges.size(), 2u);
  EXPECT_EQ(authz->challenges[0].type, "http-01");
  EXPECT_EQ(authz->challenges[1].type, "tls-alpn-01");
  EXPECT_EQ(authz->challenges[0].token, "token-a.example-http-01");
  auto ids = s.list_acme_order_ids("a1", 10);
  ASSERT_OK(ids);
  EXPECT_EQ(*ids, std::vector<std::string>{"o1"});
}

// The moved/not-moved answer of a compare-and-set, failing the test on a store error.
bool moved(const cartorio::core::Result<bool>& r) {
  EXPECT_TRUE(r) << r.error().to_string();
  return r && *r;
}

TYPED_TEST(AcmeStoreConformance, StatusMovesAreCompareAndSet) {
  auto& s = this->store();
  ASSERT_OK(s.create_acme_account(account_of("a1", "thumb-1"), event_for("acme.account.create")));
  auto o = order_of("o1", {"a.example"});
  ASSERT_OK(s.create_acme_order(o, authorizations_for({"a.example"})));

  auto challenge = s.get_acme_authorization("authz-a.example")->challenges[0];
  challenge.status = "processing";
  EXPECT_TRUE(moved(s.update_acme_challenge(challenge, "pending")));
  EXPECT_FALSE(moved(s.update_acme_challenge(challenge, "pending")));  // the second instance loses
  challenge.status = "valid";
  challenge.validated_at = 1234;
  EXPECT_TRUE(moved(s.update_acme_challenge(challenge, "processing")));
  EXPECT_TRUE(moved(s.update_acme_authorization("authz-a.example", "pending", "valid")));
  EXPECT_FALSE(moved(s.update_acme_authorization("authz-a.example", "pending", "invalid")));
  auto authz = s.get_acme_authorization("authz-a.example");
  EXPECT_EQ(authz->status, "valid");
  EXPECT_EQ(authz->challenges[0].status, "valid");
  EXPECT_EQ(authz->challenges[0].validated_at, 1234);

  o.status = "ready";
  EXPECT_TRUE(moved(s.update_acme_order(o, "pending")));
  o.status = "processing";
  EXPECT_TRUE(moved(s.update_acme_order(o, "ready")));
  EXPECT_FALSE(moved(s.update_acme_order(o, "ready")));  // finalized once only
  o.status = "valid";
  o.certificate_serial = "1a2b";
  EXPECT_TRUE(moved(s.update_acme_order(o, "processing")));
  auto by_cert = s.find_acme_order_by_certificate("1a2b");
  ASSERT_OK(by_cert);
  EXPECT_EQ(by_cert->id, "o1");
  EXPECT_EQ(by_cert->status, "valid");
  EXPECT_EQ(s.find_acme_order_by_certificate("ffff").error().code, Errc::not_found);
  o.certificate_serial = "0BAD";  // not a canonical serial
  EXPECT_EQ(s.update_acme_order(o, "valid").error().code, Errc::invalid_serial);
}

}  // namespace
