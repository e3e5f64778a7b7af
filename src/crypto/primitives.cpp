#include "crypto/primitives.h"

#include "crypto/ossl.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace cartorio::crypto {

using core::Errc;

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  if (n > 0 && RAND_bytes(b.data(), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: RAND_bytes failed: %s\n", openssl_errors().c_str());
    std::abort();
  }
  return b;
}

SecretBytes random_secret(std::size_t n) {
  SecretBytes s(n);
  if (n > 0 && RAND_priv_bytes(s.data(), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: RAND_priv_bytes failed: %s\n", openssl_errors().c_str());
    std::abort();
  }
  return s;
}

void SecretBytes::wipe() noexcept {
  if (!m_data.empty()) OPENSSL_cleanse(m_data.data(), m_data.size());
}

std::array<std::uint8_t, 32> sha256(ByteView data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

namespace {
[[noreturn]] void digest_failed() {
  std::fprintf(stderr, "fatal: SHA-256 failed: %s\n", openssl_errors().c_str());
  std::abort();
}
}  // namespace

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) digest_failed();
}

Sha256::Sha256(const Sha256& other) : m_ctx(EVP_MD_CTX_new()) {
  if (!m_ctx || EVP_MD_CTX_copy_ex(m_ctx.get(), other.m_ctx.get()) != 1) digest_failed();
}

Sha256& Sha256::update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(m_ctx.get(), data.data(), data.size()) != 1) digest_failed();
  return *this;
}

std::array<std::uint8_t, 32> Sha256::digest() const {
  Sha256 copy(*this);
  std::array<std::uint8_t, 32> out{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(copy.m_ctx.get(), out.data(), &len) != 1) digest_failed();
  return out;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;  // OpenSSL 3 refuses a null key pointer, even for length 0
  if (!HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
            data.empty() ? &kEmpty : data.data(), data.size(), out.data(), &len)) {
    std::fprintf(stderr, "fatal: HMAC-SHA256 failed: %s\n", openssl_errors().c_str());
    std::abort();
  }
  out.resize(len);
  return out;
}

core::Result<Bytes> aead_seal(const SecretBytes& key, ByteView plaintext, ByteView aad) {
  if (key.size() != kAeadKeySize) return {Errc::invalid_argument, "AEAD key must be 32 bytes"};
  Bytes out(kAeadOverhead + plaintext.size());
  Bytes nonce = random_bytes(12);
  std::copy(nonce.begin(), nonce.end(), out.begin());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::uint8_t* ct = out.data() + 12;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, ct + plaintext.size()) != 1) {
    return {Errc::crypto_error, "AES-GCM seal failed: " + openssl_errors()};
  }
  return out;
}

core::Result<SecretBytes> aead_open(const SecretBytes& key, ByteView sealed, ByteView aad) {
  if (key.size() != kAeadKeySize) return {Errc::invalid_argument, "AEAD key must be 32 bytes"};
  if (sealed.size() < kAeadOverhead) return {Errc::crypto_error, "sealed data too short"};
  const std::size_t ct_len = sealed.size() - kAeadOverhead;
  SecretBytes out(ct_len);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  Bytes tag(sealed.end() - 16, sealed.end());
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.data(), sealed.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + 12, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    openssl_errors();  // clear the queue; the cause is always "tag mismatch" here
    return {Errc::crypto_error, "authentication failed: wrong key or tampered data"};
  }
  return out;
}

core::Result<SecretBytes> scrypt_derive(std::string_view passphrase, ByteView salt,
                                        const ScryptParams& params, std::size_t out_len) {
  SecretBytes out(out_len);
  // maxmem must cover 128 * r * N bytes, plus slack.
  const std::uint64_t maxmem = 128ull * params.r * params.n + (64u << 20);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), params.n,
                     params.r, params.p, maxmem, out.data(), out.size()) != 1) {
    return {Errc::crypto_error, "scrypt failed: " + openssl_errors()};
  }
  return out;
}

}  // namespace cartorio::crypto
