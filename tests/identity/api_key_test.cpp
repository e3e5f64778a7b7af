// API keys: creation, listing without secrets, the ApiKey authenticator, the
// client_credentials grant, and revocation.
#include "identity_test_support.h"

#include <regex>

namespace cartorio::identity::test {
namespace {

using core::Errc;

class ApiKeyTest : public IdentityFixture {
 protected:
  void SetUp() override {
    IdentityFixture::SetUp();
    if (HasFatalFailure()) return;
    auto k = svc().create_api_key(m_admin, "billing system", {Role::service});
    ASSERT_OK(k);
    m_key = *k;
  }

  std::string secret_part() const { return m_key.key.substr(3 + 8 + 1); }

  const Actor m_admin{"user:root", "192.0.2.10", "req-1"};
  CreatedApiKey m_key;
};

TEST_F(ApiKeyTest, KeyFormatAndView) {
  EXPECT_TRUE(std::regex_match(m_key.key, std::regex("^ck_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$"))) << m_key.key;
  EXPECT_EQ(m_key.key.substr(3, 8), m_key.info.prefix);
  EXPECT_EQ(m_key.info.name, "billing system");
  EXPECT_EQ(m_key.info.roles, std::vector<Role>{Role::service});
  EXPECT_EQ(m_key.info.owner, "user:root");
  EXPECT_EQ(m_key.info.created_at, kStartUnix);
  EXPECT_EQ(m_key.info.revoked_at, 0);
  auto again = svc().create_api_key(m_admin, "billing system", {Role::service});
  ASSERT_OK(again);
  EXPECT_NE(again->info.prefix, m_key.info.prefix);
  EXPECT_NE(again->key.substr(12), secret_part());
}

TEST_F(ApiKeyTest, ListShowsPrefixOnlyNeverTheSecret) {
  auto list = svc().list_api_keys();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 1u);
  const auto& v = (*list)[0];
  EXPECT_EQ(v.prefix, m_key.info.prefix);
  EXPECT_EQ(v.name, "billing system");
  EXPECT_EQ(v.roles, std::vector<Role>{Role::service});
  for (const std::string& field : {v.prefix, v.name, v.owner}) {
    EXPECT_EQ(field.find(secret_part()), std::string::npos);
    EXPECT_EQ(field.find(m_key.key), std::string::npos);
  }
  // Nor is the secret (or its hash) in the store in clear: only its SHA-256.
  auto rec = m_store->get_api_key(m_key.info.prefix);
  ASSERT_OK(rec);
  EXPECT_NE(rec->secret_hash, secret_part());
  EXPECT_EQ(rec->secret_hash, crypto::to_hex(crypto::sha256(crypto::as_bytes(secret_part()))));
}

TEST_F(ApiKeyTest, AuthenticateApiKey) {
  m_clock.advance(std::chrono::seconds(5));
  auto p = svc().authenticate_api_key(m_key.key);
  ASSERT_OK(p);
  EXPECT_EQ(p->subject, "apikey:" + m_key.info.prefix);
  EXPECT_EQ(p->roles, std::vector<Role>{Role::service});
  EXPECT_EQ(p->method, AuthMethod::api_key);
  EXPECT_EQ(p->token_id, m_key.info.prefix);
  EXPECT_TRUE(p->allows(Permission::document_request));
  EXPECT_FALSE(p->allows(Permission::user_admin));
  // Its use is recorded (at most once per interval).
  auto list = svc().list_api_keys();
  ASSERT_OK(list);
  EXPECT_EQ((*list)[0].last_used_at, kStartUnix + 5);
  m_clock.advance(std::chrono::seconds(10));
  ASSERT_OK(svc().authenticate_api_key(m_key.key));
  list = svc().list_api_keys();
  ASSERT_OK(list);
  EXPECT_EQ((*list)[0].last_used_at, kStartUnix + 5);
  m_clock.advance(m_options.api_key_use_interval);
  ASSERT_OK(svc().authenticate_api_key(m_key.key));
  list = svc().list_api_keys();
  ASSERT_OK(list);
  EXPECT_EQ((*list)[0].last_used_at, kStartUnix + 15 + m_options.api_key_use_interval.count());
}

TEST_F(ApiKeyTest, TamperedKeysAreRefused) {
  auto other = svc().create_api_key(m_admin, "other", {Role::admin});
  ASSERT_OK(other);
  const std::string& k = m_key.key;
  auto flip = [](std::string s, std::size_t i) {
    s[i] = s[i] == 'A' ? 'B' : 'A';
    return s;
  };
  std::string other_prefix = k;
  other_prefix.replace(3, 8, other->info.prefix);  // right format, wrong secret for that prefix
  const std::vector<std::pair<std::string, std::string>> tampered = {
      {"secret first char", flip(k, 12)},
      {"secret middle char", flip(k, 30)},
      {"prefix char", k.substr(0, 3) + (k[3] == 'a' ? "b" : "a") + k.substr(4)},
      {"other key's prefix", other_prefix},
      {"truncated", k.substr(0, k.size() - 1)},
      {"extended", k + "A"},
      {"no ck_", k.substr(3)},
      {"CK_", "CK_" + k.substr(3)},
      {"separator", k.substr(0, 11) + "-" + k.substr(12)},
      {"upper-case prefix", "ck_" + std::string(8, 'A') + k.substr(11)},
      {"empty", ""},
      {"ck_ only", "ck_"},
      {"whitespace", " " + k.substr(1)},
      {"a JWT", "eyJhbGciOiJFUzI1NiJ9.e30.e30"},
  };
  for (const auto& [what, key] : tampered) {
    auto p = svc().authenticate_api_key(key);
    ASSERT_FALSE(p) << what << " accepted";
    EXPECT_EQ(p.error().code, Errc::unauthenticated) << what << ": " << p.error().to_string();
    // The message is for the log; it never echoes the presented key.
    if (key.size() > 12) {
      EXPECT_EQ(p.error().message.find(key.substr(12)), std::string::npos) << what;
    }
  }
  ASSERT_OK(svc().authenticate_api_key(m_key.key));
  ASSERT_OK(svc().authenticate_api_key(other->key));
}

TEST_F(ApiKeyTest, ClientCredentialsGrant) {
  for (const std::string& client_id : {std::string(), "ck_" + m_key.info.prefix, m_key.info.prefix}) {
    auto g = client_credentials(m_key.key, client_id);
    ASSERT_TRUE(g.ok()) << "client_id '" << client_id << "': " << g.error().description;
    EXPECT_EQ(g.tokens().scope, "service");
    EXPECT_TRUE(g.tokens().refresh_token.empty());  // RFC 6749 4.4.3
    EXPECT_EQ(g.tokens().expires_in, 600);
    const auto claims = decode_jwt(g.tokens().access_token).payload;
    EXPECT_EQ(claims["sub"], "apikey:" + m_key.info.prefix);
    EXPECT_EQ(claims["client_id"], "ck_" + m_key.info.prefix);
    EXPECT_FALSE(claims.contains("sid"));
    auto p = svc().authenticate_bearer(g.tokens().access_token);
    ASSERT_OK(p);
    EXPECT_EQ(p->subject, "apikey:" + m_key.info.prefix);
    EXPECT_EQ(p->roles, std::vector<Role>{Role::service});
    EXPECT_EQ(p->method, AuthMethod::bearer_token);
  }
  // The key's roles, whatever they are.
  auto admin_key = svc().create_api_key(m_admin, "automation", {Role::admin, Role::auditor});
  ASSERT_OK(admin_key);
  auto g = client_credentials(admin_key->key);
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_EQ(g.tokens().scope, "admin auditor");
  auto p = svc().authenticate_bearer(g.tokens().access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->roles, (std::vector<Role>{Role::admin, Role::auditor}));
}

TEST_F(ApiKeyTest, ClientCredentialsRefusals) {
  auto expect_invalid_client = [](const GrantResult& g, const std::string& what) {
    ASSERT_FALSE(g.ok()) << what;
    EXPECT_EQ(g.error().error, OAuthError::invalid_client) << what;
    EXPECT_EQ(g.error().description, "client authentication failed") << what;
  };
  expect_invalid_client(client_credentials(""), "no secret");
  std::string wrong = m_key.key;
  wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
  expect_invalid_client(client_credentials(wrong), "wrong secret");
  expect_invalid_client(client_credentials(m_key.key, "ck_zzzzzzzz"), "client_id of another key");
  expect_invalid_client(client_credentials(m_key.key, "cartorio"), "portal client_id");
  expect_invalid_client(client_credentials("password"), "not a key");
}

// RFC 8705: client_credentials authenticated by a client certificate (the HTTP layer maps
// it to a service) gives a token bound to that certificate's thumbprint.
TEST_F(ApiKeyTest, ClientCredentialsByMutualTlsAreBoundToTheCertificate) {
  TokenRequest r;
  r.grant_type = "client_credentials";
  r.source = "127.0.0.1";
  Principal service;
  service.subject = "service:archive";
  service.roles = {Role::service};
  service.method = AuthMethod::client_certificate;
  r.certificate_client = service;
  r.certificate_thumbprint = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
  auto g = svc().grant(r);
  ASSERT_TRUE(g.ok()) << g.error().description;
  EXPECT_TRUE(g.tokens().refresh_token.empty());
  const auto claims = decode_jwt(g.tokens().access_token).payload;
  EXPECT_EQ(claims["sub"], "service:archive");
  EXPECT_EQ(claims["cnf"]["x5t#S256"], r.certificate_thumbprint);
  auto p = svc().authenticate_bearer(g.tokens().access_token);
  ASSERT_OK(p);
  EXPECT_EQ(p->subject, "service:archive");
  EXPECT_EQ(p->certificate_thumbprint, r.certificate_thumbprint) << "the HTTP layer enforces the binding";
  EXPECT_EQ(p->roles, std::vector<Role>{Role::service});

  // Without a thumbprint, or for something that is not a service, nothing is issued.
  r.certificate_thumbprint.clear();
  EXPECT_FALSE(svc().grant(r).ok());
  r.certificate_thumbprint = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
  r.certificate_client->subject = "user:alice";
  EXPECT_FALSE(svc().grant(r).ok());
  // A secret, when given, wins: it is checked as an API key.
  r.certificate_client = service;
  r.client_secret = "not-a-key";
  ASSERT_FALSE(svc().grant(r).ok());
  EXPECT_EQ(svc().grant(r).error().error, OAuthError::invalid_client);
}

TEST_F(ApiKeyTest, RevokedKeyIsRefusedEverywhere) {
  auto g = client_credentials(m_key.key);
  ASSERT_TRUE(g.ok());
  ASSERT_OK(svc().revoke_api_key(m_admin, m_key.info.prefix));
  auto cc = client_credentials(m_key.key);
  ASSERT_FALSE(cc.ok());
  EXPECT_EQ(cc.error().error, OAuthError::invalid_client);
  EXPECT_ERRC(svc().authenticate_api_key(m_key.key), Errc::unauthenticated);
  // Tokens it obtained before end with it.
  EXPECT_ERRC(svc().authenticate_bearer(g.tokens().access_token), Errc::unauthenticated);
  auto list = svc().list_api_keys();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].revoked_at, kStartUnix);
  // Revoking twice is fine; an unknown prefix is not.
  ASSERT_OK(svc().revoke_api_key(m_admin, m_key.info.prefix));
  EXPECT_ERRC(svc().revoke_api_key(m_admin, "zzzzzzzz"), Errc::not_found);
}

TEST_F(ApiKeyTest, CreationIsValidated) {
  EXPECT_ERRC(svc().create_api_key(m_admin, "", {Role::service}), Errc::invalid_argument);
  EXPECT_ERRC(svc().create_api_key(m_admin, std::string(101, 'n'), {Role::service}), Errc::invalid_argument);
  EXPECT_ERRC(svc().create_api_key(m_admin, "bad\nname", {Role::service}), Errc::invalid_argument);
  EXPECT_ERRC(svc().create_api_key(m_admin, "no roles", {}), Errc::invalid_argument);
  auto k = svc().create_api_key(m_admin, "dupes", {Role::service, Role::service, Role::clerk});
  ASSERT_OK(k);
  EXPECT_EQ(k->info.roles, (std::vector<Role>{Role::clerk, Role::service}));  // canonical order, no duplicates
}

}  // namespace
}  // namespace cartorio::identity::test
