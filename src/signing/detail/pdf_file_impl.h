// What PdfFile hides: the QPDF object. Included only by the two C++17-clean files that use
// qpdf (signed_pdf_reader.cpp, revision_diff.cpp; see signed_pdf_reader.h).
#pragma once

#include "signing/detail/signed_pdf_reader.h"

#include <qpdf/QPDF.hh>

#include <memory>

namespace cartorio::signing::detail {

struct PdfFile::Impl {
  std::unique_ptr<QPDF> qpdf;
};

}  // namespace cartorio::signing::detail
