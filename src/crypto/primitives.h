// Random bytes, digests, AEAD and password KDF: the few primitives the rest of the project
// builds on. All backed by OpenSSL 3.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "crypto/secret_bytes.h"

#include <array>
#include <cstdint>

namespace cartorio::crypto {

// CSPRNG output (OpenSSL RAND_bytes); aborts if the generator fails, which only happens
// when the system has no entropy source — continuing would be worse.
Bytes random_bytes(std::size_t n);
SecretBytes random_secret(std::size_t n);

std::array<std::uint8_t, 32> sha256(ByteView data);

// SHA-256 fed piece by piece; copyable, so a digest over a prefix can be continued in several
// ways (a file and the same file with bytes appended) without hashing the prefix again.
class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(ByteView data);
  Sha256& update(std::string_view data) { return update(as_bytes(data)); }
  // The digest of everything so far; this object stays usable.
  std::array<std::uint8_t, 32> digest() const;

 private:
  MdCtx m_ctx;
};
Bytes hmac_sha256(ByteView key, ByteView data);

// AES-256-GCM. Sealed layout: nonce (12) || ciphertext || tag (16).
// The associated data binds the ciphertext to its context (key id, row identity...).
inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadOverhead = 12 + 16;
core::Result<Bytes> aead_seal(const SecretBytes& key, ByteView plaintext, ByteView aad);
// Errc::crypto_error when the tag does not verify (wrong key, tampered data or wrong aad).
core::Result<SecretBytes> aead_open(const SecretBytes& key, ByteView sealed, ByteView aad);

// scrypt (RFC 7914) for passphrases. Parameters travel with the sealed data.
struct ScryptParams {
  std::uint64_t n = 1u << 15;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};
core::Result<SecretBytes> scrypt_derive(std::string_view passphrase, ByteView salt,
                                        const ScryptParams& params, std::size_t out_len = 32);

}  // namespace cartorio::crypto
