#include "documents/unfinished_signatures.h"

#include "core/log.h"
#include "documents/document_id.h"
#include "documents/document_service.h"
#include "pki/hierarchy.h"

#include <string_view>

namespace cartorio::documents {

std::string document_id_of(const store::CertificateRecord& certificate) {
  constexpr std::string_view kUri = "URI:";
  constexpr std::string_view kVerify = "/verify/";
  for (const auto& san : certificate.sans) {
    const std::string_view s(san);
    if (s.substr(0, kUri.size()) != kUri) continue;
    const auto at = s.rfind(kVerify);
    if (at == std::string_view::npos) continue;
    const auto id = s.substr(at + kVerify.size());
    if (is_document_id(id)) return std::string(id);
  }
  return {};
}

core::Result<UnfinishedSignatures> clean_unfinished_signatures(const UnfinishedSignatureDeps& deps,
                                                               std::chrono::seconds grace, int limit) {
  store::CertificateFilter f;
  f.issuer = std::string(pki::kDocumentCa);
  f.profile = "document-signing";
  f.status = store::CertificateStatus::good;
  f.created_before = core::to_unix(deps.clock->now() - grace);
  f.without_document = true;
  f.limit = limit;
  CARTORIO_TRY(const auto certificates, deps.certificates->list_certificates(f));
  UnfinishedSignatures out;
  for (const auto& c : certificates) {
    // The object first: were the revocation done first and the run cut short, the next run
    // would no longer see this certificate, nor the object behind it.
    if (const auto id = document_id_of(c); !id.empty()) {
      CARTORIO_TRY(const bool erased, deps.objects->erase(DocumentService::object_key(id)));
      if (erased) ++out.objects_erased;
    }
    CARTORIO_TRY_VOID(deps.revoke(c.serial));
    core::log::warn("document.unfinished_revoked", {{"serial", c.serial}, {"requester", c.requester}});
    out.revoked.push_back(c.serial);
  }
  return out;
}

}  // namespace cartorio::documents
