// Pre-signing the root's OCSP responses during a key ceremony. The root key is offline, so
// the status of the intermediates (the only certificates the root issues) is signed while
// the key is present (`cartorio init`, `cartorio ocsp presign-root`) and served later from
// files by PresignedSource. Re-run before the responses expire (default validity 30 days).
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "store/store.h"

#include <chrono>
#include <string>
#include <vector>

namespace cartorio::ocsp {

inline constexpr std::chrono::seconds kDefaultPresignedValidity = std::chrono::hours(24 * 30);

// The CertID hash algorithms responses are pre-signed for: SHA-1 (RFC 5019 2.1.1 requires
// clients to use it) and SHA-256. A response is found by the algorithm of the request.
enum class CertIdHash { sha1, sha256 };

struct PresignedResponse {
  std::string serial;  // lowercase hex, as in the store
  CertIdHash hash = CertIdHash::sha1;
  crypto::Bytes der;   // DER OCSPResponse, signed by the root
};

// One response per (certificate issued by the root except itself, hash): good or revoked
// (with time and reason) from the store; thisUpdate = now, nextUpdate = now + validity.
// Errc::permission_denied when root_key is not root_cert's key; store errors as they come.
core::Result<std::vector<PresignedResponse>> presign_root_responses(X509* root_cert, EVP_PKEY* root_key,
                                                                    store::CertificateRepository& certificates,
                                                                    const core::Clock& clock,
                                                                    std::chrono::seconds validity = kDefaultPresignedValidity);

// DIR/<serial>.der (SHA-1 CertID) and DIR/<serial>.sha256.der.
std::string presigned_file(const std::string& dir, const std::string& serial, CertIdHash hash);

// presign_root_responses + write_presigned; returns how many certificates were covered.
core::Result<std::size_t> presign_root_to_dir(X509* root_cert, EVP_PKEY* root_key,
                                              store::CertificateRepository& certificates, const core::Clock& clock,
                                              const std::string& dir,
                                              std::chrono::seconds validity = kDefaultPresignedValidity);

// Writes every response atomically (readers see the old file or the new one), creating DIR.
core::Result<void> write_presigned(const std::string& dir, const std::vector<PresignedResponse>& responses);

}  // namespace cartorio::ocsp
