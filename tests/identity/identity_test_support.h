// Shared fixture of the identity tests: a real IdentityService over a SQLite store and a
// software key store in a temp dir, the in-process cache, and a ManualClock, so expiry,
// rotation, throttling and TOTP steps are driven without sleeping. argon2 runs with tiny
// parameters so the suite stays fast under the sanitizers.
#pragma once

#include "cache/memory/memory_cache.h"
#include "core/clock.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "identity/identity_service.h"
#include "identity/signing_key_ring.h"
#include "identity/totp.h"
#include "keys/software/software_key_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::identity::test {

// Cheap argon2id: 256 KiB, one pass, one lane.
inline PasswordParams fast_password_params() { return PasswordParams{1, 256, 1}; }

inline constexpr const char* kPassword = "correct horse battery staple";
// 2023-11-14T22:13:30Z: the start of a 30-second TOTP step.
inline constexpr long long kStartUnix = 1'700'000'010;

// The decoded parts of a compact JWS (no verification).
struct DecodedJwt {
  nlohmann::json header;
  nlohmann::json payload;
  std::string signature_b64;
};

inline std::vector<std::string> split_dots(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

inline DecodedJwt decode_jwt(const std::string& token) {
  DecodedJwt out;
  auto parts = split_dots(token);
  EXPECT_EQ(parts.size(), 3u) << token;
  if (parts.size() != 3) return out;
  auto h = crypto::from_base64url(parts[0]);
  auto p = crypto::from_base64url(parts[1]);
  EXPECT_TRUE(h && p) << token;
  if (!h || !p) return out;
  out.header = nlohmann::json::parse(crypto::to_string(*h));
  out.payload = nlohmann::json::parse(crypto::to_string(*p));
  out.signature_b64 = parts[2];
  return out;
}

inline std::string b64url(std::string_view s) { return crypto::to_base64url(crypto::as_bytes(s)); }

class IdentityFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(keys::create_master_key_file(m_tmp / "master.key"));
    keys::SoftwareKeyStoreOptions ko;
    ko.directory = m_tmp / "keys";
    ko.master_key_file = m_tmp / "master.key";
    ko.clock = &m_clock;
    auto ks = keys::SoftwareKeyStore::open(std::move(ko));
    ASSERT_TRUE(ks) << ks.error().to_string();
    m_keys = std::move(*ks);
    auto st = store::open_sqlite_store((m_tmp / "cartorio.db").string());
    ASSERT_TRUE(st) << st.error().to_string();
    m_store = std::move(*st);
    m_cache = std::make_unique<cache::MemoryCache>(cache::MemoryCacheOptions{}, m_clock);
    m_data_key = crypto::random_bytes(32);
    // Most tests log in many times as the same user: a roomy per-username bucket; the
    // throttling tests make their own service with the defaults.
    m_options.password = fast_password_params();
    m_options.throttle.per_username = cache::TokenBucket{1000, 1.0};
    m_options.throttle.per_source = cache::TokenBucket{1000, 1.0};
    m_svc = make_service(m_options);
    ASSERT_NE(m_svc, nullptr);
  }

  std::unique_ptr<IdentityService> make_service(const IdentityOptions& options) {
    auto s = IdentityService::create(IdentityStores::of(*m_store), *m_keys, *m_cache, m_clock,
                                     crypto::SecretBytes(crypto::ByteView(m_data_key)), options);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
  }

  IdentityService& svc() { return *m_svc; }

  void create_user(const std::string& username, std::vector<Role> roles, const std::string& password = kPassword) {
    auto u = m_svc->create_user(Actor{"user:root"}, NewUser{username, "User " + username, std::move(roles), password});
    ASSERT_TRUE(u) << u.error().to_string();
  }

  GrantResult password_grant(const std::string& username, const std::string& password = kPassword,
                             const std::string& otp = {}, const std::string& source = "192.0.2.1") {
    TokenRequest r;
    r.grant_type = "password";
    r.username = username;
    r.password = password;
    r.otp = otp;
    r.source = source;
    return m_svc->grant(r);
  }

  GrantResult refresh_grant(const std::string& refresh_token) {
    TokenRequest r;
    r.grant_type = "refresh_token";
    r.refresh_token = refresh_token;
    r.source = "192.0.2.1";
    return m_svc->grant(r);
  }

  GrantResult client_credentials(const std::string& key, const std::string& client_id = {}) {
    TokenRequest r;
    r.grant_type = "client_credentials";
    r.client_id = client_id;
    r.client_secret = key;
    r.source = "192.0.2.1";
    return m_svc->grant(r);
  }

  // The current TOTP code of a base32 secret at the manual clock's time (+ `steps`).
  std::string totp_now(const std::string& secret_base32, int steps = 0) {
    auto secret = crypto::from_base32(secret_base32);
    EXPECT_TRUE(secret);
    if (!secret) return {};
    return totp::hotp(*secret, static_cast<std::uint64_t>(totp::time_step(m_clock.now()) + steps));
  }

  // A well-formed 6-digit code that matches no step of the acceptance window (-1..+1), so
  // a "wrong code" case cannot pass by a one-in-a-million collision.
  std::string wrong_totp(const std::string& secret_base32) {
    for (int n = 0;; ++n) {
      std::string candidate = std::to_string(n);
      candidate.insert(0, 6 - candidate.size(), '0');
      if (candidate != totp_now(secret_base32, -1) && candidate != totp_now(secret_base32) &&
          candidate != totp_now(secret_base32, 1))
        return candidate;
    }
  }

  struct Enrolled {
    std::string secret_base32;
    std::vector<std::string> recovery_codes;
  };
  // Creates `username` (a human: MFA required) and enrols TOTP through the self-service
  // calls; the clock then moves to the next TOTP step (the confirming code is spent).
  Enrolled create_enrolled_user(const std::string& username, std::vector<Role> roles) {
    Enrolled out;
    create_user(username, std::move(roles));
    const Actor me{"user:" + username};
    auto start = m_svc->start_totp_enrollment(me);
    EXPECT_TRUE(start) << start.error().to_string();
    if (!start) return out;
    out.secret_base32 = start->secret_base32;
    auto codes = m_svc->confirm_totp_enrollment(me, totp_now(out.secret_base32));
    EXPECT_TRUE(codes) << codes.error().to_string();
    if (codes) out.recovery_codes = *codes;
    m_clock.advance(totp::kPeriod);
    return out;
  }

  // A full (MFA) login of an enrolled user.
  TokenResponse login(const std::string& username, const Enrolled& e) {
    auto g = password_grant(username, kPassword, totp_now(e.secret_base32));
    EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().description);
    // Each TOTP step is accepted once: the next login needs the next step.
    m_clock.advance(totp::kPeriod);
    return g.ok() ? g.tokens() : TokenResponse{};
  }

  // Signs `payload` with the service's current signing key (a second ring over the same
  // key store and repository), as a forger holding our key, or a bug, would.
  std::string sign_with_current_key(const nlohmann::json& payload, std::string_view typ = "at+jwt") {
    SigningKeyRing ring(*m_store, *m_keys, m_clock, std::chrono::seconds(3600), std::chrono::seconds(1));
    auto t = ring.sign(typ, payload.dump());
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? *t : std::string();
  }

  testing::TempDir m_tmp;
  core::ManualClock m_clock{core::from_unix(kStartUnix)};
  std::unique_ptr<keys::KeyStore> m_keys;
  std::unique_ptr<store::Store> m_store;
  std::unique_ptr<cache::MemoryCache> m_cache;
  crypto::Bytes m_data_key;
  IdentityOptions m_options;
  std::unique_ptr<IdentityService> m_svc;
};

}  // namespace cartorio::identity::test
