#include "acme/nonces.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <array>
#include <cstring>

namespace cartorio::acme {

namespace {

constexpr std::string_view kKeyName = "acme:nonce-key";
constexpr std::string_view kUsedPrefix = "acme:nonce-used:";
constexpr std::size_t kTimeBytes = 8;
constexpr std::size_t kRandomBytes = 8;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kNonceBytes = kTimeBytes + kRandomBytes + kMacBytes;
// The key outlives every nonce made under it by far; when it expires (or the cache loses
// it), nonces in flight turn into badNonce and clients retry with a new one.
constexpr auto kKeyLifetime = std::chrono::hours(24 * 30);
// A nonce dated this far in the future (clock skew between instances) is still accepted.
constexpr std::int64_t kSkewSeconds = 60;

std::array<std::uint8_t, kMacBytes> mac(std::string_view key, crypto::ByteView data) {
  const auto full = crypto::hmac_sha256(crypto::as_bytes(key), data);
  std::array<std::uint8_t, kMacBytes> out{};
  std::memcpy(out.data(), full.data(), kMacBytes);
  return out;
}

}  // namespace

core::Result<std::string> NonceIssuer::key() {
  CARTORIO_TRY(auto existing, m_cache.get(kKeyName));
  if (existing && existing->size() == 32) return std::move(*existing);
  const auto fresh = crypto::random_bytes(32);
  CARTORIO_TRY(bool stored, m_cache.set_if_absent(kKeyName, crypto::to_string(fresh), kKeyLifetime));
  if (stored) return crypto::to_string(fresh);
  // Another instance made it first: use that one.
  CARTORIO_TRY(auto winner, m_cache.get(kKeyName));
  if (!winner || winner->size() != 32) return core::Error(core::Errc::store_unavailable, "the nonce key is not in the cache");
  return std::move(*winner);
}

core::Result<std::string> NonceIssuer::issue() {
  CARTORIO_TRY(auto k, key());
  crypto::Bytes nonce(kTimeBytes);
  auto t = static_cast<std::uint64_t>(core::to_unix(m_clock.now()));
  for (std::size_t i = 0; i < kTimeBytes; ++i) nonce[kTimeBytes - 1 - i] = static_cast<std::uint8_t>(t >> (8 * i));
  const auto random = crypto::random_bytes(kRandomBytes);
  nonce.insert(nonce.end(), random.begin(), random.end());
  const auto tag = mac(k, nonce);
  nonce.insert(nonce.end(), tag.begin(), tag.end());
  return crypto::to_base64url(nonce);
}

core::Result<bool> NonceIssuer::redeem(std::string_view nonce) {
  const auto raw = crypto::from_base64url(nonce);
  if (!raw || raw->size() != kNonceBytes) return false;
  CARTORIO_TRY(auto k, key());
  const crypto::ByteView body(raw->data(), kTimeBytes + kRandomBytes);
  const auto expected = mac(k, body);
  if (!crypto::constant_time_equal(crypto::ByteView(raw->data() + kTimeBytes + kRandomBytes, kMacBytes), expected))
    return false;
  std::uint64_t issued = 0;
  for (std::size_t i = 0; i < kTimeBytes; ++i) issued = (issued << 8) | (*raw)[i];
  const std::int64_t now = core::to_unix(m_clock.now());
  const auto age = now - static_cast<std::int64_t>(issued);
  if (age > m_lifetime.count() || age < -kSkewSeconds) return false;
  // Kept as long as the nonce could still be presented.
  const auto keep = std::chrono::seconds(m_lifetime.count() - age + kSkewSeconds);
  return m_cache.set_if_absent(std::string(kUsedPrefix) + std::string(nonce), "1", keep);
}

}  // namespace cartorio::acme
