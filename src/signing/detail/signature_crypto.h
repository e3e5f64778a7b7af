// The cryptographic side of signature validation, on OpenSSL: the CMS signature of a PDF
// signature, RFC 3161 time-stamp tokens, certificate chains at a given time.
//
// Internal to cartorio_pdf_verify. Nothing here throws; problems become findings.
#pragma once

#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "signing/verification_report.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cartorio::signing::detail {

// Untrusted certificates that may complete chains, deduplicated.
class CertPool {
 public:
  void add(X509* cert);  // takes a reference of its own
  void add_all(const CertPool& other);
  const std::vector<crypto::X509Ptr>& certs() const { return m_certs; }
  crypto::X509Stack stack() const;  // a new stack holding references
  // A certificate of the pool or of `anchors` that issued `cert` (name and signature).
  X509* find_issuer(X509* cert, const std::vector<X509*>& anchors) const;

 private:
  std::vector<crypto::X509Ptr> m_certs;
};

CertificateInfo certificate_info(const X509* cert);

// Lowercase short name of a digest ("sha256").
std::string digest_name(const EVP_MD* md);
// Digest of the concatenation of `parts`; nullopt when OpenSSL fails.
std::optional<crypto::Bytes> digest_of(const EVP_MD* md, std::span<const crypto::ByteView> parts);

struct ChainResult {
  bool trusted = false;
  std::string error;    // X509_verify_cert_error_string when not trusted
  int error_code = 0;   // X509_V_ERR_*
  std::vector<crypto::X509Ptr> chain;  // leaf first; what was built, even when not trusted
};
// X509_verify_cert from `leaf` to one of `anchors` (partial chains allowed: any anchor
// ends a chain), as of `at` (Unix seconds), with `purpose` (X509_PURPOSE_*) unless 0.
ChainResult verify_chain(X509* leaf, const CertPool& pool, const std::vector<X509*>& anchors, long long at,
                         int purpose);

struct CmsSignatureCheck {
  bool parsed = false;
  crypto::X509Ptr signer;
  std::string digest_algorithm;
  bool digest_ok = false;
  bool signature_ok = false;
  std::optional<long long> signing_time;  // the signingTime signed attribute
  crypto::Bytes signature_value;          // what a signature-time-stamp stamps
  std::optional<crypto::Bytes> timestamp_token;  // signatureTimeStampToken (DER ContentInfo)
  CertPool certs;                         // the CMS certificates
  std::vector<crypto::X509Crl> crls;      // the CMS CRLs
  std::vector<Finding> findings;
};
// The CMS SignedData of a PDF signature's /Contents, detached over `covered` (empty when
// the ByteRange is unusable: then no digest is checked). `cades`: ETSI.CAdES.detached, where
// the signing-certificate attribute is required.
CmsSignatureCheck check_cms_signature(crypto::ByteView contents, std::span<const crypto::ByteView> covered,
                                      const CertPool& pool, bool cades);

struct TokenCheck {
  std::string parse_error;  // non-empty: not a usable TimeStampToken
  TimestampCheck info;      // gen_time, imprint_ok, signature_ok, chain_trusted, valid, tsa
  crypto::X509Ptr tsa_cert;
  ChainResult chain;
  std::string verify_error;  // OpenSSL's TS_RESP_verify_token error when it disagrees
  CertPool certs;            // the token's certificates
};
// An RFC 3161 TimeStampToken whose messageImprint must be the digest of `stamped`. The
// TSA's chain is checked at genTime (purpose timestamp signing); then OpenSSL's
// TS_RESP_verify_token (signature, ESS signing certificate, chain) must agree for `valid`.
// The caller turns the result into findings: a failed signature timestamp only loses its
// time, a failed document timestamp is the signature's own failure.
TokenCheck check_timestamp_token(crypto::ByteView token, std::span<const crypto::ByteView> stamped,
                                 const CertPool& pool, const std::vector<X509*>& anchors);

}  // namespace cartorio::signing::detail
