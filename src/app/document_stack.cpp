#include "app/document_stack.h"

#include "app/documents_setup.h"
#include "core/log.h"
#include "tsa/http_timestamp_client.h"

namespace cartorio::app {

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
  stack->validation = std::make_unique<documents::InstallationValidationData>(*stack->hierarchy, *sources, *rt.objects);
  CARTORIO_TRY(stack->links, open_download_links(rt));

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
  deps.abandon = [&rt](const std::string& serial) {
    // cessationOfOperation: the certificate was issued for a signature that never happened.
    auto r = revoke_certificate(rt, serial, 5, rt.actor, "local");
    if (!r) core::log::error("document.abandon_failed", {{"serial", serial}, {"error", r.error().to_string()}});
  };
  stack->service = std::make_unique<documents::DocumentService>(std::move(deps), std::move(options));
  return stack;
}

}  // namespace cartorio::app
