// Incremental updates of a PDF (ISO 32000-1 7.5.6): the original bytes are kept as they
// are and new or changed objects, a new cross-reference section (a table or a stream,
// like the file's last one) and a trailer pointing back with /Prev are appended. Earlier
// revisions, and so earlier signatures, stay byte-for-byte intact.
//
// qpdf reads the file (and only reads it): nothing here rewrites the original. qpdf is
// confined to pdf_update.cpp.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::signing {

// What a caller learns before committing to sign (so a bad file is refused before a
// certificate is issued for it). Errc::not_a_pdf, pdf_malformed (including a damaged
// cross-reference that would need reconstruction: an update must point at a valid one),
// pdf_encrypted, pdf_too_large.
struct PdfInfo {
  int pages = 0;
  int signature_fields = 0;
  bool xref_stream = false;  // the last cross-reference section is a stream (PDF 1.5+)
  std::vector<std::array<double, 4>> page_boxes;  // visible area (CropBox, else MediaBox) per page
};
core::Result<PdfInfo> inspect_pdf(std::string_view pdf, std::size_t max_bytes);

// A visible signature: an appearance stream placed on a page.
struct SignatureAppearance {
  int page = 1;                           // 1-based
  std::array<double, 4> rect{};           // llx lly urx ury, page user space
  std::string content;                    // content stream operators, BBox = [0 0 width height]
  std::string font_resource = "/F1";      // name the content uses for Helvetica (WinAnsi)
};

struct SignatureField {
  bool document_timestamp = false;  // /DocTimeStamp, ETSI.RFC3161; else /Sig, ETSI.CAdES.detached
  std::size_t contents_bytes = 0;   // reserved for the DER (the hex string is twice as long)
  std::string signing_time;         // PDF date for /M (signatures only)
  std::string name, reason, location, contact_info;  // UTF-8, optional
  std::optional<SignatureAppearance> appearance;
};

struct PreparedSignature {
  std::string pdf;            // the whole new file; the /Contents hole is zero-filled
  std::size_t hole_begin = 0;  // offset of '<'
  std::size_t hole_end = 0;    // offset just past '>'
  std::string field_name;
};

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
