// The key ceremony: building the hierarchy (`cartorio init`) and the operations that need the
// offline root key (`cartorio ca sign-intermediate`, the root CRL).
//
// The root key is generated in memory, used to sign the intermediates and the first root CRL,
// and leaves the process only sealed under a passphrase (keys/sealed_key.h). It is never in
// the KeyStore or the store: its key record says "offline" and names its public key hash.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"
#include "keys/key_store.h"
#include "pki/hierarchy.h"
#include "store/store.h"

#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace cartorio::pki {

struct HierarchyOptions {
  std::string organization = "Cartorio Digital";
  std::string country = "BR";
  int root_validity_days = 20 * 365 + 5;
  int intermediate_validity_days = 5 * 365 + 1;
  std::chrono::hours crl_validity{48};
  PublicUrls urls;
  crypto::KeyAlgorithm root_algorithm = crypto::KeyAlgorithm::rsa4096;
  crypto::KeyAlgorithm intermediate_algorithm = crypto::KeyAlgorithm::rsa2048;
  crypto::KeyAlgorithm ocsp_algorithm = crypto::KeyAlgorithm::ec_p256;
  crypto::KeyAlgorithm tsa_algorithm = crypto::KeyAlgorithm::rsa2048;
  std::string actor = "ceremony";
};

struct InitResult {
  std::string sealed_root_key;  // armored; the caller writes it where the operator asked
  std::string root_pem;
  std::map<std::string, crypto::X509Crl> crls;  // "root", "tls", "document": the first CRLs
};

class Ceremony {
 public:
  Ceremony(keys::KeyStore& keys, store::Store& store, const core::Clock& clock, HierarchyOptions options)
      : m_keys(keys), m_store(store), m_clock(clock), m_options(std::move(options)) {}

  // Runs while the root key is in memory, after the intermediates are issued and recorded
  // (e.g. to pre-sign the root's OCSP responses); an error aborts the init.
  using RootKeyHook = std::function<core::Result<void>(X509* root_cert, EVP_PKEY* root_key)>;

  // Errc::already_initialized when the store already holds a root.
  core::Result<InitResult> init(std::string_view root_passphrase, const RootKeyHook& with_root_key = {});

  // Re-issues the TLS or Document Signing CA certificate with the offline root key: same key
  // (renewal) or a new one in the KeyStore (re-key; its OCSP responder and TSA certificates
  // are re-issued under the new key). Errc::permission_denied when root_key is not the
  // root's key. Returns the new CA certificate.
  core::Result<crypto::X509Ptr> sign_intermediate(const std::string& ca_name, EVP_PKEY* root_key, bool new_key);

  // The root CRL (it lists revoked intermediates), signed with the offline root key.
  core::Result<crypto::X509Crl> sign_root_crl(EVP_PKEY* root_key);

 private:
  core::Result<crypto::X509Ptr> issue_intermediate(const std::string& ca_name, const EVP_PKEY* public_key,
                                                   const X509* root_cert, EVP_PKEY* root_key);
  core::Result<void> issue_leaf_identity(const std::string& identity, const std::string& profile,
                                         const std::string& ca_name, crypto::KeyAlgorithm alg,
                                         const std::string& common_name);
  core::Result<keys::KeyInfo> create_key(const std::string& purpose, crypto::KeyAlgorithm alg);
  core::Result<void> audit_root_use(const std::string& purpose, const std::string& target);
  core::Result<void> check_root_key(const X509* root_cert, const EVP_PKEY* root_key);
  crypto::X509Name make_name(const std::string& common_name) const;

  keys::KeyStore& m_keys;
  store::Store& m_store;
  const core::Clock& m_clock;
  HierarchyOptions m_options;
};

}  // namespace cartorio::pki
