#include "signing/pades_cms.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>

namespace cartorio::signing {
namespace {

using core::Errc;

core::Error cms_error(const std::string& what) {
  return {Errc::crypto_error, what + ": " + crypto::openssl_errors()};
}

CMS_SignerInfo* only_signer(CMS_ContentInfo* cms) {
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
  return infos && sk_CMS_SignerInfo_num(infos) == 1 ? sk_CMS_SignerInfo_value(infos, 0) : nullptr;
}

// DER of the signed attributes as signed: an explicit SET OF whose elements are sorted
// by their encodings (X.690 11.6), exactly how OpenSSL writes them into the SignerInfo.
core::Result<std::string> signed_attributes_der(CMS_SignerInfo* si) {
  std::vector<std::string> encoded;
  const int n = CMS_signed_get_attr_count(si);
  for (int i = 0; i < n; ++i) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &der);
    if (len <= 0) return cms_error("cannot encode a signed attribute");
    encoded.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  std::sort(encoded.begin(), encoded.end());
  std::string content;
  for (const auto& e : encoded) content += e;
  std::string out(1, '\x31');
  const std::size_t len = content.size();
  if (len < 0x80) {
    out += static_cast<char>(len);
  } else {
    std::string bytes;
    for (std::size_t v = len; v; v >>= 8) bytes.insert(bytes.begin(), static_cast<char>(v & 0xFF));
    out += static_cast<char>(0x80 | bytes.size());
    out += bytes;
  }
  return out + content;
}

}  // namespace

core::Result<crypto::CmsContentInfo> build_pades_cms(const CmsSigner& signer, crypto::ByteView sha256_digest) {
  if (!signer.key || !signer.certificate || sha256_digest.size() != 32)
    return core::Error{Errc::invalid_argument, "a PAdES signature needs a key, a certificate and a SHA-256 digest"};
  constexpr unsigned kFlags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP | CMS_CADES;
  crypto::CmsContentInfo cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags));
  if (!cms) return cms_error("cannot create the CMS");
  // CMS_PARTIAL: nothing is signed here; CMS_CADES adds signing-certificate-v2 (SHA-256).
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.certificate, signer.key, EVP_sha256(), kFlags);
  if (!si) return cms_error("cannot add the signer");
  for (X509* c : signer.chain)
    if (CMS_add1_cert(cms.get(), c) != 1) return cms_error("cannot add a chain certificate");
  if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, sha256_digest.data(),
                                  static_cast<int>(sha256_digest.size())) != 1)
    return cms_error("cannot add the signed attributes");
  // Signed by hand: CMS_SignerInfo_sign would add a signing-time attribute, which PAdES
  // baseline signatures must not carry.
  CARTORIO_TRY(const std::string tbs, signed_attributes_der(si));
  crypto::MdCtx md(EVP_MD_CTX_new());
  std::size_t sig_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, signer.key) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1)
    return cms_error("cannot sign");
  crypto::Bytes sig(sig_len);
  if (EVP_DigestSign(md.get(), sig.data(), &sig_len, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1)
    return cms_error("cannot sign");
  sig.resize(sig_len);
  if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig.data(), static_cast<int>(sig.size())) != 1)
    return cms_error("cannot store the signature");
  return cms;
}

core::Result<crypto::Bytes> signature_value(CMS_ContentInfo* cms) {
  CMS_SignerInfo* si = only_signer(cms);
  if (!si) return core::Error{Errc::invalid_argument, "the CMS has no single signer"};
  const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  return crypto::Bytes(ASN1_STRING_get0_data(sig), ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig));
}

core::Result<void> add_signature_timestamp(CMS_ContentInfo* cms, crypto::ByteView token_der) {
  CMS_SignerInfo* si = only_signer(cms);
  if (!si) return core::Error{Errc::invalid_argument, "the CMS has no single signer"};
  // V_ASN1_SEQUENCE: the attribute value is the token's complete DER (a ContentInfo).
  if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token_der.data(),
                                    static_cast<int>(token_der.size())) != 1)
    return cms_error("cannot add the signature time-stamp");
  return core::ok();
}

core::Result<crypto::Bytes> cms_to_der(CMS_ContentInfo* cms) {
  unsigned char* der = nullptr;
  const int len = i2d_CMS_ContentInfo(cms, &der);
  if (len <= 0) return cms_error("cannot encode the CMS");
  crypto::Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

core::Result<std::vector<crypto::X509Ptr>> cms_certificates(crypto::ByteView cms_der) {
  const unsigned char* p = cms_der.data();
  crypto::CmsContentInfo cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())));
  if (!cms) return core::Error{Errc::malformed_input, "not a CMS structure: " + crypto::openssl_errors()};
  crypto::X509Stack certs(CMS_get1_certs(cms.get()));
  std::vector<crypto::X509Ptr> out;
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    X509* c = sk_X509_value(certs.get(), i);
    X509_up_ref(c);
    out.emplace_back(c);
  }
  return out;
}

}  // namespace cartorio::signing
