// The data pdf_update.h's functions take and give, apart from it because it is C++17-clean:
// the qpdf side of those functions (detail/pdf_incremental.cpp) includes it. qpdf 11.3's
// headers do not compile as C++20 with clang (qpdf issue #942, fixed in 11.4), so the files
// that include them are built as C++17 (src/signing/CMakeLists.txt).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::signing {

// What a caller learns before committing to sign (inspect_pdf).
struct PdfInfo {
  int pages = 0;
  int signature_fields = 0;
  bool xref_stream = false;  // the last cross-reference section is a stream (PDF 1.5+)
  std::vector<std::array<double, 4>> page_boxes;  // visible area (CropBox, else MediaBox) per page
};

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

}  // namespace cartorio::signing
