// OpenSSL operations the key stores' signers must support, each checked against the public key
// alone (the way a relying party checks a CA's output).
#pragma once

#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <optional>
#include <string>

namespace cartorio::keys::testing {

enum class RsaPadding { pkcs1, pss };

// EVP_DigestSign with `key` (SHA-256) over `data`; nullopt (and `why`) on failure.
std::optional<crypto::Bytes> digest_sign(EVP_PKEY* key, crypto::ByteView data, RsaPadding padding, std::string& why);
bool digest_verify(EVP_PKEY* pub, crypto::ByteView data, crypto::ByteView sig, RsaPadding padding);

// A self-signed certificate for `pub`, signed with X509_sign(cert, signer, EVP_sha256()).
crypto::X509Ptr self_signed_certificate(EVP_PKEY* pub, EVP_PKEY* signer, std::string& why);
// A CRL with one revoked serial, signed with X509_CRL_sign(crl, signer, EVP_sha256()).
crypto::X509Crl signed_crl(X509* issuer, EVP_PKEY* signer, std::string& why);
// CMS_sign (detached, binary) over `data`, then CMS_verify trusting `cert`; "" when it verifies.
std::string cms_sign_and_verify(X509* cert, EVP_PKEY* signer, crypto::ByteView data);
// An OCSP basic response signed with OCSP_basic_sign, then OCSP_basic_verify trusting `cert`.
std::string ocsp_sign_and_verify(X509* cert, EVP_PKEY* signer);

std::string public_der_hex(const EVP_PKEY* key);

}  // namespace cartorio::keys::testing
