// Owning handles for OpenSSL objects. Only <openssl/types.h> (typedefs) is included here,
// so widely included headers stay light; the deleters live in ossl.cpp.
// Code acquires straight into these: `crypto::X509Ptr cert(PEM_read_bio_X509(...))`.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>

// Stacks are not in <openssl/types.h>; these are the tags OpenSSL's headers define.
struct stack_st_X509;
struct stack_st_GENERAL_NAME;
struct X509_req_st;
struct X509_extension_st;
struct ocsp_request_st;
struct ocsp_basic_response_st;
struct ocsp_cert_id_st;
struct stack_st_X509_CRL;
struct pkcs7_st;
struct TS_tst_info_st;
struct TS_verify_ctx;
struct ESS_signing_cert;
struct ESS_signing_cert_v2_st;
struct CMS_ContentInfo_st;
typedef struct CMS_ContentInfo_st CMS_ContentInfo;
struct TS_req_st;
struct TS_resp_st;
struct TS_resp_ctx;
struct TS_msg_imprint_st;

namespace cartorio::crypto {

// Alias and Type are names in declarations, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CARTORIO_OSSL_HANDLE(Alias, Type)        \
  struct Alias##Deleter {                        \
    void operator()(Type* p) const noexcept;     \
  };                                             \
  using Alias = std::unique_ptr<Type, Alias##Deleter>
// NOLINTEND(bugprone-macro-parentheses)

CARTORIO_OSSL_HANDLE(PKey, EVP_PKEY);
CARTORIO_OSSL_HANDLE(PKeyCtx, EVP_PKEY_CTX);
CARTORIO_OSSL_HANDLE(MdCtx, EVP_MD_CTX);
CARTORIO_OSSL_HANDLE(CipherCtx, EVP_CIPHER_CTX);
CARTORIO_OSSL_HANDLE(Bio, BIO);
CARTORIO_OSSL_HANDLE(X509Ptr, X509);
CARTORIO_OSSL_HANDLE(X509Req, ::X509_req_st);
CARTORIO_OSSL_HANDLE(X509Crl, X509_CRL);
CARTORIO_OSSL_HANDLE(X509Revoked, X509_REVOKED);
CARTORIO_OSSL_HANDLE(X509Name, X509_NAME);
CARTORIO_OSSL_HANDLE(X509Ext, ::X509_extension_st);
CARTORIO_OSSL_HANDLE(X509Store, X509_STORE);
CARTORIO_OSSL_HANDLE(X509StoreCtx, X509_STORE_CTX);
CARTORIO_OSSL_HANDLE(Asn1Integer, ASN1_INTEGER);
CARTORIO_OSSL_HANDLE(Asn1Time, ASN1_TIME);
CARTORIO_OSSL_HANDLE(Asn1Object, ASN1_OBJECT);
CARTORIO_OSSL_HANDLE(Asn1OctetString, ASN1_OCTET_STRING);
CARTORIO_OSSL_HANDLE(Bignum, BIGNUM);
CARTORIO_OSSL_HANDLE(ParamBld, OSSL_PARAM_BLD);
CARTORIO_OSSL_HANDLE(Params, OSSL_PARAM);
CARTORIO_OSSL_HANDLE(GeneralNames, ::stack_st_GENERAL_NAME);
CARTORIO_OSSL_HANDLE(X509Stack, ::stack_st_X509);
CARTORIO_OSSL_HANDLE(OcspRequest, ::ocsp_request_st);
CARTORIO_OSSL_HANDLE(OcspResponse, OCSP_RESPONSE);
CARTORIO_OSSL_HANDLE(OcspBasicResp, ::ocsp_basic_response_st);
CARTORIO_OSSL_HANDLE(OcspCertId, ::ocsp_cert_id_st);
CARTORIO_OSSL_HANDLE(X509CrlStack, ::stack_st_X509_CRL);
CARTORIO_OSSL_HANDLE(Pkcs7, ::pkcs7_st);
CARTORIO_OSSL_HANDLE(TsTstInfo, ::TS_tst_info_st);
CARTORIO_OSSL_HANDLE(TsVerifyCtx, ::TS_verify_ctx);
CARTORIO_OSSL_HANDLE(EssSigningCert, ::ESS_signing_cert);
CARTORIO_OSSL_HANDLE(EssSigningCertV2, ::ESS_signing_cert_v2_st);
CARTORIO_OSSL_HANDLE(CmsContentInfo, ::CMS_ContentInfo_st);
CARTORIO_OSSL_HANDLE(TsReq, ::TS_req_st);
CARTORIO_OSSL_HANDLE(TsResp, ::TS_resp_st);
CARTORIO_OSSL_HANDLE(TsRespCtx, ::TS_resp_ctx);
CARTORIO_OSSL_HANDLE(TsMsgImprint, ::TS_msg_imprint_st);
CARTORIO_OSSL_HANDLE(X509Algor, X509_ALGOR);

#undef CARTORIO_OSSL_HANDLE

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string openssl_errors();

}  // namespace cartorio::crypto
