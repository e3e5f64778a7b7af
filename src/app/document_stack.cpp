#include "app/document_stack.h"

#include "app/documents_setup.h"
#include "app/personal_data_setup.h"
#include "core/log.h"
#include "crypto/x509.h"
#include "pki/certificate_issuer.h"
#include "tsa/http_timestamp_client.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cartorio::app {

signing::VerifyOptions installation_verify_options(const Runtime& rt, const pki::Hierarchy& hierarchy,
                                                   const ocsp::SourceMap& sources) {
  signing::VerifyOptions vo;
  for (const auto& name : hierarchy.names()) {
    auto id = hierarchy.get(name);
    if (!id) continue;
    X509* c = (*id)->cert.get();
    X509_up_ref(c);
    (name == pki::kRoot ? vo.trusted_roots : vo.intermediates).emplace_back(c);
  }
  // The lookup holds copies of what it needs: it outlives neither the hierarchy nor the sources.
  std::vector<std::pair<crypto::X509Ptr, std::shared_ptr<ocsp::ResponseSource>>> cas;
  for (const char* name : {pki::kRoot, pki::kTlsCa, pki::kDocumentCa}) {
    auto id = hierarchy.get(name);
    auto source = sources.find(name);
    if (!id || source == sources.end()) continue;
    cas.emplace_back(crypto::X509Ptr(X509_dup((*id)->cert.get())), source->second);
  }
  auto shared_cas = std::make_shared<decltype(cas)>(std::move(cas));
  vo.ocsp_lookup = [shared_cas](const X509* cert, const X509* issuer) -> std::optional<crypto::Bytes> {
    for (const auto& [ca, source] : *shared_cas) {
      if (X509_cmp(ca.get(), issuer) != 0) continue;
      auto der = ocsp::ask_about(*source, cert, issuer);
      if (der) return std::move(*der);
      return std::nullopt;
    }
    return std::nullopt;
  };
  // Our per-document certificates: revoking one withdraws that document's signature.
  auto document_ca = hierarchy.get(pki::kDocumentCa);
  if (document_ca) {
    auto ca = std::make_shared<crypto::X509Ptr>(X509_dup((*document_ca)->cert.get()));
    vo.withdrawal_lookup = [ca, store = rt.store.get()](const X509* signer) -> std::optional<signing::Withdrawal> {
      if (X509_check_issued(ca->get(), const_cast<X509*>(signer)) != X509_V_OK) return std::nullopt;
      auto record = store->get_certificate(crypto::serial_hex(signer));
      if (!record || record->status != store::CertificateStatus::revoked || record->issuer != pki::kDocumentCa ||
          record->profile != "document-signing")
        return std::nullopt;
      return signing::Withdrawal{record->revoked_at, pki::revocation_reason_name(record->revocation_reason)};
    };
  }
  vo.max_file_size = static_cast<std::size_t>(rt.config.documents.max_pdf_bytes);
  vo.clock = rt.clock.get();
  return vo;
}

core::Result<std::unique_ptr<DocumentStack>> open_document_stack(const Runtime& rt, const ocsp::SourceMap* sources) {
  auto stack = std::make_unique<DocumentStack>();
  CARTORIO_TRY(auto hierarchy, rt.hierarchy());
  stack->hierarchy = std::make_shared<const pki::Hierarchy>(std::move(hierarchy));
  CARTORIO_TRY(stack->authority,
               tsa::TimeStampAuthority::create(*stack->hierarchy, *rt.keys, *rt.clock, tsa::tsa_options(rt.config, rt.actor)));
  CARTORIO_TRY(stack->timestamps, tsa::make_timestamp_client(rt.config, stack->authority.get(), rt.actor));
  if (!sources) {
    CARTORIO_TRY(stack->own_sources,
                 ocsp::make_default_sources(*stack->hierarchy, *rt.store, *rt.keys, *rt.clock,
                                            ocsp::presigned_root_dir(rt.config.data_dir)));
    sources = &*stack->own_sources;
  }
  stack->verify_options = installation_verify_options(rt, *stack->hierarchy, *sources);
  stack->validation = std::make_unique<documents::InstallationValidationData>(*stack->hierarchy, *sources, *rt.objects);
  CARTORIO_TRY(stack->links, open_download_links(rt));
  if (auto index = open_blind_index(rt.config)) {
    stack->field_cipher.emplace(open_field_cipher(rt));
    stack->blind_index.emplace(std::move(*index));
    stack->personal_data.emplace(*stack->field_cipher, *stack->blind_index);
  } else if (index.error().code == core::Errc::not_initialized) {
    // An older installation: everything but signatories keeps working.
    core::log::warn("documents.personal_data_unavailable", {{"error", index.error().to_string()}});
  } else {
    return index.error();
  }

  documents::DocumentServiceOptions options;
  CARTORIO_TRY(options.default_level, signing::parse_pades_level(rt.config.documents.default_level));
  options.certificate_validity_days = rt.config.documents.certificate_validity_days;
  options.max_pdf_bytes = static_cast<std::size_t>(rt.config.documents.max_pdf_bytes);
  options.link_lifetime = std::chrono::minutes(rt.config.documents.download_link_minutes);
  options.organization = rt.config.pki.organization;
  options.verify_base_url = rt.config.pki.public_base_url;
  documents::DocumentServiceDeps deps;
  deps.hierarchy = stack->hierarchy.get();
  deps.keys = rt.keys.get();
  deps.store = rt.store.get();
  deps.objects = rt.objects.get();
  deps.clock = rt.clock.get();
  deps.urls = rt.urls();
  deps.timestamps = stack->timestamps.get();
  deps.validation = stack->validation.get();
  deps.links = &*stack->links;
  deps.personal_data = stack->personal_data ? &*stack->personal_data : nullptr;
  deps.abandon = [&rt](const std::string& serial) {
    // cessationOfOperation: the certificate was issued for a signature that never happened.
    auto r = revoke_certificate(rt, serial, 5, rt.actor, "local");
    if (!r) core::log::error("document.abandon_failed", {{"serial", serial}, {"error", r.error().to_string()}});
  };
  stack->service = std::make_unique<documents::DocumentService>(std::move(deps), std::move(options));
  return stack;
}

}  // namespace cartorio::app
