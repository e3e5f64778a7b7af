#include "crl/crl_generator.h"

#include "core/files.h"
#include "crypto/key_pair.h"
#include "crypto/x509.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cartorio::crl {

using core::Errc;

core::Result<crypto::X509Crl> build_crl(const X509* ca_cert, EVP_PKEY* ca_key, const CrlContents& c) {
  crypto::X509Crl crl(X509_CRL_new());
  crypto::Asn1Time tu(ASN1_TIME_new()), nu(ASN1_TIME_new());
  if (!crl || !tu || !nu) return {Errc::crypto_error, "out of memory"};
  ASN1_TIME_set(tu.get(), static_cast<time_t>(core::to_unix(c.this_update)));
  ASN1_TIME_set(nu.get(), static_cast<time_t>(core::to_unix(c.next_update)));
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), tu.get()) != 1 || X509_CRL_set1_nextUpdate(crl.get(), nu.get()) != 1)
    return {Errc::crypto_error, "cannot assemble CRL: " + crypto::openssl_errors()};

  for (const auto& e : c.revoked) {
    if (e.reason < 0 || e.reason > 10 || e.reason == 7)
      return {Errc::invalid_reason, "CRL entry " + e.serial + ": reason code " + std::to_string(e.reason) +
                                        " is not an RFC 5280 CRLReason"};
    crypto::X509Revoked entry(X509_REVOKED_new());
    CARTORIO_TRY(auto serial, crypto::serial_from_hex(e.serial));
    crypto::Asn1Time when(ASN1_TIME_new());
    ASN1_TIME_set(when.get(), static_cast<time_t>(e.revoked_at));
    if (X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1)
      return {Errc::crypto_error, "cannot add CRL entry: " + crypto::openssl_errors()};
    // RFC 5280 5.3.1: the reasonCode extension should be absent rather than "unspecified".
    if (e.reason != 0) {
      ASN1_ENUMERATED* code = ASN1_ENUMERATED_new();
      ASN1_ENUMERATED_set(code, e.reason);
      int ok = X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, code, 0, 0);
      ASN1_ENUMERATED_free(code);
      if (ok != 1) return {Errc::crypto_error, "cannot add reason code: " + crypto::openssl_errors()};
    }
    if (X509_CRL_add0_revoked(crl.get(), entry.get()) != 1)
      return {Errc::crypto_error, "cannot add CRL entry: " + crypto::openssl_errors()};
    (void)entry.release();  // owned by the CRL now (add0 takes it only when it succeeds)
  }
  X509_CRL_sort(crl.get());

  crypto::Asn1Integer number(ASN1_INTEGER_new());
  ASN1_INTEGER_set_int64(number.get(), c.number);
  if (X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    return {Errc::crypto_error, "cannot add CRL number: " + crypto::openssl_errors()};
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, const_cast<X509*>(ca_cert), nullptr, nullptr, crl.get(), 0);
  crypto::X509Ext aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1)
    return {Errc::crypto_error, "cannot add authorityKeyIdentifier: " + crypto::openssl_errors()};

  if (X509_CRL_sign(crl.get(), ca_key, crypto::signing_digest_for(ca_key)) <= 0)
    return {Errc::key_backend, "signing the CRL failed: " + crypto::openssl_errors()};
  return crl;
}

core::Result<crypto::X509Crl> CrlGenerator::generate(const std::string& ca_name, const X509* ca_cert,
                                                     EVP_PKEY* ca_key) {
  const auto now = m_clock.now();
  CrlContents c;
  c.this_update = now;
  c.next_update = now + m_validity;
  CARTORIO_TRY(c.revoked, m_revocations.list_revoked(ca_name, core::to_unix(now)));
  CARTORIO_TRY(c.number, m_revocations.next_crl_number(ca_name));
  return build_crl(ca_cert, ca_key, c);
}

std::string crl_key(const std::string& ca_name) { return "crl/" + ca_name + ".crl"; }

core::Result<void> publish_crl(objectstore::ObjectStore& objects, const std::string& ca_name, const X509_CRL* crl) {
  const auto der = crypto::crl_to_der(crl);
  if (der.empty()) return {Errc::crypto_error, "cannot encode CRL"};
  objectstore::PutOptions o;
  o.content_type = "application/pkix-crl";
  CARTORIO_TRY(auto info, objects.put(crl_key(ca_name), crypto::to_string(der), o));
  (void)info;
  return core::ok();
}

}  // namespace cartorio::crl
