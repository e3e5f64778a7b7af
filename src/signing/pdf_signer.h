// PAdES signing of a PDF (ETSI EN 319 142-1 baseline levels), each step an incremental
// update so every earlier revision and signature stays intact:
//   B-B   a CAdES-detached signature (pades_cms.h) in a new signature field;
//   B-T   + a signature time-stamp from the TimestampClient;
//   B-LT  + a Document Security Store with the chains, OCSP responses and CRLs of the
//          signer and the TSA (validation data from a ValidationDataSource);
//   B-LTA + a document time-stamp (/DocTimeStamp, ETSI.RFC3161) over all of it.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/primitives.h"
#include "signing/pades_cms.h"
#include "signing/pdf_update.h"
#include "tsa/timestamp_client.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::signing {

enum class PadesLevel { b_b, b_t, b_lt, b_lta };
// "B-B" | "B-T" | "B-LT" | "B-LTA" (Errc::invalid_argument otherwise).
core::Result<PadesLevel> parse_pades_level(std::string_view text);
std::string_view to_string(PadesLevel level);

// Revocation evidence for certificates (B-LT): the certificates themselves and whatever
// proves their status now — OCSP responses for end entities, CRLs or OCSP for CAs.
class ValidationDataSource {
 public:
  virtual ~ValidationDataSource() = default;
  virtual core::Result<ValidationData> collect(const std::vector<X509*>& certificates) = 0;
};

struct PadesRequest {
  std::string_view pdf;
  PadesLevel level = PadesLevel::b_lt;
  CmsSigner signer;
  core::TimePoint signing_time;  // the claimed time (/M)
  std::string name, reason, location, contact_info;
  std::optional<SignatureAppearance> appearance;
  std::size_t max_bytes = 64 * 1024 * 1024;
  // The SHA-256 state after hashing exactly `pdf`, when the caller has it (it hashed the
  // input for its own record): the signer continues from it instead of hashing it again.
  const crypto::Sha256* pdf_hash = nullptr;
};

struct PadesServices {
  tsa::TimestampClient* timestamps = nullptr;   // B-T and up
  ValidationDataSource* validation = nullptr;   // B-LT and up
};

struct SignedPdf {
  std::string pdf;
  std::string field_name;
  // SHA-256 of `pdf` when known without one more pass over it (B-B and B-T with pdf_hash).
  std::optional<std::array<std::uint8_t, 32>> sha256;
};

// Errc as inspect_pdf for the input; tsa_error / tsa_unavailable from the TSA.
core::Result<SignedPdf> sign_pades(const PadesRequest& request, const PadesServices& services);

}  // namespace cartorio::signing
