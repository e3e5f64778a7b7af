#include "signing/detail/signature_crypto.h"

#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace cartorio::signing::detail {

namespace {

crypto::X509Ptr up_ref(X509* c) {
  X509_up_ref(c);
  return crypto::X509Ptr(c);
}

crypto::X509Store make_store(const std::vector<X509*>& anchors, long long at) {
  crypto::X509Store store(X509_STORE_new());
  if (!store) return store;
  for (X509* a : anchors) X509_STORE_add_cert(store.get(), a);
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  // Any anchor ends a chain: `--trust` may name an intermediate.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  return store;
}

// A signed attribute's single value when it is a SEQUENCE (its whole DER encoding).
const ASN1_STRING* signed_sequence(CMS_SignerInfo* si, int nid) {
  const int idx = CMS_signed_get_attr_by_NID(si, nid, -1);
  if (idx < 0) return nullptr;
  const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0);
  return t && t->type == V_ASN1_SEQUENCE ? t->value.sequence : nullptr;
}

const EVP_MD* digest_for(const X509_ALGOR* alg) {
  if (!alg) return nullptr;
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  return obj ? EVP_get_digestbyobj(obj) : nullptr;
}

bool weak_digest(const EVP_MD* md) {
  const int nid = EVP_MD_get_type(md);
  return nid == NID_md5 || nid == NID_sha1 || nid == NID_md4 || nid == NID_md2;
}

X509* find_signer(CMS_SignerInfo* si, const CertPool& a, const CertPool& b) {
  for (const CertPool* pool : {&a, &b})
    for (const auto& c : pool->certs())
      if (CMS_SignerInfo_cert_cmp(si, c.get()) == 0) return c.get();
  return nullptr;
}

std::string openssl_reason() {
  std::string e = crypto::openssl_errors();
  return e.empty() ? "no detail from OpenSSL" : e;
}

// The ESS signing-certificate(-v2) attribute names the signer's certificate by hash, so a
// signature cannot be passed off as made with another certificate of the same key.
void check_signing_certificate_attribute(CMS_SignerInfo* si, X509* signer, const CertPool& more, bool cades,
                                         std::vector<Finding>& findings) {
  crypto::EssSigningCert v1;
  crypto::EssSigningCertV2 v2;
  if (const ASN1_STRING* s = signed_sequence(si, NID_id_smime_aa_signingCertificate)) {
    const unsigned char* p = s->data;
    v1.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, s->length));
  }
  if (const ASN1_STRING* s = signed_sequence(si, NID_id_smime_aa_signingCertificateV2)) {
    const unsigned char* p = s->data;
    v2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, s->length));
  }
  if (!v1 && !v2) {
    if (cades)
      findings.push_back({Severity::warning, "signing_certificate_attribute_missing",
                          "the signature does not name its certificate (ESS signing-certificate attribute), "
                          "as PAdES requires"});
    return;
  }
  // Signer first, as OSSL_ESS_check_signing_certs expects; then whatever else the
  // attribute may name.
  crypto::X509Stack chain(sk_X509_new_null());
  if (!chain) return;
  sk_X509_push(chain.get(), up_ref(signer).release());
  for (const auto& c : more.certs())
    if (X509_cmp(c.get(), signer) != 0) sk_X509_push(chain.get(), up_ref(c.get()).release());
  if (OSSL_ESS_check_signing_certs(v1.get(), v2.get(), chain.get(), 1) != 1)
    findings.push_back({Severity::error, "signing_certificate_mismatch",
                        "the certificate the signature names (ESS signing-certificate) is not the one it was made "
                        "with: " + openssl_reason()});
  ERR_clear_error();
}

}  // namespace

void CertPool::add(X509* cert) {
  if (!cert) return;
  for (const auto& c : m_certs)
    if (X509_cmp(c.get(), cert) == 0) return;
  m_certs.push_back(up_ref(cert));
}

void CertPool::add_all(const CertPool& other) {
  for (const auto& c : other.m_certs) add(c.get());
}

crypto::X509Stack CertPool::stack() const {
  crypto::X509Stack s(sk_X509_new_null());
  if (!s) return s;
  for (const auto& c : m_certs) sk_X509_push(s.get(), up_ref(c.get()).release());
  return s;
}

X509* CertPool::find_issuer(X509* cert, const std::vector<X509*>& anchors) const {
  auto issued = [&](X509* candidate) {
    return X509_check_issued(candidate, cert) == X509_V_OK && X509_verify(cert, X509_get0_pubkey(candidate)) == 1;
  };
  for (X509* a : anchors)
    if (issued(a)) return a;
  for (const auto& c : m_certs)
    if (issued(c.get())) return c.get();
  ERR_clear_error();
  return nullptr;
}

CertificateInfo certificate_info(const X509* cert) {
  CertificateInfo i;
  i.subject = crypto::name_to_string(X509_get_subject_name(cert));
  i.issuer = crypto::name_to_string(X509_get_issuer_name(cert));
  i.serial = crypto::serial_hex(cert);
  i.not_before = crypto::asn1_time_to_unix(X509_get0_notBefore(cert));
  i.not_after = crypto::asn1_time_to_unix(X509_get0_notAfter(cert));
  return i;
}

std::string digest_name(const EVP_MD* md) {
  if (!md) return "";
  const char* sn = OBJ_nid2sn(EVP_MD_get_type(md));
  std::string out = sn ? sn : "";
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<crypto::Bytes> digest_of(const EVP_MD* md, std::span<const crypto::ByteView> parts) {
  crypto::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || !md || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return std::nullopt;
  for (const auto& p : parts)
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return std::nullopt;
  crypto::Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) return std::nullopt;
  out.resize(len);
  return out;
}

ChainResult verify_chain(X509* leaf, const CertPool& pool, const std::vector<X509*>& anchors, long long at,
                         int purpose) {
  ChainResult r;
  auto store = make_store(anchors, at);
  crypto::X509StoreCtx ctx(X509_STORE_CTX_new());
  auto untrusted = pool.stack();
  if (!store || !ctx || !untrusted || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    r.error = "cannot set up chain verification: " + openssl_reason();
    return r;
  }
  if (purpose != 0) X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  r.trusted = X509_verify_cert(ctx.get()) == 1;
  if (!r.trusted) {
    r.error_code = X509_STORE_CTX_get_error(ctx.get());
    r.error = X509_verify_cert_error_string(r.error_code);
  }
  if (STACK_OF(X509)* chain = X509_STORE_CTX_get1_chain(ctx.get())) {
    crypto::X509Stack owned(chain);
    for (int i = 0; i < sk_X509_num(chain); ++i) r.chain.push_back(up_ref(sk_X509_value(chain, i)));
  }
  if (r.chain.empty()) r.chain.push_back(up_ref(leaf));
  ERR_clear_error();
  return r;
}

CmsSignatureCheck check_cms_signature(crypto::ByteView contents, std::span<const crypto::ByteView> covered,
                                      const CertPool& pool, bool cades) {
  CmsSignatureCheck r;
  auto fail = [&](Severity sev, const char* code, std::string message) {
    r.findings.push_back({sev, code, std::move(message)});
    ERR_clear_error();
    return std::move(r);
  };
  const unsigned char* p = contents.data();
  crypto::CmsContentInfo cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(contents.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    return fail(Severity::error, "cms_malformed", "the signature value (/Contents) is not a CMS SignedData");
  // /Contents is reserved larger than the CMS and padded with zeros; anything else after it
  // is not part of the signature.
  const auto used = static_cast<std::size_t>(p - contents.data());
  if (std::any_of(contents.begin() + static_cast<std::ptrdiff_t>(used), contents.end(), [](std::uint8_t b) { return b != 0; }))
    r.findings.push_back({Severity::warning, "contents_trailing_data", "/Contents has data after the CMS signature"});
  r.parsed = true;
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_pkcs7_data || CMS_is_detached(cms.get()) != 1)
    return fail(Severity::indeterminate, "unsupported_cms",
                "the CMS signature is not a detached signature of data, as PDF signatures are");

  if (crypto::X509Stack certs(CMS_get1_certs(cms.get())); certs)
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) r.certs.add(sk_X509_value(certs.get(), i));
  if (crypto::X509CrlStack crls(CMS_get1_crls(cms.get())); crls)
    for (int i = 0; i < sk_X509_CRL_num(crls.get()); ++i) {
      X509_CRL* c = sk_X509_CRL_value(crls.get(), i);
      X509_CRL_up_ref(c);
      r.crls.emplace_back(c);
    }

  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  const int n = infos ? sk_CMS_SignerInfo_num(infos) : 0;
  if (n == 0) return fail(Severity::error, "no_signer", "the CMS signature has no signer");
  if (n > 1)
    r.findings.push_back({Severity::indeterminate, "multiple_signers",
                          "the CMS signature has " + std::to_string(n) + " signers; a PDF signature has one (only the first is checked)"});
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);

  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
  const EVP_MD* md = digest_for(digest_alg);
  if (!md) return fail(Severity::indeterminate, "unsupported_digest", "the signature's digest algorithm is not supported");
  r.digest_algorithm = digest_name(md);
  if (weak_digest(md))
    r.findings.push_back({Severity::indeterminate, "weak_digest",
                          "the signature uses " + r.digest_algorithm + ", which no longer protects against forgery"});

  if (const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si))
    r.signature_value.assign(sig->data, sig->data + sig->length);
  const int ts_idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (ts_idx >= 0) {
    const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, ts_idx), 0);
    if (t && t->type == V_ASN1_SEQUENCE)
      r.timestamp_token = crypto::Bytes(t->value.sequence->data, t->value.sequence->data + t->value.sequence->length);
  }
  const int time_idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (time_idx >= 0) {
    const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, time_idx), 0);
    if (t && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME))
      if (const long long s = crypto::asn1_time_to_unix(t->value.asn1_string); s != 0) r.signing_time = s;
  }

  X509* signer = find_signer(si, r.certs, pool);
  if (signer) r.signer = up_ref(signer);

  const bool signed_attrs = CMS_signed_get_attr_count(si) > 0;
  if (signed_attrs) {
    const auto* message_digest = static_cast<const ASN1_OCTET_STRING*>(
        CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
    if (!message_digest) return fail(Severity::error, "cms_malformed", "the CMS signature has no messageDigest attribute");
    if (!covered.empty()) {
      auto digest = digest_of(md, covered);
      r.digest_ok = digest && static_cast<int>(digest->size()) == message_digest->length &&
                    std::memcmp(digest->data(), message_digest->data, digest->size()) == 0;
      if (!r.digest_ok)
        r.findings.push_back({Severity::error, "digest_mismatch", "the signed bytes were changed after signing"});
    }
    if (!signer)
      return fail(Severity::indeterminate, "signer_certificate_missing",
                  "the signer's certificate is neither in the signature nor in the document");
    CMS_SignerInfo_set1_signer_cert(si, signer);
    r.signature_ok = CMS_SignerInfo_verify(si) == 1;
    if (!r.signature_ok)
      r.findings.push_back({Severity::error, "signature_invalid",
                            "the signature value does not match the signer's key: " + openssl_reason()});
  } else {
    // Without signed attributes the signature is over the content digest itself: only
    // CMS_verify can tell, and it cannot tell which of the two failed.
    if (!signer)
      return fail(Severity::indeterminate, "signer_certificate_missing",
                  "the signer's certificate is neither in the signature nor in the document");
    if (!covered.empty()) {
      crypto::Bytes data;
      for (const auto& part : covered) data.insert(data.end(), part.begin(), part.end());
      crypto::Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
      auto certs = pool.stack();
      for (const auto& c : r.certs.certs()) sk_X509_push(certs.get(), up_ref(c.get()).release());
      const bool ok = bio && CMS_verify(cms.get(), certs.get(), nullptr, bio.get(), nullptr,
                                        CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
      r.digest_ok = r.signature_ok = ok;
      if (!ok)
        r.findings.push_back({Severity::error, "signature_invalid",
                              "the signature does not match the signed bytes: they were changed after signing, or "
                              "the signature is wrong"});
    }
  }
  if (signer) check_signing_certificate_attribute(si, signer, r.certs, cades, r.findings);
  ERR_clear_error();
  return r;
}

TokenCheck check_timestamp_token(crypto::ByteView token, std::span<const crypto::ByteView> stamped,
                                 const CertPool& pool, const std::vector<X509*>& anchors) {
  TokenCheck r;
  r.info.present = true;
  const unsigned char* p = token.data();
  crypto::CmsContentInfo cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed ||
      OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_id_smime_ct_TSTInfo) {
    r.parse_error = "not an RFC 3161 time-stamp token";
    ERR_clear_error();
    return r;
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  crypto::TsTstInfo tst;
  if (content && *content) {
    const unsigned char* q = (*content)->data;
    tst.reset(d2i_TS_TST_INFO(nullptr, &q, (*content)->length));
  }
  if (!tst) {
    r.parse_error = "the time-stamp token's TSTInfo cannot be read";
    ERR_clear_error();
    return r;
  }
  if (const long long t = crypto::asn1_time_to_unix(TS_TST_INFO_get_time(tst.get())); t != 0) r.info.gen_time = t;
  if (!r.info.gen_time) {
    r.parse_error = "the time-stamp token has no readable genTime";
    return r;
  }

  // messageImprint: the digest of what the token stamps.
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
  const EVP_MD* md = imprint ? digest_for(TS_MSG_IMPRINT_get_algo(imprint)) : nullptr;
  std::optional<crypto::Bytes> digest = md ? digest_of(md, stamped) : std::nullopt;
  if (digest) {
    const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
    r.info.imprint_ok = msg && static_cast<int>(digest->size()) == msg->length &&
                        std::memcmp(digest->data(), msg->data, digest->size()) == 0;
  }

  if (crypto::X509Stack certs(CMS_get1_certs(cms.get())); certs)
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) r.certs.add(sk_X509_value(certs.get(), i));
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (infos && sk_CMS_SignerInfo_num(infos) == 1)
    if (X509* signer = find_signer(sk_CMS_SignerInfo_value(infos, 0), r.certs, pool)) r.tsa_cert = up_ref(signer);

  if (GENERAL_NAME* tsa = TS_TST_INFO_get_tsa(tst.get()); tsa && tsa->type == GEN_DIRNAME)
    r.info.tsa = crypto::name_to_string(tsa->d.directoryName);
  if (r.tsa_cert) {
    r.info.tsa_certificate = certificate_info(r.tsa_cert.get());
    if (r.info.tsa.empty()) r.info.tsa = r.info.tsa_certificate->subject;
  }
  if (!r.tsa_cert) {
    ERR_clear_error();
    return r;  // neither signature nor chain can be checked
  }

  CertPool all;
  all.add_all(r.certs);
  all.add_all(pool);
  {
    auto untrusted = all.stack();
    r.info.signature_ok = untrusted && CMS_verify(cms.get(), untrusted.get(), nullptr, nullptr, nullptr,
                                                  CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
    ERR_clear_error();
  }
  r.chain = verify_chain(r.tsa_cert.get(), all, anchors, *r.info.gen_time, X509_PURPOSE_TIMESTAMP_SIGN);
  r.info.chain_trusted = r.chain.trusted;

  // OpenSSL's own verification as the last word (it also checks the ESS signing
  // certificate and the TSA's extended key usage).
  if (r.info.imprint_ok && r.info.signature_ok && r.info.chain_trusted) {
    const unsigned char* q = token.data();
    crypto::Pkcs7 p7(d2i_PKCS7(nullptr, &q, static_cast<long>(token.size())));
    crypto::TsVerifyCtx ctx(TS_VERIFY_CTX_new());
    auto store = make_store(anchors, *r.info.gen_time);
    auto untrusted = all.stack();
    auto* imprint_copy = static_cast<unsigned char*>(OPENSSL_memdup(digest->data(), digest->size()));
    bool ok = p7 && ctx && store && untrusted && imprint_copy;
    if (ok) {
      TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
      // The context owns what it is given (OpenSSL 3.0-3.3; set0_* from 3.4 on).
      TS_VERIFY_CTX_set_imprint(ctx.get(), imprint_copy, static_cast<long>(digest->size()));
      imprint_copy = nullptr;
#if OPENSSL_VERSION_NUMBER >= 0x30400000L
      TS_VERIFY_CTX_set0_store(ctx.get(), store.release());
      TS_VERIFY_CTX_set0_certs(ctx.get(), untrusted.release());
#else
      TS_VERIFY_CTX_set_store(ctx.get(), store.release());
      TS_VERIFY_CTX_set_certs(ctx.get(), untrusted.release());
#endif
      ok = TS_RESP_verify_token(ctx.get(), p7.get()) == 1;
      if (!ok) r.verify_error = openssl_reason();
    }
    OPENSSL_free(imprint_copy);
    r.info.valid = ok;
  }
  ERR_clear_error();
  return r;
}

}  // namespace cartorio::signing::detail
