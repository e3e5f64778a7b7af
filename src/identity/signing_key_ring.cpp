#include "identity/signing_key_ring.h"

#include "core/log.h"
#include "crypto/key_pair.h"
#include "crypto/primitives.h"
#include "identity/jwt.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace cartorio::identity {

using core::Errc;
using core::Error;

struct SigningKeyRing::Entry {
  store::SigningKeyRecord record;
  crypto::PKey public_key;
  jwt::EcPublicJwk jwk;
};

namespace {

// How often an unknown kid may force a reload of the key list (garbage kids must not turn
// every request into a store query).
constexpr std::chrono::seconds kForcedReloadInterval{1};

}  // namespace

SigningKeyRing::SigningKeyRing(store::SigningKeyRepository& repo, keys::KeyStore& keys, const core::Clock& clock,
                               std::chrono::seconds verify_grace, std::chrono::seconds cache_ttl)
    : m_repo(repo), m_keys(keys), m_clock(clock), m_verify_grace(verify_grace), m_cache_ttl(cache_ttl) {}

SigningKeyRing::~SigningKeyRing() = default;

bool SigningKeyRing::usable(const Entry& e, core::TimePoint now) const {
  if (e.record.retired_at == 0) return true;
  return now < core::from_unix(e.record.retired_at) + m_verify_grace;
}

core::Result<void> SigningKeyRing::reload_locked(core::TimePoint now) {
  CARTORIO_TRY(auto records, m_repo.list_signing_keys());
  std::vector<EntryPtr> entries;
  for (auto& rec : records) {
    // Reuse what is already parsed; records only change by retirement.
    auto known = std::find_if(m_entries.begin(), m_entries.end(), [&](const EntryPtr& e) {
      return e->record.kid == rec.kid && e->record.public_key == rec.public_key;
    });
    if (known != m_entries.end() && (*known)->record.retired_at == rec.retired_at) {
      entries.push_back(*known);
      continue;
    }
    if (rec.algorithm != "ES256") continue;
    auto der = crypto::from_base64(rec.public_key);
    if (!der) {
      core::log::error("identity.signing_key_damaged", {{"kid", rec.kid}, {"reason", "public key is not base64"}});
      continue;
    }
    auto pub = crypto::public_key_from_der(*der);
    if (!pub) {
      core::log::error("identity.signing_key_damaged", {{"kid", rec.kid}, {"reason", pub.error().to_string()}});
      continue;
    }
    auto jwk = jwt::p256_public_jwk(pub->get());
    if (!jwk) {
      core::log::error("identity.signing_key_damaged", {{"kid", rec.kid}, {"reason", jwk.error().to_string()}});
      continue;
    }
    auto e = std::make_shared<Entry>();
    e->record = std::move(rec);
    e->public_key = std::move(*pub);
    e->jwk = std::move(*jwk);
    entries.push_back(std::move(e));
  }
  m_entries = std::move(entries);
  m_loaded = true;
  m_loaded_at = now;
  return core::ok();
}

core::Result<void> SigningKeyRing::refresh_locked(core::TimePoint now) {
  if (m_loaded && now >= m_loaded_at && now - m_loaded_at < m_cache_ttl) return core::ok();
  return reload_locked(now);
}

SigningKeyRing::EntryPtr SigningKeyRing::current_locked() const {
  // Newest first: after a race two rows may briefly look current on a stale cache.
  for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it)
    if ((*it)->record.retired_at == 0) return *it;
  return nullptr;
}

core::Result<std::string> SigningKeyRing::create_key_locked(core::TimePoint now) {
  const std::int64_t created_at = core::to_unix(now);
  keys::CreateKeyRequest req;
  req.label = "jwt-es256-" + std::to_string(created_at) + "-" + crypto::to_hex(crypto::random_bytes(4));
  req.algorithm = crypto::KeyAlgorithm::ec_p256;
  CARTORIO_TRY(auto info, m_keys.create_key(req));
  auto record = [&]() -> core::Result<store::SigningKeyRecord> {
    CARTORIO_TRY(auto pub, m_keys.public_key(info.ref));
    CARTORIO_TRY(auto der, crypto::public_key_to_der(pub.get()));
    CARTORIO_TRY(auto jwk, jwt::p256_public_jwk(pub.get()));
    store::SigningKeyRecord rec;
    rec.kid = jwt::jwk_thumbprint(jwk);
    rec.algorithm = "ES256";
    rec.key_label = req.label;
    rec.key_uri = info.ref.uri;
    rec.public_key = crypto::to_base64(der);
    rec.created_at = created_at;
    CARTORIO_TRY_VOID(m_repo.add_signing_key(rec));
    return rec;
  }();
  if (!record) {
    // Do not leave an orphan key behind in the HSM / key directory.
    if (auto d = m_keys.destroy_key(info.ref); !d)
      core::log::warn("identity.signing_key_cleanup_failed", {{"key", info.ref.uri}, {"error", d.error().to_string()}});
    return std::move(record).error();
  }
  core::log::info("identity.signing_key_created", {{"kid", record->kid}, {"key", info.ref.uri}});
  CARTORIO_TRY_VOID(reload_locked(now));
  return record->kid;
}

core::Result<std::string> SigningKeyRing::ensure_current() {
  std::lock_guard lock(m_mutex);
  const auto now = m_clock.now();
  CARTORIO_TRY_VOID(refresh_locked(now));
  if (auto cur = current_locked()) return cur->record.kid;
  CARTORIO_TRY_VOID(reload_locked(now));  // another instance may just have made one
  if (auto cur = current_locked()) return cur->record.kid;
  return create_key_locked(now);
}

core::Result<std::string> SigningKeyRing::rotate() {
  std::lock_guard lock(m_mutex);
  return create_key_locked(m_clock.now());
}

core::Result<std::string> SigningKeyRing::sign(std::string_view typ, std::string_view payload_json) {
  std::lock_guard lock(m_mutex);
  const auto now = m_clock.now();
  CARTORIO_TRY_VOID(refresh_locked(now));
  auto cur = current_locked();
  if (!cur) {
    CARTORIO_TRY_VOID(reload_locked(now));
    cur = current_locked();
  }
  if (!cur) {
    CARTORIO_TRY_VOID(create_key_locked(now));
    cur = current_locked();
    if (!cur) return Error(Errc::internal, "signing key created but not listed");
  }
  if (!m_signer || m_signer_kid != cur->record.kid) {
    m_signer.reset();
    keys::KeyUse use{"sign-access-tokens", "identity", cur->record.kid};
    CARTORIO_TRY(m_signer, m_keys.signer(keys::KeyRef{cur->record.key_uri}, use));
    m_signer_kid = cur->record.kid;
  }
  const nlohmann::json header = {{"alg", "ES256"}, {"typ", typ}, {"kid", cur->record.kid}};
  auto token = jwt::sign_es256(m_signer->pkey(), header.dump(), payload_json);
  if (!token) m_signer.reset();  // a broken HSM session: make a fresh signer next time
  return token;
}

core::Result<bool> SigningKeyRing::verify(std::string_view kid, std::string_view signing_input,
                                          crypto::ByteView signature) {
  EntryPtr entry;
  {
    std::lock_guard lock(m_mutex);
    const auto now = m_clock.now();
    CARTORIO_TRY_VOID(refresh_locked(now));
    auto find = [&] {
      for (const auto& e : m_entries)
        if (e->record.kid == kid) return e;
      return EntryPtr{};
    };
    entry = find();
    if (!entry && (m_forced_reload_at == core::TimePoint{} || now - m_forced_reload_at >= kForcedReloadInterval ||
                   now < m_forced_reload_at)) {
      m_forced_reload_at = now;
      CARTORIO_TRY_VOID(reload_locked(now));
      entry = find();
    }
    if (!entry || !usable(*entry, now)) return false;
  }
  return jwt::verify_es256(entry->public_key.get(), signing_input, signature);
}

core::Result<std::string> SigningKeyRing::jwks_json() {
  std::lock_guard lock(m_mutex);
  const auto now = m_clock.now();
  CARTORIO_TRY_VOID(refresh_locked(now));
  nlohmann::json keys = nlohmann::json::array();
  auto add = [&](const Entry& e) {
    keys.push_back({{"kty", "EC"},
                    {"crv", "P-256"},
                    {"x", e.jwk.x},
                    {"y", e.jwk.y},
                    {"kid", e.record.kid},
                    {"use", "sig"},
                    {"alg", "ES256"}});
  };
  auto cur = current_locked();
  if (cur) add(*cur);
  for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it)
    if (*it != cur && usable(**it, now)) add(**it);
  return nlohmann::json{{"keys", keys}}.dump();
}

}  // namespace cartorio::identity
