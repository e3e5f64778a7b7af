// The identity repositories of store::Store (users, MFA, refresh token families, API keys,
// signing keys), one behaviour suite run on SQLite and on the fixture's PostgreSQL.
#include "store/store.h"

#include "store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <atomic>
#include <latch>
#include <thread>

namespace {

using cartorio::core::Errc;
using cartorio::store::ApiKeyRecord;
using cartorio::store::NewRefreshToken;
using cartorio::store::RefreshOutcome;
using cartorio::store::SigningKeyRecord;
using cartorio::store::Store;
using cartorio::store::TokenFamilyRecord;
using cartorio::store::UserFilter;
using cartorio::store::UserRecord;
using cartorio::store::UserUpdate;
using cartorio::store_test::PostgresBackend;
using cartorio::store_test::SqliteBackend;

UserRecord make_user(const std::string& id, const std::string& username) {
  UserRecord u;
  u.id = id;
  u.username = username;
  u.display_name = "User " + username;
  u.roles = {"clerk"};
  u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
  u.created_at = 1000;
  u.updated_at = 1000;
  return u;
}

TokenFamilyRecord make_family(const std::string& id, const std::string& user_id) {
  TokenFamilyRecord f;
  f.id = id;
  f.user_id = user_id;
  f.amr = {"pwd", "otp"};
  f.created_at = 2000;
  return f;
}

NewRefreshToken make_token(const std::string& id, std::int64_t expires_at = 9000) {
  return NewRefreshToken{id, "hash-" + id, expires_at};
}

ApiKeyRecord make_api_key(const std::string& prefix, std::int64_t created_at) {
  ApiKeyRecord k;
  k.prefix = prefix;
  k.secret_hash = "sha-" + prefix;
  k.name = "key " + prefix;
  k.roles = {"service"};
  k.owner = "user:admin";
  k.created_at = created_at;
  return k;
}

SigningKeyRecord make_signing_key(const std::string& kid, std::int64_t created_at) {
  SigningKeyRecord k;
  k.kid = kid;
  k.key_label = "jwt-" + kid;
  k.key_uri = "soft:" + kid;
  k.public_key = "MFkw" + kid;
  k.created_at = created_at;
  return k;
}

template <class Backend>
class IdentityStoreConformance : public cartorio::store_test::StoreFixture<Backend> {
 protected:
  using cartorio::store_test::StoreFixture<Backend>::store;

  // A user with a confirmed TOTP secret and the given recovery code hashes.
  void enrolled_user(const std::string& id, const std::vector<std::string>& codes = {"rc1", "rc2", "rc3"}) {
    ASSERT_OK(store().create_user(make_user(id, id)));
    ASSERT_OK(store().set_pending_totp(id, "sealed", 1100));
    ASSERT_OK(store().enable_totp(id, 50, codes, 1200));
  }

};

}  // namespace

// Global names so CTest lists cases as IdentityStoreConformance/<n>.<Case>; the same
// definitions as in store_conformance_test.cpp.
class Sqlite : public SqliteBackend {};
class Postgres : public PostgresBackend {};

namespace {

// NOTE: tests/store/CMakeLists.txt selects the PostgreSQL cases as
// IdentityStoreConformance/1.*: keep Postgres second.
using Backends = ::testing::Types<Sqlite, Postgres>;
TYPED_TEST_SUITE(IdentityStoreConformance, Backends);

// --- users -------------------------------------------------------------------------------

TYPED_TEST(IdentityStoreConformance, RoundTrips_EveryUserField) {
  UserRecord u = make_user("usr_1", "Alice");
  u.display_name = "Al\xc3\xad" "ce Souza";
  u.roles = {"admin", "notary"};
  u.totp_secret = "c2VhbGVk";
  u.totp_enabled = true;
  u.totp_last_step = 123;
  u.failed_logins = 2;
  u.locked_until = 5000;
  u.disabled = true;
  u.created_at = 1'700'000'000;
  u.updated_at = 1'700'000'001;
  ASSERT_OK(this->store().create_user(u));

  auto got = this->store().get_user("usr_1");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->id, u.id);
  EXPECT_EQ(got->username, "Alice");
  EXPECT_EQ(got->display_name, u.display_name);
  EXPECT_EQ(got->roles, u.roles);
  EXPECT_EQ(got->password_hash, u.password_hash);
  EXPECT_EQ(got->totp_secret, u.totp_secret);
  EXPECT_TRUE(got->totp_enabled);
  EXPECT_EQ(got->totp_last_step, 123);
  EXPECT_EQ(got->failed_logins, 2);
  EXPECT_EQ(got->locked_until, 5000);
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->created_at, u.created_at);
  EXPECT_EQ(got->updated_at, u.updated_at);
}

TYPED_TEST(IdentityStoreConformance, FindsUser_IgnoringAsciiCase) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "Alice.Souza")));
  for (const char* name : {"Alice.Souza", "alice.souza", "ALICE.SOUZA"}) {
    auto got = this->store().find_user(name);
    ASSERT_TRUE(got) << name << ": " << got.error().to_string();
    EXPECT_EQ(got->id, "usr_1");
    EXPECT_EQ(got->username, "Alice.Souza");
  }
  EXPECT_ERRC(this->store().find_user("alice"), Errc::not_found);
  EXPECT_ERRC(this->store().get_user("usr_2"), Errc::not_found);
}

TYPED_TEST(IdentityStoreConformance, Rejects_UsernameTakenInAnotherCase_AndDuplicateId) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  EXPECT_ERRC(this->store().create_user(make_user("usr_2", "ALICE")), Errc::already_exists);
  EXPECT_ERRC(this->store().create_user(make_user("usr_1", "bob")), Errc::already_exists);
  EXPECT_ERRC(this->store().find_user("bob"), Errc::not_found);
  UserRecord empty = make_user("usr_3", "carol");
  empty.password_hash.clear();
  EXPECT_ERRC(this->store().create_user(empty), Errc::invalid_argument);
}

TYPED_TEST(IdentityStoreConformance, AcceptsOneOfConcurrentCreates_OfSameUsername) {
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::atomic<int> ok{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto r = this->store().create_user(make_user("usr_" + std::to_string(i), i % 2 ? "Dora" : "dora"));
      if (r) ++ok;
      else if (r.error().code == Errc::already_exists) ++taken;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(taken.load(), kThreads - 1);
}

TYPED_TEST(IdentityStoreConformance, ListsUsers_ByLowercasedName_WithPaging) {
  ASSERT_OK(this->store().create_user(make_user("u1", "carol")));
  ASSERT_OK(this->store().create_user(make_user("u2", "Alice")));
  ASSERT_OK(this->store().create_user(make_user("u3", "bob")));
  auto all = this->store().list_users({});
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].username, "Alice");
  EXPECT_EQ((*all)[1].username, "bob");
  EXPECT_EQ((*all)[2].username, "carol");
  auto page = this->store().list_users(UserFilter{1, 1});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].username, "bob");
  EXPECT_ERRC(this->store().list_users(UserFilter{0, 0}), Errc::invalid_argument);
  EXPECT_ERRC(this->store().list_users(UserFilter{10, -1}), Errc::invalid_argument);
}

TYPED_TEST(IdentityStoreConformance, UpdatesOnlyGivenFields) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  UserUpdate roles;
  roles.roles = std::vector<std::string>{"auditor", "clerk"};
  roles.updated_at = 1500;
  auto updated = this->store().update_user("usr_1", roles);
  ASSERT_TRUE(updated) << updated.error().to_string();
  EXPECT_EQ(updated->roles, (std::vector<std::string>{"auditor", "clerk"}));
  EXPECT_EQ(updated->display_name, "User alice");
  EXPECT_EQ(updated->updated_at, 1500);
  EXPECT_FALSE(updated->disabled);

  UserUpdate pw;
  pw.password_hash = "$argon2id$new";
  pw.display_name = "Alice S.";
  pw.disabled = true;
  pw.updated_at = 1600;
  ASSERT_OK(this->store().update_user("usr_1", pw));
  auto got = this->store().get_user("usr_1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->password_hash, "$argon2id$new");
  EXPECT_EQ(got->display_name, "Alice S.");
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->roles, (std::vector<std::string>{"auditor", "clerk"}));

  EXPECT_ERRC(this->store().update_user("nobody", pw), Errc::not_found);
}

TYPED_TEST(IdentityStoreConformance, LocksAccount_AfterConsecutiveFailures_AndEnablingUnlocks) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  auto f1 = this->store().record_login_failure("usr_1", 3, 9999);
  ASSERT_TRUE(f1) << f1.error().to_string();
  EXPECT_EQ(f1->failed_logins, 1);
  EXPECT_EQ(f1->locked_until, 0);
  ASSERT_OK(this->store().record_login_failure("usr_1", 3, 9999));
  auto f3 = this->store().record_login_failure("usr_1", 3, 9999);
  ASSERT_TRUE(f3);
  EXPECT_EQ(f3->failed_logins, 0);  // the counter restarts once the lock is set
  EXPECT_EQ(f3->locked_until, 9999);

  ASSERT_OK(this->store().clear_login_failures("usr_1"));
  auto cleared = this->store().get_user("usr_1");
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->locked_until, 0);
  EXPECT_EQ(cleared->failed_logins, 0);

  ASSERT_OK(this->store().record_login_failure("usr_1", 1, 7777));
  UserUpdate enable;
  enable.disabled = false;
  enable.updated_at = 2000;
  auto enabled = this->store().update_user("usr_1", enable);
  ASSERT_TRUE(enabled);
  EXPECT_EQ(enabled->locked_until, 0);

  EXPECT_ERRC(this->store().record_login_failure("nobody", 3, 1), Errc::not_found);
  EXPECT_ERRC(this->store().record_login_failure("usr_1", 0, 1), Errc::invalid_argument);
  EXPECT_ERRC(this->store().clear_login_failures("nobody"), Errc::not_found);
}

TYPED_TEST(IdentityStoreConformance, CountsEveryConcurrentLoginFailure) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      EXPECT_TRUE(this->store().record_login_failure("usr_1", 100, 1));
    });
  }
  for (auto& t : threads) t.join();
  auto got = this->store().get_user("usr_1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->failed_logins, kThreads);
}

// --- MFA ---------------------------------------------------------------------------------

TYPED_TEST(IdentityStoreConformance, EnablesTotp_OnceFromAPendingSecret) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  EXPECT_ERRC(this->store().enable_totp("usr_1", 10, {}, 1100), Errc::conflict);  // nothing pending
  ASSERT_OK(this->store().set_pending_totp("usr_1", "sealed-1", 1100));
  ASSERT_OK(this->store().set_pending_totp("usr_1", "sealed-2", 1101));  // a new start replaces it
  ASSERT_OK(this->store().enable_totp("usr_1", 10, {"h1", "h2"}, 1200));
  auto got = this->store().get_user("usr_1");
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->totp_enabled);
  EXPECT_EQ(got->totp_secret, "sealed-2");
  EXPECT_EQ(got->totp_last_step, 10);

  EXPECT_ERRC(this->store().enable_totp("usr_1", 11, {"h3"}, 1300), Errc::conflict);
  EXPECT_ERRC(this->store().set_pending_totp("usr_1", "sealed-3", 1300), Errc::conflict);
  EXPECT_ERRC(this->store().set_pending_totp("nobody", "sealed", 1300), Errc::not_found);
  EXPECT_ERRC(this->store().enable_totp("nobody", 1, {}, 1300), Errc::not_found);
  auto codes = this->store().count_recovery_codes("usr_1");
  ASSERT_TRUE(codes);
  EXPECT_EQ(*codes, 2);
}

TYPED_TEST(IdentityStoreConformance, AcceptsEachTotpStepOnce_AndOnlyLaterOnes) {
  this->enrolled_user("usr_1");  // last step 50
  auto use = [this](std::int64_t step) {
    auto r = this->store().use_totp_step("usr_1", step);
    EXPECT_TRUE(r) << r.error().to_string();
    return r && *r;
  };
  EXPECT_FALSE(use(50));  // the step shown at confirmation
  EXPECT_TRUE(use(51));
  EXPECT_FALSE(use(51));  // replay
  EXPECT_FALSE(use(49));  // older
  EXPECT_TRUE(use(53));
  EXPECT_FALSE(use(52));

  ASSERT_OK(this->store().create_user(make_user("usr_2", "bob")));  // not enrolled
  auto r = this->store().use_totp_step("usr_2", 100);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

TYPED_TEST(IdentityStoreConformance, AcceptsOneOfConcurrentUses_OfSameTotpStep) {
  this->enrolled_user("usr_1");
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto r = this->store().use_totp_step("usr_1", 60);
      if (r && *r) ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
}

TYPED_TEST(IdentityStoreConformance, UsesRecoveryCodeOnce_AndResetRemovesThem) {
  this->enrolled_user("usr_1", {"rc1", "rc2", "rc3"});
  auto first = this->store().use_recovery_code("usr_1", "rc2", 1500);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto again = this->store().use_recovery_code("usr_1", "rc2", 1501);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto unknown = this->store().use_recovery_code("usr_1", "nope", 1501);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
  ASSERT_OK(this->store().create_user(make_user("usr_2", "bob")));
  auto other_user = this->store().use_recovery_code("usr_2", "rc1", 1501);
  ASSERT_TRUE(other_user);
  EXPECT_FALSE(*other_user);
  auto left = this->store().count_recovery_codes("usr_1");
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, 2);

  ASSERT_OK(this->store().reset_totp("usr_1", 1600));
  auto got = this->store().get_user("usr_1");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->totp_enabled);
  EXPECT_EQ(got->totp_secret, "");
  auto none = this->store().count_recovery_codes("usr_1");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  auto after_reset = this->store().use_recovery_code("usr_1", "rc1", 1601);
  ASSERT_TRUE(after_reset);
  EXPECT_FALSE(*after_reset);
  EXPECT_ERRC(this->store().reset_totp("nobody", 1), Errc::not_found);
}

// --- refresh token families ------------------------------------------------------------

TYPED_TEST(IdentityStoreConformance, RotatesRefreshToken_AndDetectsReuse) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_1", "usr_1"), make_token("rt1")));

  auto rotated = this->store().rotate_refresh_token("hash-rt1", make_token("rt2"), 3000);
  ASSERT_TRUE(rotated) << rotated.error().to_string();
  EXPECT_EQ(rotated->outcome, RefreshOutcome::rotated);
  EXPECT_EQ(rotated->presented.id, "rt1");
  EXPECT_EQ(rotated->presented.user_id, "usr_1");
  EXPECT_EQ(rotated->family.id, "fam_1");
  EXPECT_EQ(rotated->family.amr, (std::vector<std::string>{"pwd", "otp"}));
  auto next = this->store().find_refresh_token("hash-rt2");
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(next->family_id, "fam_1");
  EXPECT_EQ(next->created_at, 3000);
  auto old = this->store().find_refresh_token("hash-rt1");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->used_at, 3000);

  // The old token again: reuse. The whole family dies, the new token with it.
  auto reused = this->store().rotate_refresh_token("hash-rt1", make_token("rt3"), 3100);
  ASSERT_TRUE(reused) << reused.error().to_string();
  EXPECT_EQ(reused->outcome, RefreshOutcome::reused);
  EXPECT_EQ(reused->family.id, "fam_1");
  auto family = this->store().get_token_family("fam_1");
  ASSERT_TRUE(family);
  EXPECT_EQ(family->revoked_at, 3100);
  EXPECT_ERRC(this->store().find_refresh_token("hash-rt3"), Errc::not_found);

  auto after = this->store().rotate_refresh_token("hash-rt2", make_token("rt4"), 3200);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->outcome, RefreshOutcome::revoked);
  EXPECT_ERRC(this->store().find_refresh_token("hash-rt4"), Errc::not_found);
}

TYPED_TEST(IdentityStoreConformance, RefusesExpiredAndUnknownRefreshTokens) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_1", "usr_1"), make_token("rt1", 3000)));
  auto expired = this->store().rotate_refresh_token("hash-rt1", make_token("rt2"), 3000);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->outcome, RefreshOutcome::expired);
  EXPECT_ERRC(this->store().find_refresh_token("hash-rt2"), Errc::not_found);
  auto unknown = this->store().rotate_refresh_token("hash-none", make_token("rt3"), 2000);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->outcome, RefreshOutcome::unknown);
  EXPECT_TRUE(unknown->presented.id.empty());
}

TYPED_TEST(IdentityStoreConformance, RotatesOnce_WhenSameTokenPresentedConcurrently) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_1", "usr_1"), make_token("rt0")));
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::atomic<int> rotated{0}, reused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto r = this->store().rotate_refresh_token("hash-rt0", make_token("next" + std::to_string(i)), 2500);
      if (!r) ++other;
      else if (r->outcome == RefreshOutcome::rotated) ++rotated;
      else if (r->outcome == RefreshOutcome::reused || r->outcome == RefreshOutcome::revoked) ++reused;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(rotated.load(), 1);
  EXPECT_EQ(reused.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
}

TYPED_TEST(IdentityStoreConformance, RevokesFamilies_ByIdAndByUser) {
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  ASSERT_OK(this->store().create_user(make_user("usr_2", "bob")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_1", "usr_1"), make_token("rt1")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_2", "usr_1"), std::nullopt));
  ASSERT_OK(this->store().create_token_family(make_family("fam_3", "usr_1"), make_token("rt3")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_4", "usr_2"), make_token("rt4")));

  auto first = this->store().revoke_token_family("fam_1", 4000);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = this->store().revoke_token_family("fam_1", 4001);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  auto token = this->store().find_refresh_token("hash-rt1");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->revoked_at, 4000);
  EXPECT_ERRC(this->store().revoke_token_family("fam_none", 1), Errc::not_found);

  auto count = this->store().revoke_user_token_families("usr_1", 5000);
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 2);  // fam_2 and fam_3; fam_1 was already revoked
  auto fam3 = this->store().get_token_family("fam_3");
  ASSERT_TRUE(fam3);
  EXPECT_EQ(fam3->revoked_at, 5000);
  auto rt3 = this->store().rotate_refresh_token("hash-rt3", make_token("rt5"), 5001);
  ASSERT_TRUE(rt3);
  EXPECT_EQ(rt3->outcome, RefreshOutcome::revoked);
  auto fam4 = this->store().get_token_family("fam_4");
  ASSERT_TRUE(fam4);
  EXPECT_EQ(fam4->revoked_at, 0);
  EXPECT_ERRC(this->store().get_token_family("fam_none"), Errc::not_found);
}

TYPED_TEST(IdentityStoreConformance, Rejects_FamilyOfUnknownUser_AndDuplicateTokenHash) {
  EXPECT_ERRC(this->store().create_token_family(make_family("fam_1", "nobody"), make_token("rt1")),
              Errc::invalid_argument);
  ASSERT_OK(this->store().create_user(make_user("usr_1", "alice")));
  ASSERT_OK(this->store().create_token_family(make_family("fam_1", "usr_1"), make_token("rt1")));
  EXPECT_ERRC(this->store().create_token_family(make_family("fam_2", "usr_1"), make_token("rt1")),
              Errc::already_exists);
  EXPECT_ERRC(this->store().get_token_family("fam_2"), Errc::not_found);  // nothing half-written
}

// --- API keys ------------------------------------------------------------------------------

TYPED_TEST(IdentityStoreConformance, StoresListsAndRevokesApiKeys) {
  ASSERT_OK(this->store().insert_api_key(make_api_key("bbbb2222", 200)));
  ASSERT_OK(this->store().insert_api_key(make_api_key("aaaa1111", 300)));
  EXPECT_ERRC(this->store().insert_api_key(make_api_key("aaaa1111", 400)), Errc::already_exists);
  ApiKeyRecord bad = make_api_key("cccc3333", 1);
  bad.secret_hash.clear();
  EXPECT_ERRC(this->store().insert_api_key(bad), Errc::invalid_argument);

  auto got = this->store().get_api_key("aaaa1111");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->secret_hash, "sha-aaaa1111");
  EXPECT_EQ(got->roles, (std::vector<std::string>{"service"}));
  EXPECT_EQ(got->owner, "user:admin");
  EXPECT_EQ(got->created_at, 300);
  EXPECT_ERRC(this->store().get_api_key("zzzz9999"), Errc::not_found);

  auto all = this->store().list_api_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].prefix, "bbbb2222");  // by creation time
  EXPECT_EQ((*all)[1].prefix, "aaaa1111");

  auto revoked = this->store().revoke_api_key("aaaa1111", 500);
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(*revoked);
  auto again = this->store().revoke_api_key("aaaa1111", 600);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_ERRC(this->store().revoke_api_key("zzzz9999", 600), Errc::not_found);
  auto after = this->store().get_api_key("aaaa1111");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->revoked_at, 500);
}

TYPED_TEST(IdentityStoreConformance, RecordsApiKeyUse_AtMostOncePerInterval) {
  ASSERT_OK(this->store().insert_api_key(make_api_key("aaaa1111", 100)));
  ASSERT_OK(this->store().record_api_key_use("aaaa1111", 1000, 940));
  ASSERT_OK(this->store().record_api_key_use("aaaa1111", 1010, 950));  // used at 1000 >= 950: no write
  auto got = this->store().get_api_key("aaaa1111");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->last_used_at, 1000);
  ASSERT_OK(this->store().record_api_key_use("aaaa1111", 1100, 1040));
  got = this->store().get_api_key("aaaa1111");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->last_used_at, 1100);
  ASSERT_OK(this->store().record_api_key_use("zzzz9999", 1100, 1040));  // unknown: ignored
}

// --- signing keys --------------------------------------------------------------------------

TYPED_TEST(IdentityStoreConformance, AddsSigningKey_RetiringThePreviousOne) {
  ASSERT_OK(this->store().add_signing_key(make_signing_key("kid-a", 100)));
  ASSERT_OK(this->store().add_signing_key(make_signing_key("kid-b", 200)));
  EXPECT_ERRC(this->store().add_signing_key(make_signing_key("kid-b", 300)), Errc::already_exists);

  auto keys = this->store().list_signing_keys();
  ASSERT_TRUE(keys) << keys.error().to_string();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "kid-a");
  EXPECT_EQ((*keys)[0].retired_at, 200);
  EXPECT_EQ((*keys)[0].key_uri, "soft:kid-a");
  EXPECT_EQ((*keys)[0].key_label, "jwt-kid-a");
  EXPECT_EQ((*keys)[0].public_key, "MFkwkid-a");
  EXPECT_EQ((*keys)[0].algorithm, "ES256");
  EXPECT_EQ((*keys)[1].kid, "kid-b");
  EXPECT_EQ((*keys)[1].retired_at, 0);  // the failed duplicate retired nothing
}

TYPED_TEST(IdentityStoreConformance, LeavesOneCurrentSigningKey_WhenRotationsRace) {
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      EXPECT_TRUE(this->store().add_signing_key(make_signing_key("kid-" + std::to_string(i), 100 + i)));
    });
  }
  for (auto& t : threads) t.join();
  auto keys = this->store().list_signing_keys();
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), static_cast<std::size_t>(kThreads));
  int current = 0;
  for (const auto& k : *keys) current += k.retired_at == 0 ? 1 : 0;
  EXPECT_EQ(current, 1);
}

}  // namespace
