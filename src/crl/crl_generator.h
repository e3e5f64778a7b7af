// CRLs (RFC 5280 section 5): v2, CRL number, AKI, thisUpdate/nextUpdate, reason codes.
// Regenerated every 24 hours and on revocation; each CRL carries a new, larger number.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/ossl.h"
#include "objectstore/object_store.h"
#include "store/store.h"

#include <chrono>
#include <string>
#include <vector>

namespace cartorio::crl {

struct CrlContents {
  std::int64_t number = 0;
  core::TimePoint this_update;
  core::TimePoint next_update;
  std::vector<store::RevokedEntry> revoked;
};

// Encodes and signs with the CA's key (which may live in an HSM).
core::Result<crypto::X509Crl> build_crl(const X509* ca_cert, EVP_PKEY* ca_key, const CrlContents& contents);

class CrlGenerator {
 public:
  CrlGenerator(store::RevocationLister& revocations, const core::Clock& clock, std::chrono::hours validity)
      : m_revocations(revocations), m_clock(clock), m_validity(validity) {}

  // Lists the revoked certificates `ca_name` issued that are still unexpired, takes the next
  // CRL number and signs.
  core::Result<crypto::X509Crl> generate(const std::string& ca_name, const X509* ca_cert, EVP_PKEY* ca_key);

 private:
  store::RevocationLister& m_revocations;
  const core::Clock& m_clock;
  std::chrono::hours m_validity;
};

// Object key of the published DER CRL of a CA: "crl/<ca>.crl" (the distribution point
// /crl/<ca>.crl serves it).
std::string crl_key(const std::string& ca_name);
// Replaces the published CRL (readers see the old or the new one, never a torn one).
core::Result<void> publish_crl(objectstore::ObjectStore& objects, const std::string& ca_name, const X509_CRL* crl);

}  // namespace cartorio::crl
