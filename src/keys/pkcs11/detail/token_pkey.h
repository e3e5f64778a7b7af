// EVP_PKEYs whose private operations run inside a PKCS#11 token. Internal to keys/.
#pragma once

#include "core/error.h"
#include "crypto/ossl.h"
#include "keys/pkcs11/detail/pkcs11_session.h"

#include <memory>
#include <mutex>

namespace cartorio::keys::detail {

// What a token-backed EVP_PKEY signs with: a session of its own (a PKCS#11 session must not be
// used by two threads at once, and the store's session is busy with management calls) and
// the private key object. Once handed to make_token_pkey it is owned by the EVP_PKEY (RSA /
// EC_KEY ex_data) and freed with it; the session keeps the module and its login alive.
struct TokenKey {
  TokenKey(Pkcs11Session s, CK_OBJECT_HANDLE h) : session(std::move(s)), handle(h) {}
  Pkcs11Session session;
  CK_OBJECT_HANDLE handle;
  std::mutex mutex;  // the EVP_PKEY may be up-ref'd into objects other threads use
};

// A "foreign" EVP_PKEY carrying the public half of `public_key` (a provider RSA or EC key):
// RSA through an RSA_METHOD whose priv_enc calls C_Sign (CKM_RSA_PKCS on the DigestInfo
// OpenSSL builds, CKM_RSA_X_509 when OpenSSL has already applied PSS padding), EC through an
// EC_KEY_METHOD whose sign/sign_sig call C_Sign (CKM_ECDSA on the digest, r||s turned into an
// ECDSA_SIG). OpenSSL 3 sends keys with non-default methods down its legacy path, so
// EVP_DigestSign, X509_sign, X509_CRL_sign, OCSP_basic_sign and CMS all use them (as libp11's
// engine does). Decryption and key agreement fail cleanly.
// Errc::unsupported_key_type, Errc::key_backend.
core::Result<crypto::PKey> make_token_pkey(std::unique_ptr<TokenKey> key, const EVP_PKEY* public_key);

}  // namespace cartorio::keys::detail
