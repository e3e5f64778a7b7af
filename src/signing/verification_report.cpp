#include "signing/verification_report.h"

#include <nlohmann/json.hpp>

#include <ctime>

namespace cartorio::signing {

using nlohmann::json;

SignatureStatus status_from(const std::vector<Finding>& findings) {
  bool indeterminate = false;
  for (const auto& f : findings) {
    if (f.severity == Severity::error) return SignatureStatus::invalid;
    if (f.severity == Severity::indeterminate) indeterminate = true;
  }
  return indeterminate ? SignatureStatus::indeterminate : SignatureStatus::valid;
}

SignatureStatus SignatureReport::status() const { return status_from(findings); }

DocumentStatus VerificationReport::status() const {
  if (signatures.empty()) return DocumentStatus::no_signatures;
  bool all_valid = true;
  for (const auto& s : signatures) {
    const auto st = s.status();
    if (st == SignatureStatus::invalid) return DocumentStatus::invalid;
    if (st != SignatureStatus::valid) all_valid = false;
  }
  return all_valid ? DocumentStatus::valid : DocumentStatus::indeterminate;
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::indeterminate: return "indeterminate";
    case Severity::warning: return "warning";
    case Severity::info: return "info";
  }
  return "info";
}

std::string_view to_string(SignatureStatus s) {
  switch (s) {
    case SignatureStatus::valid: return "valid";
    case SignatureStatus::invalid: return "invalid";
    case SignatureStatus::indeterminate: return "indeterminate";
  }
  return "indeterminate";
}

std::string_view to_string(SignatureKind k) {
  return k == SignatureKind::document_timestamp ? "document_timestamp" : "signature";
}

std::string_view to_string(RevocationStatus s) {
  switch (s) {
    case RevocationStatus::good: return "good";
    case RevocationStatus::revoked: return "revoked";
    case RevocationStatus::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view to_string(DocumentStatus s) {
  switch (s) {
    case DocumentStatus::valid: return "valid";
    case DocumentStatus::invalid: return "invalid";
    case DocumentStatus::indeterminate: return "indeterminate";
    case DocumentStatus::no_signatures: return "no_signatures";
  }
  return "indeterminate";
}

std::string format_utc(long long unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(unix_seconds);
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return std::to_string(unix_seconds);
  return buf;
}

namespace {

// Field names, reasons and certificate names come from the document: JSON needs valid
// UTF-8 (nlohmann::json::dump throws otherwise), so invalid sequences become U+FFFD.
std::string utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    unsigned cp = 0;
    if (c < 0x80) { len = 1; cp = c; }
    else if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07u; }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
               (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// For a terminal: valid UTF-8 without control characters (no escape sequences from a PDF).
std::string printable(std::string_view in) {
  std::string out = utf8(in);
  for (auto& ch : out)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ch = '?';
  return out;
}

json time_or_null(const std::optional<long long>& t) { return t ? json(format_utc(*t)) : json(nullptr); }

json to_json(const Finding& f) {
  return {{"severity", to_string(f.severity)}, {"code", f.code}, {"message", utf8(f.message)}};
}

json findings_json(const std::vector<Finding>& findings) {
  json a = json::array();
  for (const auto& f : findings) a.push_back(to_json(f));
  return a;
}

json to_json(const CertificateInfo& c) {
  return {{"subject", utf8(c.subject)},
          {"issuer", utf8(c.issuer)},
          {"serial", c.serial},
          {"not_before", format_utc(c.not_before)},
          {"not_after", format_utc(c.not_after)}};
}

json to_json(const SignatureReport& s) {
  json j;
  j["field"] = utf8(s.field_name);
  j["kind"] = to_string(s.kind);
  j["sub_filter"] = utf8(s.sub_filter);
  j["status"] = to_string(s.status());
  j["claimed_signing_time"] = time_or_null(s.claimed_time);
  if (!s.signer_name.empty()) j["name"] = utf8(s.signer_name);
  if (!s.reason.empty()) j["reason"] = utf8(s.reason);
  if (!s.location.empty()) j["location"] = utf8(s.location);
  j["signer"] = s.signer ? to_json(*s.signer) : json(nullptr);

  const auto& in = s.integrity;
  j["integrity"] = {{"byte_range", in.byte_range},
                    {"byte_range_ok", in.byte_range_ok},
                    {"digest_algorithm", in.digest_algorithm},
                    {"digest_ok", in.digest_ok},
                    {"signature_ok", in.signature_ok}};

  json chain_certs = json::array();
  for (const auto& c : s.chain.certificates) chain_certs.push_back(to_json(c));
  j["chain"] = {{"trusted", s.chain.trusted},
                {"validation_time", time_or_null(s.chain.validation_time)},
                {"time_source", s.chain.time_source},
                {"certificates", chain_certs},
                {"error", utf8(s.chain.error)},
                {"signer_expired_now", s.chain.signer_expired_now}};

  const auto& r = s.revocation;
  j["revocation"] = {{"status", to_string(r.status)},
                     {"source", r.source},
                     {"this_update", time_or_null(r.this_update)},
                     {"revocation_time", time_or_null(r.revocation_time)},
                     {"revocation_reason", r.revocation_reason},
                     {"revoked_before_signing", r.revoked_before_signing}};

  const auto& t = s.timestamp;
  j["timestamp"] = {{"present", t.present},
                    {"gen_time", time_or_null(t.gen_time)},
                    {"valid", t.valid},
                    {"imprint_ok", t.imprint_ok},
                    {"signature_ok", t.signature_ok},
                    {"chain_trusted", t.chain_trusted},
                    {"tsa", utf8(t.tsa)},
                    {"tsa_certificate", t.tsa_certificate ? to_json(*t.tsa_certificate) : json(nullptr)}};

  json later = json::array();
  for (const auto& rc : s.coverage.later_revisions)
    later.push_back({{"revision", rc.revision},
                     {"end_offset", rc.end_offset},
                     {"kind", rc.kind},
                     {"adds", rc.adds},
                     {"added_objects", rc.added_objects},
                     {"modified_objects", rc.modified_objects},
                     {"unexpected_objects", rc.unexpected_objects}});
  j["coverage"] = {{"signed_end", s.coverage.signed_end},
                   {"covers_whole_file", s.coverage.covers_whole_file},
                   {"revision", s.coverage.revision},
                   {"later_revisions", later}};
  j["findings"] = findings_json(s.findings);
  return j;
}

}  // namespace

json to_json(const VerificationReport& report) {
  json sigs = json::array();
  for (const auto& s : report.signatures) sigs.push_back(to_json(s));
  return {{"status", to_string(report.status())},
          {"file", {{"size", report.file_size}, {"sha256", report.sha256}, {"revisions", report.revisions}}},
          {"findings", findings_json(report.findings)},
          {"signatures", sigs}};
}

std::string to_text(const VerificationReport& report) {
  std::string out;
  out += "document: ";
  switch (report.status()) {
    case DocumentStatus::valid: out += "all signatures are valid"; break;
    case DocumentStatus::invalid: out += "INVALID: at least one signature is invalid"; break;
    case DocumentStatus::indeterminate: out += "INDETERMINATE: at least one signature could not be confirmed"; break;
    case DocumentStatus::no_signatures: out += "no signatures"; break;
  }
  out += " (" + std::to_string(report.signatures.size()) + " signature(s), " + std::to_string(report.revisions) +
         " revision(s), " + std::to_string(report.file_size) + " bytes)\n";
  auto finding_line = [](const Finding& f) {
    const std::string label = f.severity == Severity::info ? "note" : std::string(to_string(f.severity));
    return "  " + label + ": " + printable(f.message) + " [" + f.code + "]\n";
  };
  for (const auto& f : report.findings) out += finding_line(f);
  int n = 0;
  for (const auto& s : report.signatures) {
    const bool doc_ts = s.kind == SignatureKind::document_timestamp;
    out += "\n#" + std::to_string(++n) + " " + std::string(to_string(s.status())) + ": " +
           (doc_ts ? "document timestamp" : "signature") + " in field \"" + printable(s.field_name) + "\" (" +
           printable(s.sub_filter) + ")\n";
    if (s.signer)
      out += std::string(doc_ts ? "  TSA:       " : "  signer:    ") + printable(s.signer->subject) +
             "\n  issued by: " + printable(s.signer->issuer) + "\n";
    if (s.timestamp.present && s.timestamp.gen_time)
      out += "  time:      " + format_utc(*s.timestamp.gen_time) + " (" + (doc_ts ? "" : "timestamp ") + "by " +
             printable(s.timestamp.tsa) + (s.timestamp.valid ? ")\n" : ", not valid)\n");
    if (s.claimed_time && !doc_ts)
      out += "  claimed:   " + format_utc(*s.claimed_time) + " (by the signer)\n";
    if (s.integrity.byte_range_ok)
      out += "  covers:    " +
             std::string(s.coverage.covers_whole_file
                             ? "the whole file"
                             : "revision " + std::to_string(s.coverage.revision) + "; " +
                                   std::to_string(s.coverage.later_revisions.size()) + " later revision(s)") +
             "\n";
    for (const auto& rc : s.coverage.later_revisions)
      out += "    revision " + std::to_string(rc.revision) + ": " + rc.kind + "\n";
    for (const auto& f : s.findings) out += finding_line(f);
  }
  return out;
}

}  // namespace cartorio::signing
