#include "signing_checks.h"

#include "crypto/key_pair.h"

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cartorio::keys::testing {

namespace {

struct CmsDeleter {
  void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
struct OcspBasicDeleter {
  void operator()(OCSP_BASICRESP* b) const { OCSP_BASICRESP_free(b); }
};
struct OcspCertIdDeleter {
  void operator()(OCSP_CERTID* c) const { OCSP_CERTID_free(c); }
};

int set_padding(EVP_PKEY_CTX* pctx, EVP_PKEY* key, RsaPadding padding) {
  if (padding == RsaPadding::pss && EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1) return 0;
    if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) return 0;
  }
  return 1;
}

}  // namespace

std::optional<crypto::Bytes> digest_sign(EVP_PKEY* key, crypto::ByteView data, RsaPadding padding, std::string& why) {
  crypto::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      set_padding(pctx, key, padding) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
    why = "init: " + crypto::openssl_errors();
    return std::nullopt;
  }
  crypto::Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) {
    why = "sign: " + crypto::openssl_errors();
    return std::nullopt;
  }
  sig.resize(len);
  return sig;
}

bool digest_verify(EVP_PKEY* pub, crypto::ByteView data, crypto::ByteView sig, RsaPadding padding) {
  crypto::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, pub) == 1 &&
            set_padding(pctx, pub, padding) == 1 &&
            EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
  crypto::openssl_errors();
  return ok;
}

crypto::X509Ptr self_signed_certificate(EVP_PKEY* pub, EVP_PKEY* signer, std::string& why) {
  crypto::X509Ptr cert(X509_new());
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = cert && X509_set_version(cert.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("Cartorio Test CA"), -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24) && X509_set_pubkey(cert.get(), pub) == 1;
  if (ok) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
    crypto::X509Ext bc(X509V3_EXT_conf_nid(nullptr, &v3, NID_basic_constraints, "critical,CA:TRUE"));
    crypto::X509Ext ku(X509V3_EXT_conf_nid(nullptr, &v3, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"));
    ok = bc && ku && X509_add_ext(cert.get(), bc.get(), -1) == 1 && X509_add_ext(cert.get(), ku.get(), -1) == 1;
  }
  if (!ok) {
    why = "build: " + crypto::openssl_errors();
    return nullptr;
  }
  if (X509_sign(cert.get(), signer, EVP_sha256()) <= 0) {
    why = "X509_sign: " + crypto::openssl_errors();
    return nullptr;
  }
  return cert;
}

crypto::X509Crl signed_crl(X509* issuer, EVP_PKEY* signer, std::string& why) {
  crypto::X509Crl crl(X509_CRL_new());
  crypto::Asn1Time now(ASN1_TIME_new());
  crypto::Asn1Time next(ASN1_TIME_new());
  crypto::X509Revoked rev(X509_REVOKED_new());
  crypto::Asn1Integer serial(ASN1_INTEGER_new());
  bool ok = crl && now && next && rev && serial && X509_CRL_set_version(crl.get(), 1) == 1 &&
            X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) == 1 &&
            X509_gmtime_adj(now.get(), 0) && X509_gmtime_adj(next.get(), 3600L * 24) &&
            X509_CRL_set1_lastUpdate(crl.get(), now.get()) == 1 && X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1 &&
            ASN1_INTEGER_set(serial.get(), 77) == 1 && X509_REVOKED_set_serialNumber(rev.get(), serial.get()) == 1 &&
            X509_REVOKED_set_revocationDate(rev.get(), now.get()) == 1 && X509_CRL_add0_revoked(crl.get(), rev.get()) == 1;
  if (!ok) {
    why = "build: " + crypto::openssl_errors();
    return nullptr;
  }
  rev.release();  // owned by the CRL
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), signer, EVP_sha256()) <= 0) {
    why = "X509_CRL_sign: " + crypto::openssl_errors();
    return nullptr;
  }
  return crl;
}

std::string cms_sign_and_verify(X509* cert, EVP_PKEY* signer, crypto::ByteView data) {
  crypto::Bio in(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  std::unique_ptr<CMS_ContentInfo, CmsDeleter> cms(
      CMS_sign(cert, signer, nullptr, in.get(), CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP));
  if (!cms) return "CMS_sign: " + crypto::openssl_errors();
  crypto::X509Store store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), cert);
  crypto::Bio content(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (CMS_verify(cms.get(), nullptr, store.get(), content.get(), nullptr, CMS_BINARY) != 1)
    return "CMS_verify: " + crypto::openssl_errors();
  return "";
}

std::string ocsp_sign_and_verify(X509* cert, EVP_PKEY* signer) {
  std::unique_ptr<OCSP_BASICRESP, OcspBasicDeleter> basic(OCSP_BASICRESP_new());
  std::unique_ptr<OCSP_CERTID, OcspCertIdDeleter> id(OCSP_cert_to_id(EVP_sha1(), cert, cert));
  crypto::Asn1Time now(ASN1_TIME_new());
  X509_gmtime_adj(now.get(), 0);
  if (!basic || !id ||
      !OCSP_basic_add1_status(basic.get(), id.get(), V_OCSP_CERTSTATUS_GOOD, 0, nullptr, now.get(), nullptr))
    return "build: " + crypto::openssl_errors();
  if (OCSP_basic_sign(basic.get(), cert, signer, EVP_sha256(), nullptr, 0) != 1)
    return "OCSP_basic_sign: " + crypto::openssl_errors();
  crypto::X509Store store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), cert);
  if (OCSP_basic_verify(basic.get(), nullptr, store.get(), 0) != 1) return "OCSP_basic_verify: " + crypto::openssl_errors();
  return "";
}

std::string public_der_hex(const EVP_PKEY* key) {
  auto der = crypto::public_key_to_der(key);
  return der ? crypto::to_hex(*der) : std::string("<error: ") + der.error().message + ">";
}

}  // namespace cartorio::keys::testing
