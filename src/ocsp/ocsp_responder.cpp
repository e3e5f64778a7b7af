#include "ocsp/ocsp_responder.h"

#include "core/log.h"
#include "ocsp/detail/ocsp_common.h"

#include <openssl/x509v3.h>

namespace cartorio::ocsp {

using core::Errc;

core::Result<std::unique_ptr<OcspResponder>> OcspResponder::create(const pki::Hierarchy& hierarchy,
                                                                   const std::string& ca,
                                                                   store::CertificateRepository& certificates,
                                                                   keys::KeyStore& keys, const core::Clock& clock,
                                                                   ResponderOptions options) {
  if (ca == pki::kRoot)
    return {Errc::invalid_argument, "the root key is offline: root OCSP responses are pre-signed"};
  CARTORIO_TRY(const pki::SigningIdentity* ca_id, hierarchy.get(ca));
  CARTORIO_TRY(const pki::SigningIdentity* responder, hierarchy.get(pki::ocsp_identity_for(ca)));
  if (!responder->key_ref)
    return {Errc::ca_not_found, "the OCSP responder identity of " + ca + " has no key"};
  crypto::X509Ptr ca_cert(X509_dup(ca_id->cert.get()));
  crypto::X509Ptr responder_cert(X509_dup(responder->cert.get()));
  if (!ca_cert || !responder_cert) return {Errc::internal, "copying certificates failed"};
  return std::make_unique<OcspResponder>(ca, std::move(ca_cert), std::move(responder_cert), *responder->key_ref,
                                         certificates, keys, clock, std::move(options));
}

OcspResponder::OcspResponder(std::string ca, crypto::X509Ptr ca_cert, crypto::X509Ptr responder_cert,
                             keys::KeyRef responder_key, store::CertificateRepository& certificates,
                             keys::KeyStore& keys, const core::Clock& clock, ResponderOptions options)
    : m_ca(std::move(ca)),
      m_ca_cert(std::move(ca_cert)),
      m_responder_cert(std::move(responder_cert)),
      m_responder_key(std::move(responder_key)),
      m_certificates(certificates),
      m_keys(keys),
      m_clock(clock),
      m_options(std::move(options)) {}

OcspResult OcspResponder::respond(crypto::ByteView request_der) {
  using detail::error_result;
  auto req = detail::parse_request(request_der);
  if (!req) return error_result(ResponseStatus::malformed_request);
  const auto ids = detail::cert_ids(req.get());
  // Each live answer is signed and audited: bound the work one unauthenticated request buys.
  constexpr std::size_t kMaxCertIds = 16;
  if (ids.empty() || ids.size() > kMaxCertIds) return error_result(ResponseStatus::malformed_request);
  // A responder that is not authoritative for one of the certificates answers unauthorized
  // for the whole request (RFC 6960 2.3): we never sign about another CA's certificates.
  for (const OCSP_CERTID* id : ids)
    if (!detail::issued_by(id, m_ca_cert.get())) return error_result(ResponseStatus::unauthorized);

  const auto now = m_clock.now();
  const auto next = now + m_options.validity;
  auto this_update = detail::to_asn1_time(now);
  auto next_update = detail::to_asn1_time(next);
  crypto::OcspBasicResp basic(OCSP_BASICRESP_new());
  if (!basic || !this_update || !next_update) return error_result(ResponseStatus::internal_error);

  std::string serials;
  for (OCSP_CERTID* id : ids) {
    const std::string serial = detail::serial_of(id);
    int status = V_OCSP_CERTSTATUS_UNKNOWN;
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;
    crypto::Asn1Time revoked_at;
    auto rec = m_certificates.get_certificate(serial);
    // Not in the store, or a serial the store cannot even spell (e.g. negative): unknown.
    const bool absent = !rec && (rec.error().code == Errc::not_found || rec.error().code == Errc::invalid_serial);
    if (!rec && !absent) {
      core::log::error("ocsp.store_failed", {{"ca", m_ca}, {"serial", serial}, {"error", rec.error().to_string()}});
      // Unreachable database: the client may retry; anything else is our fault.
      return error_result(rec.error().code == Errc::store_unavailable ? ResponseStatus::try_later
                                                                      : ResponseStatus::internal_error);
    }
    // A serial issued by another CA of the hierarchy is unknown *to this CA*.
    if (rec && rec->issuer == m_ca) {
      if (rec->status == store::CertificateStatus::revoked) {
        status = V_OCSP_CERTSTATUS_REVOKED;
        // CRLReason unspecified (0) is omitted (RFC 5280 5.3.1, as in CRLs).
        if (rec->revocation_reason != 0) reason = rec->revocation_reason;
        revoked_at = detail::to_asn1_time(core::from_unix(rec->revoked_at));
        if (!revoked_at) return error_result(ResponseStatus::internal_error);
      } else {
        status = V_OCSP_CERTSTATUS_GOOD;
      }
    }
    if (!OCSP_basic_add1_status(basic.get(), id, status, reason, revoked_at.get(), this_update.get(),
                                next_update.get()))
      return error_result(ResponseStatus::internal_error);
    if (!serials.empty()) serials += ",";
    serials += serial;
  }
  const int nonce = OCSP_copy_nonce(basic.get(), req.get());
  if (nonce <= 0) return error_result(ResponseStatus::internal_error);

  auto signer = m_keys.signer(m_responder_key, keys::KeyUse{"sign-ocsp", m_options.actor, serials});
  if (!signer) {
    core::log::error("ocsp.signer_failed", {{"ca", m_ca}, {"error", signer.error().to_string()}});
    return error_result(signer.error().code == Errc::key_backend ? ResponseStatus::try_later
                                                                 : ResponseStatus::internal_error);
  }
  auto der = detail::sign_response(basic.get(), m_responder_cert.get(), (*signer)->pkey(), nullptr);
  if (!der) {
    core::log::error("ocsp.sign_failed", {{"ca", m_ca}, {"error", der.error().to_string()}});
    return error_result(ResponseStatus::internal_error);
  }
  OcspResult out;
  out.der = std::move(*der);
  out.status = ResponseStatus::successful;
  out.this_update = now;
  out.next_update = next;
  out.cacheable = nonce == 2;  // 2: the request had no nonce
  return out;
}

}  // namespace cartorio::ocsp
