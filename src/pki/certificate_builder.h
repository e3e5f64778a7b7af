// Assembles and signs X.509 v3 certificates. Policy (what goes in) is decided by callers
// (CertificateIssuer, Ceremony); this only encodes it correctly.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/ossl.h"
#include "pki/csr_validator.h"

#include <string>
#include <utility>
#include <vector>

namespace cartorio::pki {

struct CertificateSpec {
  const X509_NAME* subject = nullptr;
  const EVP_PKEY* public_key = nullptr;
  // When set, public_key as encoded in a CSR: copied as is when it is in canonical form
  // (cheaper than X509_set_pubkey; see crypto::copy_public_key_info). The returned X509 then has no decoded key
  // (X509_get0_pubkey is null): use its encoding (PEM/DER), as the issuer does.
  const X509_PUBKEY* public_key_info = nullptr;
  const X509* issuer = nullptr;  // nullptr: self-signed (issuer = subject)
  core::TimePoint not_before;
  core::TimePoint not_after;
  // Extensions as OpenSSL conf values, e.g. {NID_basic_constraints, "critical,CA:TRUE"}.
  // SKI ("hash") and AKI ("keyid:always") are added by the builder.
  std::vector<std::pair<int, std::string>> extensions;
  std::vector<SubjectAltName> sans;
};

// 16 bytes from the CSPRNG, 126 of them random (the top bit is cleared so the integer is
// positive, the next set so the length is fixed): RFC 5280
// allows 20 octets, CA/B Forum asks for >= 64 random bits.
crypto::Asn1Integer random_serial();

// Signs with `signing_key` (the issuer's private key, possibly inside an HSM).
core::Result<crypto::X509Ptr> build_certificate(const CertificateSpec& spec, const ASN1_INTEGER* serial,
                                                EVP_PKEY* signing_key);

}  // namespace cartorio::pki
