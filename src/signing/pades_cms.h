// The CMS SignedData of a PAdES signature (ETSI EN 319 142-1 6.3, CAdES detached):
// signed attributes content-type, message-digest and signing-certificate-v2 only — no
// signing-time, the claimed time is the signature dictionary's /M — and, for B-T and up,
// a signature-time-stamp token over the signature value as an unsigned attribute.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <vector>

namespace cartorio::signing {

struct CmsSigner {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  std::vector<X509*> chain;  // issuers, included in the SignedData certificates
};

// A signed CMS over `sha256_digest` (the PDF's covered bytes), not yet time-stamped.
core::Result<crypto::CmsContentInfo> build_pades_cms(const CmsSigner& signer, crypto::ByteView sha256_digest);
// The SignerInfo's signature value: what the signature time-stamp covers (RFC 3161 annex A).
core::Result<crypto::Bytes> signature_value(CMS_ContentInfo* cms);
// Adds id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14) with `token_der`.
core::Result<void> add_signature_timestamp(CMS_ContentInfo* cms, crypto::ByteView token_der);
core::Result<crypto::Bytes> cms_to_der(CMS_ContentInfo* cms);

// The certificates inside a CMS SignedData (e.g. a time-stamp token's TSA chain).
core::Result<std::vector<crypto::X509Ptr>> cms_certificates(crypto::ByteView cms_der);

}  // namespace cartorio::signing
