// Issues end-entity certificates from CSRs under a profile, records them, and revokes them.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "keys/key_store.h"
#include "pki/csr_validator.h"
#include "pki/hierarchy.h"
#include "pki/profile.h"
#include "store/store.h"

#include <optional>
#include <string>

namespace cartorio::pki {

struct IssueRequest {
  std::string profile;
  crypto::ByteView csr;               // PEM or DER
  std::optional<std::string> issuer;  // CA name; the profile's default when empty
  std::optional<int> validity_days;   // the profile's default when empty
  std::string requester;              // recorded and audited: "cli", "user:alice"...
};

struct IssuedCertificate {
  store::CertificateRecord record;
  std::string chain_pem;  // the issuer's chain, without the leaf
};

// The record the store keeps for a certificate.
store::CertificateRecord record_for(const X509* cert, const std::string& issuer, const std::string& profile,
                                    const std::string& requester, std::int64_t now);

// RFC 5280 5.3.1 reason names <-> codes: unspecified(0), keyCompromise(1), cACompromise(2),
// affiliationChanged(3), superseded(4), cessationOfOperation(5), privilegeWithdrawn(9).
// certificateHold is not offered: a notary's revocation is final.
core::Result<int> parse_revocation_reason(std::string_view name);
std::string revocation_reason_name(int code);

class CertificateIssuer {
 public:
  CertificateIssuer(const Hierarchy& hierarchy, keys::KeyStore& keys, store::CertificateRepository& certs,
                    const core::Clock& clock, PublicUrls urls)
      : m_hierarchy(hierarchy), m_keys(keys), m_certs(certs), m_clock(clock), m_urls(std::move(urls)) {}

  // Validates the CSR, signs, stores. On any error nothing is stored.
  core::Result<IssuedCertificate> issue(const IssueRequest& req);

  // For keys the system holds itself (OCSP responders, TSA): no CSR, the subject and key
  // are given. Same profile rules for validity and extensions.
  struct KeyedRequest {
    std::string profile;
    std::string issuer;
    const X509_NAME* subject = nullptr;
    const EVP_PKEY* public_key = nullptr;
    std::optional<int> validity_days;
    std::string requester;
    std::vector<SubjectAltName> sans;  // the caller's own names (e.g. the server's host names)
  };
  core::Result<IssuedCertificate> issue_for_key(const KeyedRequest& req);

  // Errc::not_found, Errc::already_revoked, Errc::invalid_reason.
  core::Result<store::CertificateRecord> revoke(const std::string& serial_hex, int reason);

 private:
  core::Result<IssuedCertificate> sign_and_store(const Profile& profile, const std::string& ca_name, int days,
                                                 const X509_NAME* subject, const EVP_PKEY* public_key,
                                                 const X509_PUBKEY* public_key_info,
                                                 const std::vector<SubjectAltName>& sans,
                                                 const std::string& requester);

  const Hierarchy& m_hierarchy;
  keys::KeyStore& m_keys;
  store::CertificateRepository& m_certs;
  const core::Clock& m_clock;
  PublicUrls m_urls;
};

}  // namespace cartorio::pki
