// X.509 encode/decode helpers shared by pki/, ocsp/, signing/.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartorio::crypto {

// True when the input holds a PEM block ("-----BEGIN"): the parsers below take it as PEM.
bool looks_like_pem(ByteView b);

// Accepts PEM or DER. Errc::malformed_input naming what could not be read.
core::Result<X509Ptr> parse_certificate(ByteView pem_or_der);
core::Result<std::vector<X509Ptr>> parse_certificate_chain(std::string_view pem);

// A PKCS#10 request as read (crypto/csr.cpp). `public_key` is the request's key, decoded;
// empty when OpenSSL cannot decode it. The request's own X509_PUBKEY may hold only the
// encoded key (no EVP_PKEY): read the key from here, not with X509_REQ_get0_pubkey.
struct Csr {
  X509Req request;
  PKey public_key;
};
// PEM (the first CERTIFICATE REQUEST block) or DER (nothing after it). Errc::malformed_csr.
core::Result<Csr> parse_csr(ByteView pem_or_der);
core::Result<X509Crl> parse_crl(ByteView pem_or_der);

std::string to_pem(const X509* cert);
Bytes to_der(const X509* cert);
std::string crl_to_pem(const X509_CRL* crl);
Bytes crl_to_der(const X509_CRL* crl);

// Lowercase hex of the serial number, no leading zeros ("0" for zero).
std::string serial_hex(const X509* cert);
std::string serial_hex(const ASN1_INTEGER* serial);
// Parses hex (either case, optional "0x"/colons); Errc::invalid_serial.
core::Result<Asn1Integer> serial_from_hex(std::string_view hex);

// RFC 2253 text of a name, e.g. "CN=Cartorio Digital Root CA,O=Cartorio Digital,C=BR".
std::string name_to_string(const X509_NAME* name);
// Unix seconds of an ASN1_TIME.
long long asn1_time_to_unix(const ASN1_TIME* t);

// Puts the SubjectPublicKeyInfo `spki` (e.g. a CSR's) into `cert` as encoded: X509_set_pubkey
// encodes an EVP_PKEY and OpenSSL 3.0 then decodes the result, through provider lookups that
// cost more than the CA's RSA signature. Copied only when it is in the one form
// X509_set_pubkey would write, checked without the provider codecs: rsaEncryption with NULL
// parameters and a DER RSAPublicKey with nothing after it, or id-ecPublicKey on P-256/P-384
// with an uncompressed point of the curve's size. So a lax encoding OpenSSL parsed (trailing
// bytes, odd parameters) never reaches a certificate: Errc::not_supported, and the caller
// uses X509_set_pubkey.
core::Result<void> copy_public_key_info(X509* cert, const X509_PUBKEY* spki);

// The SubjectPublicKeyInfo forms the fast paths above take (what X509_set_pubkey writes):
// rsaEncryption with NULL parameters and a DER RSAPublicKey with nothing after it, or
// id-ecPublicKey with a named P-256/P-384 curve and an uncompressed point of its size.
enum class CanonicalSpki { none, rsa, ec_p256, ec_p384 };
CanonicalSpki canonical_spki(const X509_ALGOR* algorithm, const unsigned char* bits, int bits_len);
// Sets `to` to (algorithm, bits) as encoded, without decoding the key; false on failure.
bool copy_spki(X509_PUBKEY* to, const X509_ALGOR* algorithm, const unsigned char* bits, int bits_len);

// A CSR for `key`, signed by it: subject attributes as (short name, UTF-8 value) pairs in
// order ("CN", "O", "OU", "serialNumber", ...) and URI subjectAltNames.
// An X.509 name of (field, UTF-8 value) pairs in order, e.g. {{"CN", "worker"}}.
// Errc::invalid_argument for an unknown field or a value OpenSSL refuses.
core::Result<X509Name> make_name(const std::vector<std::pair<std::string, std::string>>& attributes);

struct CsrSpec {
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::string> uri_sans;
};
core::Result<Bytes> make_csr_der(EVP_PKEY* key, const CsrSpec& spec);

}  // namespace cartorio::crypto
