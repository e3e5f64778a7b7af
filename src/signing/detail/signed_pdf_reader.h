// The PDF side of signature validation, on qpdf: opening a file with qpdf's exceptions
// and warnings turned into error codes and findings, the signature dictionaries of the
// AcroForm, the DSS, and where each revision ends.
//
// Internal to cartorio_pdf_verify. qpdf stays behind this header (pimpl): qpdf 11.3's
// headers do not compile as C++20 with clang (qpdf issue #942, fixed in 11.4), so the two
// files that include them (signed_pdf_reader.cpp, revision_diff.cpp) are kept C++17-clean
// and built as C++17 where needed (src/signing/CMakeLists.txt) — hence std::string_view for
// bytes here, not crypto::ByteView (std::span).
//
// Methods may throw std::exception (qpdf's QPDFExc among them) on damaged objects; callers
// turn them into errors with error_from_exception().
#pragma once

#include "core/error.h"
#include "signing/verification_report.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::signing::detail {

// Where a revision ends: each "startxref N %%EOF" of the file, in order.
struct RevisionEnd {
  std::size_t eof_end = 0;  // just after "%%EOF"
  std::size_t end = 0;      // after the end-of-line that follows it, if any
};
std::vector<RevisionEnd> find_revision_ends(std::string_view pdf);

// Errc::pdf_encrypted for qpdf's password errors, else Errc::pdf_malformed, with qpdf's
// object and offset when it gives them.
core::Error error_from_exception(const std::exception& e);

struct SignatureDictionary {
  std::string field_name;         // fully qualified
  int object_number = 0;          // of the signature dictionary (0 when direct)
  int generation = 0;
  std::optional<long long> object_offset;  // where its object starts, when stored uncompressed
  std::string type;               // "/Sig", "/DocTimeStamp" or "" (the key is optional)
  std::string sub_filter;         // without the slash: "ETSI.CAdES.detached"
  std::vector<long long> byte_range;
  bool byte_range_typed = false;  // an array of integers (even if not four, or negative)
  std::optional<std::string> contents;  // /Contents as decoded bytes
  std::string m, reason, location, name;
};

// The validation data of the DSS (ETSI EN 319 142-1 5.4): every certificate, OCSP response
// and CRL of /DSS and its /VRI entries, decoded (DER). Oversized streams are skipped.
struct DssData {
  bool present = false;
  std::vector<std::string> certs, ocsps, crls;
};

class PdfFile {
 public:
  // Reads `bytes` (not copied: they must outlive the object). Errc::not_a_pdf (no %PDF-
  // header in the first 1024 bytes), pdf_encrypted (with or without a user password),
  // pdf_malformed (qpdf cannot read it, even by reconstructing the xref table).
  static core::Result<PdfFile> open(std::string_view bytes, const std::string& description);

  PdfFile(PdfFile&&) noexcept;
  PdfFile& operator=(PdfFile&&) noexcept;
  ~PdfFile();

  // Every signature field whose /V is a dictionary, walking /AcroForm /Fields and /Kids
  // (bounded depth and count, cycles ignored). A dictionary reached from two fields is
  // reported once.
  std::vector<SignatureDictionary> signatures();
  DssData dss();
  // qpdf's warnings so far (damage it repaired), as document findings; clears them.
  std::vector<Finding> damage();

  // The qpdf side (detail/pdf_file_impl.h), for revision_diff.cpp.
  struct Impl;
  Impl& impl() { return *m_impl; }

 private:
  explicit PdfFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cartorio::signing::detail
