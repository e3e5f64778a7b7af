// KeyStore: where the CA, OCSP, TSA and audit private keys live (the KMS/HSM role).
//
// Keys are named by a KeyRef URI: "soft:<id>" for the software backend, an RFC 7512
// "pkcs11:token=...;id=%..;object=..." URI for PKCS#11. Private key material never leaves a
// backend through this interface: callers get a Signer whose EVP_PKEY signs in place (for
// PKCS#11 the operation runs inside the token).
//
// Thread-safety: every backend is safe to call from several threads; a Signer is used by
// one thread at a time.
#pragma once

#include "core/error.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"

#include <memory>
#include <string>
#include <vector>

namespace cartorio::keys {

struct KeyRef {
  std::string uri;
  bool operator==(const KeyRef&) const = default;
};

struct CreateKeyRequest {
  std::string label;  // human name, e.g. "tls-ca-2026"; unique per store
  crypto::KeyAlgorithm algorithm = crypto::KeyAlgorithm::ec_p256;
};

struct KeyInfo {
  KeyRef ref;
  std::string label;
  crypto::KeyAlgorithm algorithm = crypto::KeyAlgorithm::ec_p256;
  std::string backend;  // "software" | "pkcs11"
};

// Why a key is being used and by whom: recorded in the audit trail by AuditedKeyStore.
struct KeyUse {
  std::string purpose;  // "issue-certificate", "sign-crl", "sign-ocsp", ...
  std::string actor;    // "cli:root", "user:alice", "job:crl-publish", ...
  std::string target;   // what is being signed, e.g. a serial; may be empty
  // The caller records this use itself, in the same transaction as what it signs (the
  // certificate issuer does: one commit per issuance instead of two). AuditedKeyStore then
  // records only a failed signer(); the caller writes key_use_event() with its result.
  bool recorded_by_caller = false;
};

struct Capabilities {
  bool hardware_backed = false;
  bool exportable = false;  // private keys can leave the store (sealed)
  bool deletes_keys = true;
};

// A private key ready to sign. Valid while the KeyStore that made it lives.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const KeyRef& ref() const = 0;
  // The private key as OpenSSL sees it; for PKCS#11 a key whose operations call C_Sign.
  // Owned by the Signer, and possibly shared with other Signers of the same key: use it to
  // sign only, never change it (no EVP_PKEY_set_* on it).
  virtual EVP_PKEY* pkey() const = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  virtual std::string backend_name() const = 0;
  virtual Capabilities capabilities() const = 0;

  // Errc::already_exists (label taken), Errc::key_backend.
  virtual core::Result<KeyInfo> create_key(const CreateKeyRequest& req) = 0;
  // Errc::key_not_found.
  virtual core::Result<crypto::PKey> public_key(const KeyRef& ref) = 0;
  // Errc::key_not_found, Errc::key_backend.
  virtual core::Result<std::unique_ptr<Signer>> signer(const KeyRef& ref, const KeyUse& use) = 0;
  virtual core::Result<std::vector<KeyInfo>> list_keys() = 0;
  // Errc::key_not_found; Errc::not_supported when capabilities().deletes_keys is false.
  virtual core::Result<void> destroy_key(const KeyRef& ref) = 0;
  // Reachability for /readyz.
  virtual core::Result<void> check() = 0;
};

}  // namespace cartorio::keys
