// Flow 1 of the reference architecture, end to end: a signed PDF from an uploaded one.
//   1. the request and the PDF are checked first, so bad input is refused before anything
//      is issued; the signatory's personal data, if given, is sealed (documents/personal_data.h);
//   2. a fresh EC P-256 key and a CSR carrying the document's SHA-256 (an RFC 6920 ni: URI),
//      its title and its requester;
//   3. a short-lived certificate from the Document Signing CA (document-signing profile),
//      recorded in the store;
//   4. PAdES at the asked level (signing/pdf_signer.h), time-stamped by the TimestampClient;
//   5. the signed PDF written to the object store;
//   6. the document record and its audit event in one transaction;
//   7. an expiring download link.
// The per-document key lives only in this call. When anything fails after the certificate
// was issued, that certificate is handed to `abandon` (revoked as cessationOfOperation by the
// composition root) and the stored object removed, so no certificate signs nothing silently.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "documents/download_links.h"
#include "documents/personal_data.h"
#include "keys/key_store.h"
#include "objectstore/object_store.h"
#include "pki/hierarchy.h"
#include "signing/pdf_signer.h"
#include "store/store.h"
#include "tsa/timestamp_client.h"

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace cartorio::documents {

struct DocumentServiceOptions {
  signing::PadesLevel default_level = signing::PadesLevel::b_lt;
  int certificate_validity_days = 3;
  std::size_t max_pdf_bytes = 64 * 1024 * 1024;
  std::chrono::seconds link_lifetime{3600};
  std::string organization = "Cartorio Digital";
  std::string verify_base_url;  // the QR code on a stamp points at verify_base_url + "/verify/" + id
};

struct SignDocumentRequest {
  std::string_view pdf;
  std::string title;         // up to 200 characters of UTF-8; may be empty
  std::string owner;         // principal subject, e.g. "user:alice"; the audit actor
  // The signing party the stamp and the certificate name (public: certificates are in the
  // transparency log); default: the owner. Not the signatory.
  std::string signer_name;
  // The citizen the document is for (optional): personal data, stored only sealed.
  SignatoryInput signatory;
  std::optional<signing::PadesLevel> level;
  bool visible = false;      // draw a stamp
  int page = 1;              // the stamp's page (1-based)
  std::optional<std::array<double, 4>> rect;  // the stamp's rectangle, else the default corner
  std::string reason;
  std::string source = "local";  // source address for the audit event
  std::string request_id;
};

struct SignedDocument {
  store::DocumentRecord record;
  std::string pdf;
  std::string download_path;  // path + query of the download link
  std::int64_t link_expires_at = 0;
  Signatory signatory;  // as given (validated), for the response; sealed in `record`
};

struct DocumentServiceDeps {
  const pki::Hierarchy* hierarchy = nullptr;
  keys::KeyStore* keys = nullptr;
  store::Store* store = nullptr;
  objectstore::ObjectStore* objects = nullptr;
  const core::Clock* clock = nullptr;
  pki::PublicUrls urls;
  tsa::TimestampClient* timestamps = nullptr;          // B-T and up
  signing::ValidationDataSource* validation = nullptr;  // B-LT and up
  const DownloadLinks* links = nullptr;
  // Seals and opens signatories; null: requests naming one are refused (Errc::not_initialized).
  const PersonalData* personal_data = nullptr;
  // Revokes a certificate issued for a signature that then failed; its errors are logged.
  std::function<void(const std::string& serial)> abandon;
};

class DocumentService {
 public:
  DocumentService(DocumentServiceDeps deps, DocumentServiceOptions options)
      : m_deps(std::move(deps)), m_options(std::move(options)) {}

  // Errc: the PDF's (not_a_pdf, pdf_malformed, pdf_encrypted, pdf_too_large),
  // invalid_argument (title, page, rectangle, level, signatory name or e-mail), invalid_cpf,
  // tsa_*, store and key errors.
  core::Result<SignedDocument> sign(const SignDocumentRequest& request);

  // The signatory `rec` names, opened (empty when none). Errc::store_error for a token that
  // does not open; Errc::not_initialized when this instance has no personal-data keys.
  core::Result<Signatory> signatory(const store::DocumentRecord& rec) const;
  // The DocumentFilter::signer_cpf_index for a CPF as typed (either spelling, surrounding
  // whitespace ignored). Errc::invalid_cpf; Errc::not_initialized as above.
  core::Result<std::string> signer_cpf_index(std::string_view cpf) const;

  // The signed PDF's bytes. Errc::not_found.
  core::Result<std::string> content(const std::string& document_id);

  static std::string object_key(const std::string& document_id) { return "documents/" + document_id + ".pdf"; }

 private:
  DocumentServiceDeps m_deps;
  DocumentServiceOptions m_options;
};

}  // namespace cartorio::documents
