// Pkcs11KeyStore: keys generated and kept inside a PKCS#11 token (the HSM role). SoftHSM2 in
// tests, any PKCS#11 v2.20+ module in production.
//
// Keys are generated in the token (C_GenerateKeyPair) as token objects; the private half is
// CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN. Both halves share a random
// 16-byte CKA_ID and CKA_LABEL = the request's label. KeyRef (RFC 7512):
//   pkcs11:token=<token label>;id=%xx%xx...;object=<key label>
// Keys are found by id (object is informational); a ref naming another token is key_not_found.
// list_keys() reports RSA 2048/3072/4096 and EC P-256/P-384 private keys that have a CKA_ID;
// other objects on the token are left alone.
//
// The module is loaded with dlopen and shared by every store on the same module path in the
// process (Cryptoki is initialised once per process; logins are per application and counted,
// so one store closing does not log the others out).
//
// Thread-safety: all members may be called concurrently; management calls share one session
// under a mutex. Each Signer has its own session, so signers on different threads never
// contend; its EVP_PKEY keeps that session (and the module) alive, so a Signer may even
// outlive the store, though the KeyStore contract does not promise it.
// NOTE: label uniqueness is checked in this process; two processes creating the same label at
// the same instant on one token could both succeed.
#pragma once

#include "crypto/secret_bytes.h"
#include "keys/key_store.h"

#include <memory>
#include <string>
#include <vector>

namespace cartorio::keys {

struct Pkcs11KeyStoreOptions {
  // The PKCS#11 module (shared library) to dlopen.
  std::string module_path = "/usr/lib/softhsm/libsofthsm2.so";
  // Label of the token holding the keys (CK_TOKEN_INFO.label, blank padding ignored).
  std::string token_label;
  // User PIN; read from a pin file by the caller, never from the TOML itself, never logged.
  crypto::SecretBytes pin;
};

class Pkcs11KeyStore final : public KeyStore {
 public:
  // Loads the module, finds the token, opens a session and logs in as CKU_USER.
  // Errc::config_invalid (empty path/label/PIN), Errc::wrong_passphrase (CKR_PIN_INCORRECT),
  // Errc::key_backend (module not loadable, no token with that label, other PKCS#11 errors).
  static core::Result<std::unique_ptr<Pkcs11KeyStore>> open(Pkcs11KeyStoreOptions options);

  ~Pkcs11KeyStore() override;
  Pkcs11KeyStore(const Pkcs11KeyStore&) = delete;
  Pkcs11KeyStore& operator=(const Pkcs11KeyStore&) = delete;

  std::string backend_name() const override { return "pkcs11"; }
  Capabilities capabilities() const override;
  // Also Errc::invalid_argument (bad label), Errc::unsupported_key_type.
  core::Result<KeyInfo> create_key(const CreateKeyRequest& req) override;
  core::Result<crypto::PKey> public_key(const KeyRef& ref) override;
  core::Result<std::unique_ptr<Signer>> signer(const KeyRef& ref, const KeyUse& use) override;
  core::Result<std::vector<KeyInfo>> list_keys() override;
  // Destroys the private and the public object.
  core::Result<void> destroy_key(const KeyRef& ref) override;
  // Token present and the session still logged in.
  core::Result<void> check() override;

 private:
  struct Impl;  // PKCS#11 types stay out of this header
  // Only members can name Passkey: open() uses make_unique, callers must go through open().
  struct Passkey {
    explicit Passkey() = default;
  };

 public:
  Pkcs11KeyStore(Passkey, std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cartorio::keys
