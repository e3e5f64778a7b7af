// User administration and self-service: validation, uniqueness, roles, passwords, and the
// service's own construction checks.
#include "identity_test_support.h"

namespace cartorio::identity::test {
namespace {

using core::Errc;

class UserAdminTest : public IdentityFixture {};

TEST(Usernames, Validation) {
  for (const char* ok : {"alice", "a", "Alice.Smith", "bob_1", "carol@example.com", "x-y", "9lives",
                         "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"})
    EXPECT_TRUE(validate_username(ok)) << ok;
  for (const char* bad : {"", ".alice", "-bob", "_x", "@x", "al ice", "al/ice", "alice\n", "ação",
                          "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"})
    EXPECT_ERRC(validate_username(bad), Errc::invalid_argument);
}

TEST(Mfa, RequiredForEveryHuman) {
  EXPECT_FALSE(requires_mfa({Role::service}));
  EXPECT_TRUE(requires_mfa({Role::service, Role::clerk}));
  for (Role r : {Role::admin, Role::notary, Role::clerk, Role::auditor}) EXPECT_TRUE(requires_mfa({r}));
  EXPECT_TRUE(requires_mfa({}));
}

TEST_F(UserAdminTest, CreateAndRead) {
  auto u = svc().create_user(Actor{"user:root"},
                             NewUser{"Alice", "Alice Souza", {Role::notary, Role::clerk, Role::notary}, kPassword});
  ASSERT_OK(u);
  EXPECT_EQ(u->username, "Alice");
  EXPECT_EQ(u->display_name, "Alice Souza");
  EXPECT_EQ(u->roles, (std::vector<Role>{Role::notary, Role::clerk}));
  EXPECT_TRUE(u->mfa_required);
  EXPECT_FALSE(u->mfa_enabled);
  EXPECT_EQ(u->created_at, kStartUnix);
  // Lookup ignores ASCII case; the name keeps its spelling.
  auto got = svc().get_user("alice");
  ASSERT_OK(got);
  EXPECT_EQ(got->username, "Alice");
  EXPECT_ERRC(svc().get_user("nobody"), Errc::not_found);
  EXPECT_ERRC(svc().get_user("not valid!"), Errc::invalid_argument);
  // The password is stored as an argon2id hash, never in clear.
  auto rec = m_store->find_user("alice");
  ASSERT_OK(rec);
  EXPECT_TRUE(rec->password_hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$")) << rec->password_hash;
  EXPECT_EQ(rec->password_hash.find(kPassword), std::string::npos);
}

TEST_F(UserAdminTest, CreateIsValidated) {
  const Actor root{"user:root"};
  create_user("taken", {Role::clerk});
  EXPECT_ERRC(svc().create_user(root, NewUser{"TAKEN", "", {Role::clerk}, kPassword}), Errc::already_exists);
  EXPECT_ERRC(svc().create_user(root, NewUser{"bad name", "", {Role::clerk}, kPassword}), Errc::invalid_argument);
  EXPECT_ERRC(svc().create_user(root, NewUser{"noroles", "", {}, kPassword}), Errc::invalid_argument);
  EXPECT_ERRC(svc().create_user(root, NewUser{"short", "", {Role::clerk}, "too short"}), Errc::invalid_argument);
  EXPECT_ERRC(svc().create_user(root, NewUser{"samesame.user", "", {Role::clerk}, "SameSame.User"}),
              Errc::invalid_argument);
  EXPECT_ERRC(svc().create_user(root, NewUser{"ctrl", "bad\x01name", {Role::clerk}, kPassword}),
              Errc::invalid_argument);
  EXPECT_ERRC(svc().create_user(root, NewUser{"long", std::string(201, 'd'), {Role::clerk}, kPassword}),
              Errc::invalid_argument);
  // Nothing was written by the refused calls.
  auto all = svc().list_users();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].username, "taken");
}

TEST_F(UserAdminTest, ListUsersPagesInUsernameOrder) {
  for (const char* n : {"zoe", "Bruno", "ana", "carla"}) create_user(n, {Role::clerk});
  auto all = svc().list_users();
  ASSERT_OK(all);
  std::vector<std::string> names;
  for (const auto& u : *all) names.push_back(u.username);
  EXPECT_EQ(names, (std::vector<std::string>{"ana", "Bruno", "carla", "zoe"}));
  auto page = svc().list_users(2, 1);
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].username, "Bruno");
  EXPECT_ERRC(svc().list_users(0, 0), Errc::invalid_argument);
  EXPECT_ERRC(svc().list_users(1001, 0), Errc::invalid_argument);
  EXPECT_ERRC(svc().list_users(10, -1), Errc::invalid_argument);
}

TEST_F(UserAdminTest, UpdateUser) {
  create_user("rita", {Role::clerk});
  const Actor root{"user:root"};
  auto u = svc().update_user(root, "rita", UserChange{std::vector<Role>{Role::auditor}, {}, std::string("Rita L.")});
  ASSERT_OK(u);
  EXPECT_EQ(u->roles, std::vector<Role>{Role::auditor});
  EXPECT_EQ(u->display_name, "Rita L.");
  EXPECT_ERRC(svc().update_user(root, "rita", UserChange{std::vector<Role>{}, {}, {}}), Errc::invalid_argument);
  EXPECT_ERRC(svc().update_user(root, "nobody", UserChange{{}, true, {}}), Errc::not_found);
  auto d = svc().update_user(root, "rita", UserChange{{}, true, {}});
  ASSERT_OK(d);
  EXPECT_TRUE(d->disabled);
  EXPECT_ERRC(svc().me(Actor{"user:rita"}), Errc::unauthenticated);
}

TEST_F(UserAdminTest, ChangePassword) {
  create_user("sam", {Role::service});
  const Actor sam{"user:sam"};
  EXPECT_ERRC(svc().change_password(sam, "not the current one", "another long password"), Errc::unauthenticated);
  EXPECT_ERRC(svc().change_password(sam, kPassword, "short"), Errc::invalid_argument);
  EXPECT_ERRC(svc().change_password(Actor{"apikey:abcdefgh"}, kPassword, "another long password"),
              Errc::unauthenticated);
  ASSERT_OK(svc().change_password(sam, kPassword, "another long password"));
  EXPECT_FALSE(password_grant("sam", kPassword).ok());
  EXPECT_TRUE(password_grant("sam", "another long password").ok());
  // Administrative reset.
  ASSERT_OK(svc().set_password(Actor{"user:root"}, "sam", "reset by the administrator"));
  EXPECT_FALSE(password_grant("sam", "another long password").ok());
  EXPECT_TRUE(password_grant("sam", "reset by the administrator").ok());
  EXPECT_ERRC(svc().set_password(Actor{"user:root"}, "sam", "sam"), Errc::invalid_argument);
  EXPECT_ERRC(svc().set_password(Actor{"user:root"}, "nobody", "reset by the administrator"), Errc::not_found);
}

TEST_F(UserAdminTest, ChangePasswordIsThrottled) {
  IdentityOptions o = m_options;
  o.throttle.per_username = cache::TokenBucket{2, 1.0 / 30};
  auto svc2 = make_service(o);
  ASSERT_NE(svc2, nullptr);
  create_user("tess", {Role::service});
  const Actor tess{"user:tess"};
  EXPECT_ERRC(svc2->change_password(tess, "wrong current pw", "another long password"), Errc::unauthenticated);
  EXPECT_ERRC(svc2->change_password(tess, "wrong current pw", "another long password"), Errc::unauthenticated);
  EXPECT_ERRC(svc2->change_password(tess, kPassword, "another long password"), Errc::permission_denied);
}

TEST_F(UserAdminTest, LoginRehashesWithRaisedParameters) {
  create_user("uma", {Role::service});
  IdentityOptions o = m_options;
  o.password = PasswordParams{2, 512, 1};
  auto svc2 = make_service(o);
  ASSERT_NE(svc2, nullptr);
  TokenRequest r;
  r.grant_type = "password";
  r.username = "uma";
  r.password = kPassword;
  ASSERT_TRUE(svc2->grant(r).ok());
  auto rec = m_store->find_user("uma");
  ASSERT_OK(rec);
  EXPECT_TRUE(rec->password_hash.starts_with("$argon2id$v=19$m=512,t=2,p=1$")) << rec->password_hash;
  ASSERT_TRUE(password_grant("uma").ok());  // still the same password
}

TEST_F(UserAdminTest, CreateRefusesBadConfiguration) {
  auto make = [&](IdentityOptions o, std::size_t key_bytes = 32) {
    return IdentityService::create(IdentityStores::of(*m_store), *m_keys, *m_cache, m_clock,
                                   crypto::SecretBytes(key_bytes), std::move(o));
  };
  ASSERT_OK(make(m_options));
  EXPECT_ERRC(make(m_options, 16), Errc::config_invalid);
  EXPECT_ERRC(make(m_options, 0), Errc::config_invalid);
  IdentityStores missing = IdentityStores::of(*m_store);
  missing.audit = nullptr;
  EXPECT_ERRC(IdentityService::create(missing, *m_keys, *m_cache, m_clock, crypto::SecretBytes(32), m_options),
              Errc::config_invalid);
  auto bad = [&](auto mutate) {
    IdentityOptions o = m_options;
    mutate(o);
    return make(o);
  };
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.issuer.clear(); }), Errc::config_invalid);
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.audience.clear(); }), Errc::config_invalid);
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.access_token_ttl = std::chrono::seconds(0); }), Errc::config_invalid);
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.clock_leeway = std::chrono::seconds(-1); }), Errc::config_invalid);
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.password.t_cost = 0; }), Errc::config_invalid);
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.throttle.lockout_after = 0; }), Errc::config_invalid);
  EXPECT_ERRC(bad([](IdentityOptions& o) { o.throttle.per_username.capacity = 0; }), Errc::config_invalid);
}

TEST_F(UserAdminTest, IssuerAndAudienceComeFromOptions) {
  IdentityOptions o = m_options;
  o.issuer = "https://cartorio.example";
  o.audience = "https://cartorio.example/api";
  auto custom = make_service(o);
  ASSERT_NE(custom, nullptr);
  create_user("vera", {Role::service});
  TokenRequest r;
  r.grant_type = "password";
  r.username = "vera";
  r.password = kPassword;
  auto g = custom->grant(r);
  ASSERT_TRUE(g.ok()) << g.error().description;
  const auto claims = decode_jwt(g.tokens().access_token).payload;
  EXPECT_EQ(claims["iss"], "https://cartorio.example");
  EXPECT_EQ(claims["aud"], "https://cartorio.example/api");
  ASSERT_OK(custom->authenticate_bearer(g.tokens().access_token));
  // Same keys, other issuer/audience: the default service refuses the token.
  EXPECT_ERRC(svc().authenticate_bearer(g.tokens().access_token), Errc::unauthenticated);
}

TEST_F(UserAdminTest, StateChangesAreAudited) {
  create_user("walt", {Role::service});
  ASSERT_TRUE(password_grant("walt").ok());
  ASSERT_FALSE(password_grant("walt", "the wrong password").ok());
  auto events = m_store->list_audit_events({});
  ASSERT_OK(events);
  std::vector<std::string> actions;
  for (const auto& e : *events) {
    actions.push_back(e.action + ":" + e.result);
    // No secret ever reaches the audit trail.
    EXPECT_EQ(e.details.find(kPassword), std::string::npos) << e.details;
    EXPECT_EQ(e.details.find("the wrong password"), std::string::npos) << e.details;
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"identity.user.create:success", "identity.login:success",
                                               "identity.login:failure"}));
}

}  // namespace
}  // namespace cartorio::identity::test
