// Where B-LT signatures get their validation data: this installation's own revocation
// services, asked in process — the OCSP sources the server answers from (live for the
// online CAs, pre-signed for the root) and the root's published CRL.
#pragma once

#include "objectstore/object_store.h"
#include "ocsp/ocsp_sources.h"
#include "pki/hierarchy.h"
#include "signing/pdf_signer.h"

namespace cartorio::documents {

class InstallationValidationData : public signing::ValidationDataSource {
 public:
  // All three must outlive this object.
  InstallationValidationData(const pki::Hierarchy& hierarchy, const ocsp::SourceMap& sources,
                             objectstore::ObjectStore& objects)
      : m_hierarchy(hierarchy), m_sources(sources), m_objects(objects) {}

  // Every certificate with its issuers up to the root; for each one issued by one of our
  // CAs, a successful OCSP response, plus the root's CRL for the intermediates.
  // Certificates of other PKIs (an external TSA) are carried without revocation data.
  // Errc::store_unavailable when a response or the CRL cannot be had.
  core::Result<signing::ValidationData> collect(const std::vector<X509*>& certificates) override;

 private:
  const pki::Hierarchy& m_hierarchy;
  const ocsp::SourceMap& m_sources;
  objectstore::ObjectStore& m_objects;
};

}  // namespace cartorio::documents
