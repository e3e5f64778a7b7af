// Signed documents (flow 1) and public verification:
//   POST /api/v1/documents                 document_sign: a PDF in (raw application/pdf with the
//                                          options in the query, or multipart/form-data with a
//                                          "file" part and the options as fields), signed
//                                          document record + download link out (201); may
//                                          name the signatory (signer_cpf, signer_name,
//                                          signer_email: personal data, stored sealed)
//   GET  /api/v1/documents                 document_request: the caller's own documents;
//                                          ?signer_cpf= looks a CPF up through the blind
//                                          index (a notary: across the office's documents)
//   GET  /api/v1/documents/{id}            document_request: the record and a fresh link (owner,
//                                          or a notary/admin)
//   GET  /api/v1/documents/{id}/content    public: the signed PDF, for a valid download link
//   POST /api/v1/verify                    public (rate-limited per IP): the validation report
#pragma once

#include "api/secured_router.h"
#include "core/error.h"
#include "documents/document_service.h"
#include "documents/download_links.h"
#include "signing/verification_report.h"
#include "store/store.h"

#include <functional>
#include <string_view>

namespace cartorio::api {

using VerifyFunction = std::function<core::Result<signing::VerificationReport>(std::string_view pdf)>;

struct DocumentRouteServices {
  documents::DocumentService* service = nullptr;
  const documents::DownloadLinks* links = nullptr;
  store::DocumentRepository* documents = nullptr;
  VerifyFunction verify;
  std::size_t max_pdf_bytes = 64 * 1024 * 1024;
  std::chrono::seconds link_lifetime{3600};
  const core::Clock* clock = nullptr;
};

core::Result<void> add_document_routes(SecuredRouter& router, DocumentRouteServices services);

}  // namespace cartorio::api
