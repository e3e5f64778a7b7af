#include "ocsp/detail/ocsp_common.h"

#include "crypto/key_pair.h"
#include "crypto/x509.h"

#include <openssl/evp.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cstddef>

namespace cartorio::ocsp::detail {

using core::Errc;

crypto::Bytes to_der(const OCSP_RESPONSE* response) {
  unsigned char* buf = nullptr;
  const int len = i2d_OCSP_RESPONSE(response, &buf);
  if (len <= 0) return {};
  crypto::Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

OcspResult error_result(ResponseStatus status) {
  OcspResult r;
  r.status = status;
  crypto::OcspResponse resp(OCSP_response_create(static_cast<int>(status), nullptr));
  if (resp) r.der = to_der(resp.get());
  return r;
}

crypto::OcspRequest parse_request(crypto::ByteView der) {
  if (der.empty()) return {};
  const unsigned char* p = der.data();
  crypto::OcspRequest req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  // Trailing garbage after the SEQUENCE is a malformed request too, not something to ignore.
  if (req && p != der.data() + der.size()) req.reset();
  return req;
}

std::vector<OCSP_CERTID*> cert_ids(OCSP_REQUEST* req) {
  std::vector<OCSP_CERTID*> out;
  const int n = OCSP_request_onereq_count(req);
  out.reserve(static_cast<std::size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) out.push_back(OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i)));
  return out;
}

bool issued_by(const OCSP_CERTID* id, const X509* ca) {
  ASN1_OBJECT* md_oid = nullptr;
  if (OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr, const_cast<OCSP_CERTID*>(id)) != 1 || !md_oid)
    return false;
  const EVP_MD* md = EVP_get_digestbyobj(md_oid);
  if (!md) return false;
  // An ASN1_INTEGER is needed to build a CertID; only the issuer part is compared.
  crypto::Asn1Integer zero(ASN1_INTEGER_new());
  if (!zero) return false;
  crypto::OcspCertId ours(OCSP_cert_id_new(md, X509_get_subject_name(ca),
                                           X509_get0_pubkey_bitstr(ca), zero.get()));
  return ours && OCSP_id_issuer_cmp(ours.get(), id) == 0;
}

std::string serial_of(const OCSP_CERTID* id) {
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, const_cast<OCSP_CERTID*>(id)) != 1 || !serial)
    return {};
  return crypto::serial_hex(serial);
}

core::Result<crypto::Bytes> sign_response(OCSP_BASICRESP* basic, X509* signer_cert, EVP_PKEY* key,
                                          STACK_OF(X509)* extra_certs) {
  const EVP_MD* md = crypto::signing_digest_for(key);
  if (OCSP_basic_sign(basic, signer_cert, key, md, extra_certs, OCSP_RESPID_KEY) != 1)
    return {Errc::crypto_error, "signing the OCSP response failed: " + crypto::openssl_errors()};
  crypto::OcspResponse resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic));
  if (!resp) return {Errc::crypto_error, "building the OCSP response failed: " + crypto::openssl_errors()};
  auto der = to_der(resp.get());
  if (der.empty()) return {Errc::crypto_error, "encoding the OCSP response failed: " + crypto::openssl_errors()};
  return der;
}

crypto::Asn1Time to_asn1_time(core::TimePoint t) {
  return crypto::Asn1Time(ASN1_TIME_set(nullptr, static_cast<time_t>(core::to_unix(t))));
}

}  // namespace cartorio::ocsp::detail
