#include "ocsp/ocsp_sources.h"

#include "ocsp/presigned_source.h"

#include "crypto/x509.h"

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

namespace cartorio::ocsp {

std::string presigned_root_dir(const std::string& data_dir) { return data_dir + "/ocsp/root"; }

core::Result<SourceMap> make_default_sources(const pki::Hierarchy& hierarchy, store::CertificateRepository& certificates,
                                             keys::KeyStore& keys, const core::Clock& clock,
                                             const std::string& root_presigned_dir, const ResponderOptions& options) {
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
                                                const ResponderOptions& options, cache::Cache& cache,
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

core::Result<crypto::Bytes> ask_about(ResponseSource& source, const X509* cert, const X509* issuer) {
  crypto::OcspRequest req(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
  if (!req || !id || !OCSP_request_add0_id(req.get(), id)) {
    OCSP_CERTID_free(id);
    return core::Error{core::Errc::crypto_error, "cannot build an OCSP request: " + crypto::openssl_errors()};
  }
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &der);
  if (len <= 0) return core::Error{core::Errc::crypto_error, "cannot encode an OCSP request"};
  crypto::Bytes request(der, der + len);
  OPENSSL_free(der);
  auto res = source.respond(request);
  if (res.status != ResponseStatus::successful)
    return core::Error{core::Errc::store_unavailable, "no OCSP answer for certificate " + crypto::serial_hex(cert) +
                                                          " (status " + std::to_string(static_cast<int>(res.status)) + ")"};
  return std::move(res.der);
}

}  // namespace cartorio::ocsp
