// Revocation status of a certificate at a point in time, from the evidence a signed PDF
// carries (DSS OCSP responses and CRLs, CMS CRLs) or, failing that, a live OCSP lookup.
//
// An OCSP response counts when it answers for the certificate (CertID with its own hash
// algorithm) and its signature verifies — by the issuer or a responder the issuer
// delegated, chained to a trusted root as of its producedAt. A CRL counts when the issuer
// signed it. Either one tells:
//   revoked at R      -> revoked; before the signing time when R <= T
//   good              -> only if it speaks for T: thisUpdate >= T, or T within
//                        [thisUpdate, nextUpdate]
//   anything else     -> no information
// Revoked wins over good (a later answer knows more); no information at all is "unknown".
//
// Internal to cartorio_pdf_verify.
#pragma once

#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "signing/detail/signature_crypto.h"
#include "signing/pdf_verifier.h"
#include "signing/verification_report.h"

#include <vector>

namespace cartorio::signing::detail {

struct RevocationEvidence {
  std::vector<crypto::OcspResponse> dss_ocsps;
  std::vector<crypto::X509Crl> dss_crls;
  const OcspLookup* live = nullptr;  // may be null or empty
};

// `cms_crls`: the CRLs inside the signature's own CMS. Live answers are not cached: one
// lookup per call.
RevocationCheck check_revocation(X509* cert, X509* issuer, long long at, const RevocationEvidence& evidence,
                                 const std::vector<crypto::X509Crl>& cms_crls, const CertPool& pool,
                                 const std::vector<X509*>& anchors);

}  // namespace cartorio::signing::detail
