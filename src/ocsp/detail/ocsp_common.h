// Helpers shared by the OCSP sources: parsing requests, matching CertIDs against a CA,
// encoding responses. Internal to ocsp/ (includes OpenSSL).
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "ocsp/response_source.h"

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

namespace cartorio::ocsp::detail {

// An OCSPResponse carrying only an error status (no responseBytes).
OcspResult error_result(ResponseStatus status);

// nullptr when the bytes are not one well-formed DER OCSPRequest (trailing bytes included).
crypto::OcspRequest parse_request(crypto::ByteView der);

// The CertIDs of a request, in order (owned by the request).
std::vector<OCSP_CERTID*> cert_ids(OCSP_REQUEST* req);

// Whether `id` names `ca` as issuer: issuerNameHash and issuerKeyHash recomputed with the
// hash algorithm the CertID itself uses. False for a hash OpenSSL does not know.
bool issued_by(const OCSP_CERTID* id, const X509* ca);

// Lowercase hex serial of a CertID, as the store spells it.
std::string serial_of(const OCSP_CERTID* id);

// Signs `basic` and wraps it in a successful OCSPResponse. `extra_certs` (may be null) are
// added beside the signer certificate. Responder id by key hash (RFC 6960 4.2.2.3; RFC 5019).
core::Result<crypto::Bytes> sign_response(OCSP_BASICRESP* basic, X509* signer_cert, EVP_PKEY* key,
                                          STACK_OF(X509)* extra_certs);

crypto::Bytes to_der(const OCSP_RESPONSE* response);

crypto::Asn1Time to_asn1_time(core::TimePoint t);

}  // namespace cartorio::ocsp::detail
