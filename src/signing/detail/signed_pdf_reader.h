// The PDF side of signature validation, on qpdf: opening a file (or one of its revisions)
// with qpdf's exceptions and warnings turned into error codes and findings, the signature
// dictionaries of the AcroForm, the DSS, and where each revision ends.
//
// Internal to cartorio_pdf_verify. Functions taking a QPDF may throw qpdf's exceptions
// (QPDFExc, std::exception) on damaged objects; verify_pdf catches them at its boundary.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "signing/verification_report.h"

#include <qpdf/QPDF.hh>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::signing::detail {

// Where a revision ends: each "startxref N %%EOF" of the file, in order.
struct RevisionEnd {
  std::size_t eof_end = 0;  // just after "%%EOF"
  std::size_t end = 0;      // after the end-of-line that follows it, if any
};
std::vector<RevisionEnd> find_revision_ends(crypto::ByteView pdf);

// A QPDF over `bytes` (not copied: they must outlive it), warnings collected, not printed.
// Errc::not_a_pdf (no header), pdf_encrypted, pdf_malformed.
core::Result<std::unique_ptr<QPDF>> open_pdf(crypto::ByteView bytes, const std::string& description);

// Turns a qpdf exception into the error code verify_pdf returns.
core::Error qpdf_error(const std::exception& e);

// qpdf's warnings so far (recoverable damage), as document findings; clears them.
std::vector<Finding> damage_findings(QPDF& q);

struct SignatureDictionary {
  std::string field_name;         // fully qualified
  QPDFObjGen object;              // of the signature dictionary (0/0 when direct)
  std::optional<long long> object_offset;  // where its object starts, when stored uncompressed
  std::string type;               // "/Sig", "/DocTimeStamp" or "" (the key is optional)
  std::string sub_filter;         // without the slash: "ETSI.CAdES.detached"
  std::vector<long long> byte_range;
  bool byte_range_typed = false;  // an array of integers (even if not four, or negative)
  std::optional<std::string> contents;  // /Contents as decoded bytes
  std::string m, reason, location, name;
};

// Every signature field whose /V is a dictionary, walking /AcroForm /Fields and /Kids
// (bounded depth and count, cycles ignored). A dictionary reached from two fields is
// reported once.
std::vector<SignatureDictionary> find_signatures(QPDF& q);

// The validation data of the DSS (ETSI EN 319 142-1 5.4): every certificate, OCSP response
// and CRL of /DSS and its /VRI entries, decoded (DER). Oversized streams are skipped.
struct DssData {
  bool present = false;
  std::vector<crypto::Bytes> certs, ocsps, crls;
};
DssData read_dss(QPDF& q);

}  // namespace cartorio::signing::detail
