#include "app/server_identity.h"

#include "pki/certificate_issuer.h"

namespace cartorio::app {

using core::Errc;

core::Result<http::TlsOptions> tls_options(const Runtime& rt, const ServerIdentity& identity) {
  http::TlsOptions o;
  o.identity = identity.tls;
  const auto& mode = rt.config.server.client_auth;
  o.client_auth = mode == "required"   ? http::ClientAuth::required
                  : mode == "optional" ? http::ClientAuth::optional
                                       : http::ClientAuth::none;
  CARTORIO_TRY(auto tls_ca, rt.store->get_authority(pki::kTlsCa));
  o.client_trust_anchors_pem = tls_ca.cert_pem;
  return o;
}

core::Result<identity::Principal> principal_for_client_certificate(store::CertificateRepository& certificates,
                                                                   const http::ClientCertificate& cert) {
  auto rec = certificates.get_certificate(cert.serial);
  if (!rec) {
    if (rec.error().code == Errc::store_unavailable) return rec.error();
    return core::Error{Errc::unauthenticated, "client certificate " + cert.serial + " was not issued here"};
  }
  if (rec->issuer != pki::kTlsCa || rec->profile != "tls-client")
    return core::Error{Errc::unauthenticated, "client certificate " + cert.serial + " is not a tls-client certificate"};
  if (rec->status == store::CertificateStatus::revoked)
    return core::Error{Errc::unauthenticated, "client certificate " + cert.serial + " is revoked"};
  if (cert.subject_cn.empty()) return core::Error{Errc::unauthenticated, "client certificate without a CN"};
  identity::Principal p;
  p.subject = "service:" + cert.subject_cn;
  p.roles = {identity::Role::service};
  p.method = identity::AuthMethod::client_certificate;
  p.token_id = cert.serial;
  return p;
}

}  // namespace cartorio::app
