#include "ocsp/ocsp_sources.h"

#include "ocsp/presigned_source.h"

#include <openssl/x509.h>

namespace cartorio::ocsp {

std::string presigned_root_dir(const std::string& data_dir) { return data_dir + "/ocsp/root"; }

core::Result<SourceMap> make_default_sources(const pki::Hierarchy& hierarchy, store::CertificateRepository& certificates,
                                             keys::KeyStore& keys, const core::Clock& clock,
                                             const std::string& root_presigned_dir, ResponderOptions options) {
  SourceMap out;
  for (const std::string ca : {pki::kTlsCa, pki::kDocumentCa}) {
    CARTORIO_TRY(auto responder, OcspResponder::create(hierarchy, ca, certificates, keys, clock, options));
    out[ca] = std::move(responder);
  }
  CARTORIO_TRY(const pki::SigningIdentity* root, hierarchy.get(pki::kRoot));
  crypto::X509Ptr root_cert(X509_dup(root->cert.get()));
  if (!root_cert) return {core::Errc::internal, "copying the root certificate failed"};
  out[pki::kRoot] = std::make_shared<PresignedSource>(std::move(root_cert), root_presigned_dir, clock);
  return out;
}

core::Result<CachedSources> make_cached_sources(const pki::Hierarchy& hierarchy,
                                                store::CertificateRepository& certificates, keys::KeyStore& keys,
                                                const core::Clock& clock, const std::string& root_presigned_dir,
                                                ResponderOptions options, cache::Cache& cache,
                                                CachedSourceOptions cache_options) {
  CachedSources out;
  CARTORIO_TRY(out.sources, make_default_sources(hierarchy, certificates, keys, clock, root_presigned_dir, options));
  for (const std::string ca : {pki::kTlsCa, pki::kDocumentCa}) {
    CARTORIO_TRY(const pki::SigningIdentity* ca_id, hierarchy.get(ca));
    crypto::X509Ptr ca_cert(X509_dup(ca_id->cert.get()));
    if (!ca_cert) return {core::Errc::internal, "copying the " + ca + " certificate failed"};
    auto cached = std::make_shared<CachedSource>(ca, std::move(ca_cert), out.sources.at(ca), cache, clock,
                                                 cache_options);
    out.sources[ca] = cached;
    out.cached[ca] = std::move(cached);
  }
  return out;
}

}  // namespace cartorio::ocsp
