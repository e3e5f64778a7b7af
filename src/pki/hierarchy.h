// The CA hierarchy of the reference architecture, as loaded from the store:
//   root (offline) -> tls, document;  tls -> ocsp-tls;  document -> ocsp-document, tsa.
// Each entry pairs the current certificate with the KeyStore reference of its key (none for
// the offline root).
#pragma once

#include "core/error.h"
#include "crypto/ossl.h"
#include "keys/key_store.h"
#include "store/store.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::pki {

inline constexpr const char* kRoot = "root";
inline constexpr const char* kTlsCa = "tls";
inline constexpr const char* kDocumentCa = "document";
inline constexpr const char* kTsa = "tsa";
std::string ocsp_identity_for(const std::string& ca);  // "tls" -> "ocsp-tls"

// Whether `name` is one of the three CAs whose chain/CRL/caIssuers the system serves.
bool is_ca_name(const std::string& name);
// The name of the entry that issued `name` ("" for root).
std::string parent_of(const std::string& name);

struct SigningIdentity {
  std::string name;
  crypto::X509Ptr cert;
  std::string key_label;
  std::optional<keys::KeyRef> key_ref;  // empty for the offline root
};

// Public URLs derived from pki.public_base_url (no trailing slash).
struct PublicUrls {
  std::string base;
  std::string crl(const std::string& ca) const { return base + "/crl/" + ca + ".crl"; }
  std::string ocsp(const std::string& ca) const { return base + "/ocsp/" + ca; }
  std::string ca_issuers(const std::string& ca) const { return base + "/ca/" + ca + ".crt"; }
};
PublicUrls make_urls(std::string base);

class Hierarchy {
 public:
  // Errc::not_initialized when the store holds no root.
  static core::Result<Hierarchy> load(store::AuthorityRepository& authorities,
                                      store::KeyRecordRepository& key_records);

  // Errc::ca_not_found.
  core::Result<const SigningIdentity*> get(const std::string& name) const;
  // PEM of `name`'s certificate followed by its issuers up to and including the root.
  core::Result<std::string> chain_pem(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, SigningIdentity> m_entries;
};

}  // namespace cartorio::pki
