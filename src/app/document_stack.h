// Wires flow 1 for a process (the CLI's `pdf sign`, the server's document routes): the own
// TSA (or an external one, tsa.url), the validation data from the OCSP sources and the
// published root CRL, the download links, the signatories' personal data (field cipher over
// the data-key ring, blind index from pii.index_key_file), and the DocumentService over them.
#pragma once

#include "app/runtime.h"
#include "documents/document_service.h"
#include "documents/personal_data.h"
#include "documents/download_links.h"
#include "documents/validation_data.h"
#include "signing/pdf_verifier.h"
#include "tsa/time_stamp_authority.h"
#include "tsa/timestamp_client.h"

#include <memory>
#include <optional>
#include <string>

namespace cartorio::app {

// Members refer to each other: held behind a unique_ptr, never moved.
struct DocumentStack {
  std::shared_ptr<const pki::Hierarchy> hierarchy;
  std::shared_ptr<const tsa::TimeStampAuthority> authority;  // the own TSA (also serves POST /tsa)
  std::unique_ptr<tsa::TimestampClient> timestamps;
  std::optional<ocsp::SourceMap> own_sources;         // when the caller gives none
  std::unique_ptr<documents::InstallationValidationData> validation;
  std::optional<documents::DownloadLinks> links;
  // Absent on an installation made before pii.index_key_file existed (a warning is logged):
  // documents then cannot name a signatory until the file is made.
  std::optional<pii::FieldCipher> field_cipher;
  std::optional<pii::BlindIndex> blind_index;
  std::optional<documents::PersonalData> personal_data;
  std::unique_ptr<documents::DocumentService> service;
  // Validation as this installation's relying parties see it: its root trusted, its CA
  // certificates as intermediates, revocation asked of its own OCSP sources.
  signing::VerifyOptions verify_options;
};

// The verification side alone (`pdf verify`, which needs no TSA or links).
signing::VerifyOptions installation_verify_options(const Runtime& rt, const pki::Hierarchy& hierarchy,
                                                   const ocsp::SourceMap& sources);

// `sources`: the OCSP sources the caller already serves (the server's cached ones), or null
// for a set of its own. `rt` and `sources` must outlive the stack.
core::Result<std::unique_ptr<DocumentStack>> open_document_stack(const Runtime& rt, const ocsp::SourceMap* sources);

}  // namespace cartorio::app
