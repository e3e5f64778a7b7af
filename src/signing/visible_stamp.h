// The visible signature stamp: who signed, when, the document id, and a QR code (libqrencode)
// linking to the public verification page — drawn as a PDF appearance stream with the
// standard Helvetica font (nothing embedded) and the QR modules as filled rectangles.
#pragma once

#include "core/error.h"
#include "signing/pdf_update.h"

#include <array>
#include <optional>
#include <string>

namespace cartorio::signing {

struct StampText {
  std::string signer;       // UTF-8; characters outside Latin-1 print as '?'
  std::string signed_at;    // e.g. "2026-12-01 07:15 UTC"
  std::string document_id;
  std::string verify_url;   // encoded in the QR code
};

// Default placement: 252 x 84 pt in the bottom-right corner of `page`, 24 pt from the
// edges of its visible box; `rect` overrides it (llx lly urx ury). Errc::invalid_argument
// for a page that does not exist or a rectangle off the page.
core::Result<SignatureAppearance> make_stamp(const PdfInfo& info, int page, const StampText& text,
                                             std::optional<std::array<double, 4>> rect = std::nullopt);

}  // namespace cartorio::signing
