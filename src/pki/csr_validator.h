// Checks a PKCS#10 request against a profile: parse, self-signature, key type and strength,
// subject attributes, SAN syntax. Nothing is signed or stored unless this passes.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "pki/profile.h"

#include <string>
#include <vector>

namespace cartorio::pki {

struct SubjectAltName {
  SanKind kind;
  std::string value;  // "a.example.com", "10.0.0.1", "x@y.z", "https://..."
  std::string display() const;  // "DNS:a.example.com"
};

struct ValidatedCsr {
  crypto::X509Req request;  // as parsed: its SubjectPublicKeyInfo goes into the certificate as is
  crypto::PKey public_key;  // the request's key (the request itself may hold it only encoded)
  crypto::X509Name subject;        // only the attributes we accept (CN, O, OU, L, ST, C, serialNumber)
  std::vector<SubjectAltName> sans;
};

// Errors: malformed_csr (empty, garbage, trailing bytes), csr_bad_signature, weak_key,
// unsupported_key_type, invalid_san, profile_violation.
core::Result<ValidatedCsr> validate_csr(crypto::ByteView csr, const Profile& profile);

// Syntax checks, exposed for tests and other callers (ACME).
bool is_valid_dns_name(std::string_view name, bool allow_wildcard);
bool is_valid_email(std::string_view email);

}  // namespace cartorio::pki
