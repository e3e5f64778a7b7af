// SigningKeyRing: the ES256 keys that sign access tokens. Private keys live in the
// KeyStore (so in the HSM when keys are PKCS#11), their public halves and lifetimes in the
// store (SigningKeyRepository), so every instance verifies tokens any other signed.
//
// - The current key is the one not retired; the first sign() creates it when there is none.
// - rotate() makes a new current key; the previous one stays usable for verification (and
//   in the JWKS) for `verify_grace` after its retirement, long enough for the last token
//   it signed to expire, then it is gone from both.
// - The key list is cached for `cache_ttl`, and reloaded early (at most once a second) when a
//   token names an unknown kid, so a rotation on another instance is seen quickly. Hence
//   verify_grace must cover the access-token lifetime + clock leeway + cache_ttl (another
//   instance may sign with a just-retired key until its cache expires).
//
// Signing uses one cached Signer per current key (a software key is unsealed once, not per
// token); key.use is therefore audited when the signer is made, and each token issuance by
// the identity service's own audit events.
//
// Thread-safety: all members may be called concurrently.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "keys/key_store.h"
#include "store/store.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::identity {

class SigningKeyRing {
 public:
  // All references must outlive the ring.
  SigningKeyRing(store::SigningKeyRepository& repo, keys::KeyStore& keys, const core::Clock& clock,
                 std::chrono::seconds verify_grace, std::chrono::seconds cache_ttl);
  SigningKeyRing(const SigningKeyRing&) = delete;
  SigningKeyRing& operator=(const SigningKeyRing&) = delete;
  ~SigningKeyRing();

  // Compact JWS of `payload_json` with header {"alg":"ES256","typ":typ,"kid":current}.
  // Errc::store_unavailable / store_error, Errc::key_backend, Errc::crypto_error.
  core::Result<std::string> sign(std::string_view typ, std::string_view payload_json);

  // Whether `signature` (R || S) over `signing_input` verifies with key `kid`, which must
  // be current or within its grace period. false for an unknown or expired kid or a bad
  // signature; an error only when the store cannot be read.
  core::Result<bool> verify(std::string_view kid, std::string_view signing_input, crypto::ByteView signature);

  // {"keys":[{kty, crv, x, y, kid, use, alg}, ...]}: the current key first, then the
  // retired ones still in their grace period.
  core::Result<std::string> jwks_json();

  // A new current key (created in the KeyStore, recorded in the store); returns its kid.
  core::Result<std::string> rotate();
  // The current kid, creating the first key when there is none.
  core::Result<std::string> ensure_current();

 private:
  struct Entry;
  using EntryPtr = std::shared_ptr<const Entry>;

  core::Result<void> reload_locked(core::TimePoint now);
  core::Result<void> refresh_locked(core::TimePoint now);
  bool usable(const Entry& e, core::TimePoint now) const;
  EntryPtr current_locked() const;
  core::Result<std::string> create_key_locked(core::TimePoint now);

  store::SigningKeyRepository& m_repo;
  keys::KeyStore& m_keys;
  const core::Clock& m_clock;
  const std::chrono::seconds m_verify_grace;
  const std::chrono::seconds m_cache_ttl;

  std::mutex m_mutex;  // guards everything below
  std::vector<EntryPtr> m_entries;
  bool m_loaded = false;
  core::TimePoint m_loaded_at{};
  core::TimePoint m_forced_reload_at{};
  std::string m_signer_kid;
  std::unique_ptr<keys::Signer> m_signer;  // a Signer is used by one thread at a time: under m_mutex
};

}  // namespace cartorio::identity
