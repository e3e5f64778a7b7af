// Validation of the signatures in a PDF: PAdES / PDF signatures (adbe.pkcs7.detached,
// ETSI.CAdES.detached) and document timestamps (ETSI.RFC3161), as `cartorio pdf verify`
// and the API report them.
//
// For each signature field whose value is a signature dictionary: the ByteRange and the
// digest of the bytes it covers, the CMS signature, the signer's chain to a trusted root at
// the signing time (a valid signature timestamp's genTime, else the claimed time), the
// signer's revocation status at that time (DSS, CMS, else `ocsp_lookup`), the signature
// timestamp, and what the incremental updates after it changed. See verification_report.h
// for the report and how the verdict follows from its findings.
//
// Thread-safe: no shared state; `ocsp_lookup` is called from the calling thread.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "signing/verification_report.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::signing {

// Asked for the status of `cert` (issued by `issuer`) when the document carries no
// revocation information for it: returns a DER OCSPResponse, or nullopt when there is none.
// The response is checked like any other (signature, CertID, times), so the lookup may
// return whatever a responder answered.
using OcspLookup = std::function<std::optional<crypto::Bytes>(const X509* cert, const X509* issuer)>;

// The issuer's current word on a signing certificate it made for one document only: when
// it has revoked it since (whatever the time of signing), the signature is withdrawn.
struct Withdrawal {
  long long revoked_at = 0;
  std::string reason;  // RFC 5280 name, e.g. "cessationOfOperation"
};
using WithdrawalLookup = std::function<std::optional<Withdrawal>(const X509* signer)>;

struct VerifyOptions {
  // Trust anchors: a chain must end at one of these. Any certificate here is an anchor,
  // self-signed or not (an intermediate given here is trusted as such).
  std::vector<crypto::X509Ptr> trusted_roots;
  // Untrusted certificates that may complete chains (beside those in the CMS and the DSS).
  std::vector<crypto::X509Ptr> intermediates;
  // May be empty: then only the document's own revocation information is used.
  OcspLookup ocsp_lookup;
  // May be empty. Asked for each CMS signer: a withdrawal is an error finding
  // ("withdrawn_by_issuer"), even when the revocation came after a proven signing time (which
  // ETSI EN 319 102-1 alone would let stand): a notary revoking the certificate of one
  // document annuls that document's signature.
  WithdrawalLookup withdrawal_lookup;
  // Larger inputs are refused (Errc::pdf_too_large) before any parsing.
  std::size_t max_file_size = std::size_t{64} << 20;
  // "Now", for notes such as "expired since" and for signatures that claim no time; the
  // system clock when null.
  const core::Clock* clock = nullptr;
};

// Errors (the report is only for PDFs that could be read):
//   Errc::pdf_too_large  larger than options.max_file_size
//   Errc::not_a_pdf      no %PDF- header in the first 1024 bytes
//   Errc::pdf_encrypted  encrypted (with or without a user password): refused
//   Errc::pdf_malformed  qpdf cannot read it, even by reconstructing the cross-reference table
// A PDF without signatures is a report with no signatures (DocumentStatus::no_signatures).
core::Result<VerificationReport> verify_pdf(crypto::ByteView pdf, const VerifyOptions& options);

}  // namespace cartorio::signing
