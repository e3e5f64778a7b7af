#include "signing/detail/revocation_check.h"

#include "crypto/x509.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <optional>
#include <string>

namespace cartorio::signing::detail {

namespace {

struct Answer {
  RevocationStatus status = RevocationStatus::unknown;
  std::string source;
  long long this_update = 0;
  std::optional<long long> next_update;
  std::optional<long long> revocation_time;
  int reason = -1;  // CRLReason, -1 when absent
};

std::optional<long long> time_of(const ASN1_TIME* t) {
  if (!t) return std::nullopt;
  const long long s = crypto::asn1_time_to_unix(t);
  return s == 0 ? std::nullopt : std::optional<long long>(s);
}

std::optional<Answer> from_ocsp(OCSP_RESPONSE* resp, X509* cert, X509* issuer, const CertPool& pool,
                                const std::vector<X509*>& anchors, const char* source) {
  if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) return std::nullopt;
  crypto::OcspBasicResp basic(OCSP_response_get1_basic(resp));
  if (!basic) return std::nullopt;
  // The CertID may use any hash: rebuild ours with the one each single response uses.
  OCSP_SINGLERESP* single = nullptr;
  for (int i = 0; i < OCSP_resp_count(basic.get()) && !single; ++i) {
    OCSP_SINGLERESP* s = OCSP_resp_get0(basic.get(), i);
    const OCSP_CERTID* id = OCSP_SINGLERESP_get0_id(s);
    ASN1_OBJECT* md_obj = nullptr;
    if (!id || OCSP_id_get0_info(nullptr, &md_obj, nullptr, nullptr, const_cast<OCSP_CERTID*>(id)) != 1) continue;
    const EVP_MD* md = md_obj ? EVP_get_digestbyobj(md_obj) : nullptr;
    if (!md) continue;
    crypto::OcspCertId mine(OCSP_cert_to_id(md, cert, issuer));
    if (mine && OCSP_id_cmp(mine.get(), id) == 0) single = s;
  }
  if (!single) return std::nullopt;

  const auto produced = time_of(OCSP_resp_get0_produced_at(basic.get()));
  if (!produced) return std::nullopt;
  // The responder's chain as of producedAt, so an answer kept in the DSS still verifies
  // after the responder's certificate has expired.
  crypto::X509Store store(X509_STORE_new());
  if (!store) return std::nullopt;
  for (X509* a : anchors) X509_STORE_add_cert(store.get(), a);
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(*produced));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  CertPool certs;
  certs.add(issuer);
  certs.add_all(pool);
  auto untrusted = certs.stack();
  const bool verified = untrusted && OCSP_basic_verify(basic.get(), untrusted.get(), store.get(), 0) == 1;
  ERR_clear_error();
  if (!verified) return std::nullopt;

  int reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  const int status = OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
  Answer a;
  a.source = source;
  a.this_update = time_of(this_update).value_or(*produced);
  a.next_update = time_of(next_update);
  if (status == V_OCSP_CERTSTATUS_GOOD) {
    a.status = RevocationStatus::good;
  } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
    a.status = RevocationStatus::revoked;
    a.revocation_time = time_of(revoked_at);
    a.reason = reason;
    if (!a.revocation_time) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return a;
}

std::optional<Answer> from_crl(X509_CRL* crl, X509* cert, X509* issuer, const char* source) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) != 0) return std::nullopt;
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  const bool signed_by_issuer = key && X509_CRL_verify(crl, key) == 1;
  ERR_clear_error();
  if (!signed_by_issuer) return std::nullopt;
  Answer a;
  a.source = source;
  const auto last = time_of(X509_CRL_get0_lastUpdate(crl));
  if (!last) return std::nullopt;
  a.this_update = *last;
  a.next_update = time_of(X509_CRL_get0_nextUpdate(crl));
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_cert(crl, &entry, cert) == 1 && entry) {
    a.status = RevocationStatus::revoked;
    a.revocation_time = time_of(X509_REVOKED_get0_revocationDate(entry));
    if (!a.revocation_time) return std::nullopt;
    int crit = 0;
    if (auto* r = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &crit, nullptr))) {
      a.reason = static_cast<int>(ASN1_ENUMERATED_get(r));
      ASN1_ENUMERATED_free(r);
    }
  } else {
    a.status = RevocationStatus::good;
  }
  ERR_clear_error();
  return a;
}

// Folds answers: a revocation (the earliest) beats any "good"; "good" counts only when it
// speaks for `at`.
class Verdict {
 public:
  explicit Verdict(long long at) : m_at(at) {}
  void add(const std::optional<Answer>& a) {
    if (!a) return;
    if (a->status == RevocationStatus::revoked) {
      if (!m_revoked || *a->revocation_time < *m_revoked->revocation_time) m_revoked = a;
    } else if (a->status == RevocationStatus::good && covers(*a)) {
      if (!m_good || a->this_update > m_good->this_update) m_good = a;
    }
  }
  bool decided() const { return m_revoked || m_good; }
  RevocationCheck result() const {
    RevocationCheck r;
    const Answer* a = m_revoked ? &*m_revoked : m_good ? &*m_good : nullptr;
    if (!a) return r;
    r.status = a->status;
    r.source = a->source;
    r.this_update = a->this_update;
    if (a->status == RevocationStatus::revoked) {
      r.revocation_time = a->revocation_time;
      if (a->reason >= 0) r.revocation_reason = OCSP_crl_reason_str(a->reason);
      r.revoked_before_signing = *a->revocation_time <= m_at;
    }
    return r;
  }

 private:
  bool covers(const Answer& a) const {
    return a.this_update >= m_at || (a.next_update && a.this_update <= m_at && m_at <= *a.next_update);
  }
  long long m_at;
  std::optional<Answer> m_revoked, m_good;
};

}  // namespace

RevocationCheck check_revocation(X509* cert, X509* issuer, long long at, const RevocationEvidence& evidence,
                                 const std::vector<crypto::X509Crl>& cms_crls, const CertPool& pool,
                                 const std::vector<X509*>& anchors) {
  Verdict v(at);
  for (const auto& o : evidence.dss_ocsps) v.add(from_ocsp(o.get(), cert, issuer, pool, anchors, "dss_ocsp"));
  for (const auto& c : evidence.dss_crls) v.add(from_crl(c.get(), cert, issuer, "dss_crl"));
  for (const auto& c : cms_crls) v.add(from_crl(c.get(), cert, issuer, "cms_crl"));
  if (!v.decided() && evidence.live && *evidence.live) {
    if (auto der = (*evidence.live)(cert, issuer)) {
      const unsigned char* p = der->data();
      crypto::OcspResponse resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der->size())));
      if (resp) v.add(from_ocsp(resp.get(), cert, issuer, pool, anchors, "live_ocsp"));
      ERR_clear_error();
    }
  }
  return v.result();
}

}  // namespace cartorio::signing::detail
