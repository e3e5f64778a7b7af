#include "documents/validation_data.h"

#include "crl/crl_generator.h"
#include "crypto/x509.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <set>

namespace cartorio::documents {
namespace {

using core::Errc;

// The CA of the hierarchy that issued `cert` ("" when none did, or `cert` is the root).
std::string issuing_ca(const pki::Hierarchy& h, X509* cert) {
  for (const char* name : {pki::kRoot, pki::kTlsCa, pki::kDocumentCa}) {
    auto ca = h.get(name);
    if (!ca) continue;
    if (X509_cmp(cert, (*ca)->cert.get()) == 0 && std::string(name) == pki::kRoot) return "";
    if (X509_check_issued((*ca)->cert.get(), cert) == X509_V_OK) return name;
  }
  return "";
}

}  // namespace

core::Result<signing::ValidationData> InstallationValidationData::collect(const std::vector<X509*>& certificates) {
  signing::ValidationData out;
  std::set<crypto::Bytes> seen_certs;
  auto add_cert = [&](X509* c) {
    auto der = crypto::to_der(c);
    if (seen_certs.insert(der).second) out.certificates.push_back(std::move(der));
  };
  // The chains up to the root, so a validator needs nothing but the trust anchor.
  std::vector<X509*> all(certificates.begin(), certificates.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string ca = issuing_ca(m_hierarchy, all[i]);
    if (ca.empty()) continue;
    X509* issuer = (*m_hierarchy.get(ca))->cert.get();
    bool present = false;
    for (X509* c : all) present = present || X509_cmp(c, issuer) == 0;
    if (!present) all.push_back(issuer);
  }
  bool root_crl = false;
  std::set<crypto::Bytes> answered;
  for (X509* cert : all) {
    add_cert(cert);
    const std::string ca = issuing_ca(m_hierarchy, cert);
    if (ca.empty() || !answered.insert(crypto::to_der(cert)).second) continue;
    auto source = m_sources.find(ca);
    if (source == m_sources.end()) return core::Error{Errc::internal, "no OCSP source for CA " + ca};
    CARTORIO_TRY(auto response, ocsp::ask_about(*source->second, cert, (*m_hierarchy.get(ca))->cert.get()));
    out.ocsp_responses.push_back(std::move(response));
    root_crl = root_crl || ca == pki::kRoot;
  }
  if (root_crl) {
    auto crl = m_objects.get(crl::crl_key(pki::kRoot));
    if (!crl) return core::Error{Errc::store_unavailable, "the root CRL is not published: " + crl.error().message};
    out.crls.emplace_back(crl->data.begin(), crl->data.end());
  }
  return out;
}

}  // namespace cartorio::documents
