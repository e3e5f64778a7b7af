// The result of validating the signatures of a PDF (signing/pdf_verifier.h): per signature,
// what was checked and a list of findings; the verdict is derived from the findings, never
// set on its own (a report explains every status it gives).
//
// Findings carry a stable snake_case code (scripts and the API match on it) and a short
// English message. Their severity decides the verdict, in the spirit of ETSI EN 319 102-1:
//   error          -> invalid        (the signature is wrong: bytes changed, bad signature,
//                                     revoked before signing...)
//   indeterminate  -> indeterminate  (could not be confirmed: untrusted chain, no revocation
//                                     information, document changed after signing...)
//   warning, info  -> no effect      (worth knowing: revoked after signing, expired since...)
// Times are Unix seconds (UTC); JSON shows them as ISO 8601 "2024-05-01T12:00:00Z".
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::signing {

enum class Severity { error, indeterminate, warning, info };

struct Finding {
  Severity severity = Severity::info;
  std::string code;     // stable, e.g. "digest_mismatch"
  std::string message;  // e.g. "the signed bytes were changed after signing"
};

enum class SignatureStatus { valid, invalid, indeterminate };

enum class SignatureKind {
  signature,           // /Type /Sig: a CMS signature (adbe.pkcs7.detached, ETSI.CAdES.detached)
  document_timestamp,  // /Type /DocTimeStamp, /SubFilter /ETSI.RFC3161: a bare RFC 3161 token
};

struct CertificateInfo {
  std::string subject;  // RFC 2253
  std::string issuer;
  std::string serial;   // lowercase hex
  long long not_before = 0;
  long long not_after = 0;
};

struct IntegrityCheck {
  std::vector<long long> byte_range;  // as found in /ByteRange (may be malformed)
  bool byte_range_ok = false;         // [0 a b c], a < b, the hole is exactly <Contents>, b+c in file
  std::string digest_algorithm;       // "sha256", as OpenSSL names it
  bool digest_ok = false;             // covered bytes' digest == messageDigest (or the TSTInfo imprint)
  bool signature_ok = false;          // the CMS signature verifies with the signer's key
};

struct ChainCheck {
  bool trusted = false;                       // a chain to a trusted root, valid at validation_time
  std::optional<long long> validation_time;   // when the chain was checked
  std::string time_source;                    // "timestamp", "claimed" or "current"
  std::vector<CertificateInfo> certificates;  // signer first, up to the trust anchor
  std::string error;                          // OpenSSL's verify error when not trusted
  bool signer_expired_now = false;            // the signing certificate has expired since
};

enum class RevocationStatus { good, revoked, unknown };

struct RevocationCheck {
  RevocationStatus status = RevocationStatus::unknown;
  std::string source;                       // "dss_ocsp", "dss_crl", "cms_crl", "live_ocsp"; "" when unknown
  std::optional<long long> this_update;     // of the OCSP response or CRL used
  std::optional<long long> revocation_time;
  std::string revocation_reason;            // RFC 5280 name, e.g. "keyCompromise"
  bool revoked_before_signing = false;
};

struct TimestampCheck {
  bool present = false;                 // a signature-time-stamp (or, for a document timestamp, its token)
  std::optional<long long> gen_time;
  bool imprint_ok = false;              // the token's messageImprint matches what it stamps
  bool signature_ok = false;            // the token's signature verifies
  bool chain_trusted = false;           // the TSA chains to a trusted root at genTime
  bool valid = false;                   // all of the above and OpenSSL's TS_RESP_verify_token
  std::string tsa;                      // TSTInfo's tsa name, else the TSA certificate's subject
  std::optional<CertificateInfo> tsa_certificate;
};

// One incremental update after a signature, and what it did.
struct RevisionChange {
  int revision = 0;             // 1-based position in the file
  std::uint64_t end_offset = 0;  // where it ends (after its %%EOF)
  // "signature", "document_timestamp", "dss" (validation data only), "none" (nothing that
  // changes the document), or "other": changes beyond those (see unexpected_objects).
  std::string kind;
  std::vector<std::string> adds;             // every addition seen: "signature", "dss", ...
  std::vector<int> added_objects;            // object numbers new in this revision
  std::vector<int> modified_objects;         // existing objects it changed
  std::vector<int> unexpected_objects;       // changes a signature, DSS or timestamp does not need
};

struct CoverageCheck {
  std::uint64_t signed_end = 0;     // b + c
  bool covers_whole_file = false;   // b + c == file size
  int revision = 0;                 // the revision the signature signs (0: none ends there)
  std::vector<RevisionChange> later_revisions;
};

struct SignatureReport {
  std::string field_name;   // fully qualified ("parent.child")
  std::string sub_filter;   // "adbe.pkcs7.detached", "ETSI.CAdES.detached", "ETSI.RFC3161"
  SignatureKind kind = SignatureKind::signature;
  std::optional<long long> claimed_time;  // /M, else the CMS signingTime attribute
  std::string reason, location, signer_name;  // /Reason, /Location, /Name when present
  std::optional<CertificateInfo> signer;      // the signing (or TSA) certificate
  IntegrityCheck integrity;
  ChainCheck chain;
  RevocationCheck revocation;
  TimestampCheck timestamp;
  CoverageCheck coverage;
  std::vector<Finding> findings;

  SignatureStatus status() const;
};

enum class DocumentStatus { valid, invalid, indeterminate, no_signatures };

struct VerificationReport {
  std::uint64_t file_size = 0;
  std::string sha256;                 // of the whole file, lowercase hex
  int revisions = 0;                  // %%EOF-terminated revisions found
  std::vector<Finding> findings;      // about the file itself (damage qpdf repaired...)
  std::vector<SignatureReport> signatures;

  // valid: at least one signature and all valid; invalid: any invalid; no_signatures:
  // none found; indeterminate otherwise.
  DocumentStatus status() const;
};

SignatureStatus status_from(const std::vector<Finding>& findings);

std::string_view to_string(Severity s);
std::string_view to_string(SignatureStatus s);
std::string_view to_string(SignatureKind k);
std::string_view to_string(RevocationStatus s);
std::string_view to_string(DocumentStatus s);

// "2024-05-01T12:00:00Z".
std::string format_utc(long long unix_seconds);

// The JSON document of `cartorio pdf verify --json` (docs/pdf-verify.md).
nlohmann::json to_json(const VerificationReport& report);
// A short human summary: one block per signature, its status and the reasons.
std::string to_text(const VerificationReport& report);

}  // namespace cartorio::signing
