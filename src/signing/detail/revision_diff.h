// What each incremental update of a signed PDF changed, revision against revision.
//
// Revision k is the file cut after its k-th "startxref N %%EOF" and read by qpdf on its
// own, the way a reader would have seen the document then. The objects revision k wrote
// are those whose cross-reference entry in revision k points into its own bytes (directly,
// or through an object stream written there). Each is new, rewritten unchanged, or changed;
// changes are checked against what adding a signature, a document timestamp or validation
// data (DSS) needs, in the spirit of EU DSS's object-modification checks:
//   catalog        /AcroForm, /DSS, /Extensions
//   AcroForm       /Fields (only new signature fields appended), /SigFlags, /DR, /DA
//   page           /Annots (only new signature widgets appended)
//   empty signature field  /V, /AP, /AS, /M, /F, /DA, /MK, /P
//   the DSS and anything reached from it; the /Info dictionary and the XMP /Metadata stream
// Anything else (a page's content, a font, a new annotation...) is unexpected: the revision
// is "other" and lists those objects.
//
// Internal to cartorio_pdf_verify; like signed_pdf_reader.cpp, revision_diff.cpp is C++17-clean.
#pragma once

#include "signing/detail/signed_pdf_reader.h"
#include "signing/verification_report.h"

#include <map>
#include <memory>
#include <string_view>
#include <vector>

namespace cartorio::signing::detail {

class RevisionHistory {
 public:
  // `pdf` must outlive this object; `ends` from find_revision_ends(pdf).
  RevisionHistory(std::string_view pdf, std::vector<RevisionEnd> ends);
  RevisionHistory(RevisionHistory&&) noexcept;
  ~RevisionHistory();

  int count() const { return static_cast<int>(m_ends.size()); }
  const std::vector<RevisionEnd>& ends() const { return m_ends; }

  // What revision `k` (2 <= k <= count()) changed relative to revision k-1. Computed once.
  // Kind "unknown" when either revision cannot be read on its own. Does not throw.
  const RevisionChange& change(int k);

 private:
  PdfFile* revision(int k);  // null when it cannot be read
  RevisionChange diff(int k);

  std::string_view m_pdf;
  std::vector<RevisionEnd> m_ends;
  std::map<int, PdfFile> m_loaded;
  std::map<int, bool> m_unreadable;
  std::map<int, RevisionChange> m_changes;
};

}  // namespace cartorio::signing::detail
