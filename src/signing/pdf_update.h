// Incremental updates of a PDF (ISO 32000-1 7.5.6): the original bytes are kept as they
// are and new or changed objects, a new cross-reference section (a table or a stream,
// like the file's last one) and a trailer pointing back with /Prev are appended. Earlier
// revisions, and so earlier signatures, stay byte-for-byte intact.
//
// qpdf reads the file (and only reads it): nothing here rewrites the original. qpdf is
// confined to detail/pdf_incremental.cpp.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "signing/pdf_update_types.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::signing {

// What a caller learns before committing to sign (so a bad file is refused before a
// certificate is issued for it). Errc::not_a_pdf, pdf_malformed (including a damaged
// cross-reference that would need reconstruction: an update must point at a valid one),
// pdf_encrypted, pdf_too_large.
core::Result<PdfInfo> inspect_pdf(std::string_view pdf, std::size_t max_bytes);

// Appends a signature field (widget on a page, invisible unless an appearance is given),
// its signature dictionary with /ByteRange filled in and /Contents reserved, the AcroForm
// entries (SigFlags 3) and a new cross-reference section.
core::Result<PreparedSignature> prepare_signature(std::string_view pdf, const SignatureField& field,
                                                  std::size_t max_bytes);
// SHA-256 over the two byte ranges (everything but the hole). `prefix`, when given, is the
// state after hashing exactly the first `prefix_len` bytes of the file (the input, which the
// first range begins with): the digest continues from it instead of hashing them again.
std::array<std::uint8_t, 32> covered_digest(const PreparedSignature& prepared, const crypto::Sha256* prefix = nullptr,
                                            std::size_t prefix_len = 0);
// Writes the DER into the hole (hex, zero-padded). Errc::internal when it does not fit.
core::Result<void> embed_contents(PreparedSignature& prepared, crypto::ByteView der);

// Long-term validation data (PAdES B-LT, ETSI EN 319 142-1 5.4): a Document Security Store
// with certificates, OCSP responses and CRLs (DER each), merged into an existing /DSS.
struct ValidationData {
  std::vector<crypto::Bytes> certificates;
  std::vector<crypto::Bytes> ocsp_responses;
  std::vector<crypto::Bytes> crls;
};
core::Result<std::string> append_dss(std::string_view pdf, const ValidationData& data, std::size_t max_bytes);

// "D:20261201071500+00'00'" (ISO 32000-1 7.9.4), in UTC.
std::string pdf_date(core::TimePoint t);

}  // namespace cartorio::signing
