// A private key sealed under a passphrase, as text, for the offline root key ceremony.
//
// Format: an armored block
//   -----BEGIN CARTORIO SEALED KEY-----
//   <base64 of a JSON object {v, label, algorithm, kdf:{name:"scrypt",n,r,p,salt}, sealed}>
//   -----END CARTORIO SEALED KEY-----
// `sealed` is AES-256-GCM (crypto::aead_seal) of the PKCS#8 DER under the scrypt-derived key,
// with the (length-prefixed) label and algorithm as associated data, so the header cannot be
// edited unnoticed. scrypt parameters in a file are bounded (N <= 2^20, 256 MiB) before use.
#pragma once

#include "core/error.h"
#include "crypto/ossl.h"

#include <string>
#include <string_view>

namespace cartorio::keys {

struct SealedKeyInfo {
  std::string label;
  std::string algorithm;
};

core::Result<std::string> seal_private_key(const EVP_PKEY* key, std::string_view passphrase,
                                           std::string_view label);
// Errc::malformed_input (not a sealed key), Errc::wrong_passphrase (tag mismatch).
core::Result<crypto::PKey> unseal_private_key(std::string_view armored, std::string_view passphrase,
                                              SealedKeyInfo* info = nullptr);

}  // namespace cartorio::keys
