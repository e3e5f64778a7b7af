#include "crypto/ossl.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/param_build.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cartorio::crypto {

void PKeyDeleter::operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
void PKeyCtxDeleter::operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
void MdCtxDeleter::operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
void CipherCtxDeleter::operator()(EVP_CIPHER_CTX* p) const noexcept { EVP_CIPHER_CTX_free(p); }
void BioDeleter::operator()(BIO* p) const noexcept { BIO_free_all(p); }
void X509PtrDeleter::operator()(X509* p) const noexcept { X509_free(p); }
void X509ReqDeleter::operator()(X509_REQ* p) const noexcept { X509_REQ_free(p); }
void X509CrlDeleter::operator()(X509_CRL* p) const noexcept { X509_CRL_free(p); }
void X509RevokedDeleter::operator()(X509_REVOKED* p) const noexcept { X509_REVOKED_free(p); }
void X509NameDeleter::operator()(X509_NAME* p) const noexcept { X509_NAME_free(p); }
void X509ExtDeleter::operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
void X509StoreDeleter::operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
void X509StoreCtxDeleter::operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
void Asn1IntegerDeleter::operator()(ASN1_INTEGER* p) const noexcept { ASN1_INTEGER_free(p); }
void Asn1TimeDeleter::operator()(ASN1_TIME* p) const noexcept { ASN1_TIME_free(p); }
void Asn1ObjectDeleter::operator()(ASN1_OBJECT* p) const noexcept { ASN1_OBJECT_free(p); }
void Asn1OctetStringDeleter::operator()(ASN1_OCTET_STRING* p) const noexcept {
  ASN1_OCTET_STRING_free(p);
}
void BignumDeleter::operator()(BIGNUM* p) const noexcept { BN_free(p); }
void ParamBldDeleter::operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
void ParamsDeleter::operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
void GeneralNamesDeleter::operator()(stack_st_GENERAL_NAME* p) const noexcept { GENERAL_NAMES_free(p); }
void OcspRequestDeleter::operator()(OCSP_REQUEST* p) const noexcept { OCSP_REQUEST_free(p); }
void OcspResponseDeleter::operator()(OCSP_RESPONSE* p) const noexcept { OCSP_RESPONSE_free(p); }
void OcspBasicRespDeleter::operator()(OCSP_BASICRESP* p) const noexcept { OCSP_BASICRESP_free(p); }
void CmsContentInfoDeleter::operator()(CMS_ContentInfo* p) const noexcept { CMS_ContentInfo_free(p); }
void OcspCertIdDeleter::operator()(OCSP_CERTID* p) const noexcept { OCSP_CERTID_free(p); }
void X509CrlStackDeleter::operator()(stack_st_X509_CRL* p) const noexcept {
  sk_X509_CRL_pop_free(p, X509_CRL_free);
}
void Pkcs7Deleter::operator()(PKCS7* p) const noexcept { PKCS7_free(p); }
void TsTstInfoDeleter::operator()(TS_TST_INFO* p) const noexcept { TS_TST_INFO_free(p); }
void TsVerifyCtxDeleter::operator()(TS_VERIFY_CTX* p) const noexcept { TS_VERIFY_CTX_free(p); }
void EssSigningCertDeleter::operator()(ESS_SIGNING_CERT* p) const noexcept { ESS_SIGNING_CERT_free(p); }
void EssSigningCertV2Deleter::operator()(ESS_SIGNING_CERT_V2* p) const noexcept { ESS_SIGNING_CERT_V2_free(p); }
void TsReqDeleter::operator()(TS_REQ* p) const noexcept { TS_REQ_free(p); }
void TsRespDeleter::operator()(TS_RESP* p) const noexcept { TS_RESP_free(p); }
void TsRespCtxDeleter::operator()(TS_RESP_CTX* p) const noexcept { TS_RESP_CTX_free(p); }
void TsMsgImprintDeleter::operator()(TS_MSG_IMPRINT* p) const noexcept { TS_MSG_IMPRINT_free(p); }
void X509AlgorDeleter::operator()(X509_ALGOR* p) const noexcept { X509_ALGOR_free(p); }
void X509StackDeleter::operator()(stack_st_X509* p) const noexcept {
  sk_X509_pop_free(p, X509_free);
}

std::string openssl_errors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace cartorio::crypto
