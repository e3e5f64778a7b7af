#include "app/server_identity.h"

#include "crypto/key_pair.h"
#include "crypto/x509.h"
#include "pki/certificate_issuer.h"

#include <arpa/inet.h>
#include <openssl/x509.h>

namespace cartorio::app {

using core::Errc;

namespace {

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

core::Result<std::vector<pki::SubjectAltName>> parse_names(const std::string& list) {
  std::vector<pki::SubjectAltName> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty()) return core::Error{Errc::invalid_argument, "server.tls_names holds an empty name"};
    out.push_back({is_ip(name) ? pki::SanKind::ip : pki::SanKind::dns, name});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

core::Result<ServerIdentity> issue_server_identity(const Runtime& rt) {
  CARTORIO_TRY(auto sans, parse_names(rt.config.server.tls_names));
  CARTORIO_TRY(auto key, crypto::generate_key(crypto::KeyAlgorithm::ec_p256));
  CARTORIO_TRY(auto h, rt.hierarchy());
  CARTORIO_TRY(auto subject, crypto::make_name({{"CN", sans.front().value}}));
  pki::CertificateIssuer issuer(h, *rt.keys, *rt.store, *rt.clock, rt.urls());
  pki::CertificateIssuer::KeyedRequest req;
  req.profile = "tls-server";
  req.issuer = pki::kTlsCa;
  req.subject = subject.get();
  req.public_key = key.get();
  req.validity_days = rt.config.server.tls_certificate_days;
  req.requester = rt.actor;
  req.sans = std::move(sans);
  CARTORIO_TRY(auto issued, issuer.issue_for_key(req));
  CARTORIO_TRY(auto tls, http::TlsIdentity::from_pem(issued.record.pem + issued.chain_pem, std::move(key)));
  return ServerIdentity{std::move(tls), core::from_unix(issued.record.not_before),
                        core::from_unix(issued.record.not_after)};
}

bool needs_renewal(const ServerIdentity& identity, core::TimePoint now) {
  return now >= identity.not_before + (identity.not_after - identity.not_before) * 2 / 3;
}

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
