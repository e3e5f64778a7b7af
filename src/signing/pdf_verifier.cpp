#include "signing/pdf_verifier.h"

#include "crypto/primitives.h"
#include "crypto/x509.h"
#include "signing/detail/revision_diff.h"
#include "signing/detail/revocation_check.h"
#include "signing/detail/signature_crypto.h"
#include "signing/detail/signed_pdf_reader.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <string_view>

namespace cartorio::signing {

using core::Errc;
using detail::CertPool;

namespace {

// Revisions after a signature whose changes are analysed (each is parsed on its own).
constexpr int kMaxLaterRevisions = 32;
// A signature's claimed time and its timestamp may differ by clock skew; beyond that, the
// claim is after the proof.
constexpr long long kClockSkew = 5 * 60;

// "D:YYYYMMDDHHmmSSOHH'mm'" (ISO 32000-1 7.9.4); everything after the year is optional.
std::optional<long long> parse_pdf_date(std::string_view s) {
  if (s.substr(0, 2) == "D:") s.remove_prefix(2);
  auto digits = [&](std::size_t pos, std::size_t n, int fallback, bool& ok) {
    if (pos + n > s.size()) return fallback;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
        ok = false;
        return fallback;
      }
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 4) return std::nullopt;
  bool ok = true;
  std::tm tm{};
  tm.tm_year = digits(0, 4, 0, ok) - 1900;
  tm.tm_mon = digits(4, 2, 1, ok) - 1;
  tm.tm_mday = digits(6, 2, 1, ok);
  tm.tm_hour = digits(8, 2, 0, ok);
  tm.tm_min = digits(10, 2, 0, ok);
  tm.tm_sec = digits(12, 2, 0, ok);
  if (!ok || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  long long t = static_cast<long long>(timegm(&tm));
  std::size_t pos = 4;
  while (pos < s.size() && pos < 14 && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '+' ? 1 : -1;
    bool zok = true;
    const int hh = digits(pos + 1, 2, 0, zok);
    const std::size_t mm_pos = pos + 3 < s.size() && s[pos + 3] == '\'' ? pos + 4 : pos + 3;
    const int mm = digits(mm_pos, 2, 0, zok);
    if (zok && hh < 24 && mm < 60) t -= sign * (hh * 3600LL + mm * 60LL);
  }
  return t;
}

bool is_hex(std::uint8_t c) { return std::isxdigit(c) != 0; }

struct ByteRangeCheck {
  bool ok = false;
  std::array<std::size_t, 4> r{};
  std::vector<crypto::ByteView> covered;
};

// [0 a b c]: the signature covers [0, a) and [b, b+c), and what it leaves out, [a, b), is
// exactly its own /Contents hex string with the angle brackets.
ByteRangeCheck check_byte_range(crypto::ByteView pdf, const detail::SignatureDictionary& sig,
                                std::vector<Finding>& findings) {
  ByteRangeCheck out;
  auto bad = [&](const char* code, std::string message) {
    findings.push_back({Severity::error, code, std::move(message)});
    return out;
  };
  const auto& br = sig.byte_range;
  if (!sig.byte_range_typed || br.size() != 4)
    return bad("byte_range_invalid", "the signature's /ByteRange is not four integers");
  if (std::any_of(br.begin(), br.end(), [](long long v) { return v < 0; }))
    return bad("byte_range_invalid", "the signature's /ByteRange has a negative number");
  if (br[0] != 0) return bad("byte_range_invalid", "the signed bytes do not start at the beginning of the file");
  if (br[1] >= br[2]) return bad("byte_range_invalid", "the signature's /ByteRange ranges overlap");
  const auto size = static_cast<unsigned long long>(pdf.size());
  if (static_cast<unsigned long long>(br[2]) > size || static_cast<unsigned long long>(br[3]) > size - static_cast<unsigned long long>(br[2]))
    return bad("byte_range_out_of_file", "the file is shorter than the bytes the signature covers (truncated?)");
  const auto a = static_cast<std::size_t>(br[1]), b = static_cast<std::size_t>(br[2]), c = static_cast<std::size_t>(br[3]);
  if (!sig.contents) return bad("contents_missing", "the signature dictionary has no /Contents string");
  const bool hole_is_hex = b - a >= 2 && pdf[a] == '<' && pdf[b - 1] == '>' &&
                           std::all_of(pdf.begin() + static_cast<std::ptrdiff_t>(a + 1),
                                       pdf.begin() + static_cast<std::ptrdiff_t>(b - 1), is_hex);
  if (!hole_is_hex || (b - a - 2) % 2 != 0)
    return bad("byte_range_hole_mismatch", "the bytes left out of the signature are not a hex string <...>");
  auto decoded = crypto::from_hex(std::string_view(reinterpret_cast<const char*>(pdf.data()) + a + 1, b - a - 2));
  if (!decoded || crypto::to_string(*decoded) != *sig.contents)
    return bad("byte_range_hole_mismatch", "the bytes left out of the signature are not this signature's /Contents");
  if (sig.object_offset) {
    // The hole must lie inside the signature dictionary's own object.
    const auto start = static_cast<std::size_t>(*sig.object_offset);
    const std::string_view between =
        start < a ? std::string_view(reinterpret_cast<const char*>(pdf.data()) + start, a - start) : std::string_view();
    if (start >= a || between.find("endobj") != std::string_view::npos)
      return bad("byte_range_hole_mismatch", "the bytes left out of the signature are outside its dictionary");
  }
  out.ok = true;
  out.r = {0, a, b, c};
  out.covered = {pdf.first(a), pdf.subspan(b, c)};
  return out;
}

std::string list_numbers(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  if (v.size() > 20) s += ", ...";
  return s;
}

// What verify_pdf shares between the signatures of one file.
struct Context {
  crypto::ByteView pdf;
  const VerifyOptions& options;
  long long now;
  std::vector<X509*> anchors;
  CertPool pool;  // options.intermediates + DSS certificates
  detail::RevocationEvidence evidence;
  detail::RevisionHistory history;
};

std::string_view as_text(crypto::ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

void check_coverage(Context& ctx, SignatureReport& r, std::size_t signed_end) {
  auto& cov = r.coverage;
  cov.signed_end = signed_end;
  cov.covers_whole_file = signed_end == ctx.pdf.size();
  const auto& ends = ctx.history.ends();
  for (std::size_t i = 0; i < ends.size(); ++i)
    if (ends[i].eof_end <= signed_end && signed_end <= ends[i].end) {
      cov.revision = static_cast<int>(i) + 1;
      break;
    }
  if (cov.revision == 0) {
    r.findings.push_back({Severity::indeterminate, "not_a_revision",
                          "the signed bytes do not end at the end of a revision (%%EOF): what was signed is not a "
                          "complete PDF"});
    return;
  }
  const int last = ctx.history.count();
  if (last - cov.revision > kMaxLaterRevisions) {
    r.findings.push_back({Severity::indeterminate, "too_many_revisions",
                          std::to_string(last - cov.revision) + " revisions were added after this signature; at most " +
                              std::to_string(kMaxLaterRevisions) + " are analysed"});
    return;
  }
  std::vector<std::string> other;
  for (int k = cov.revision + 1; k <= last; ++k) {
    const auto& change = ctx.history.change(k);
    cov.later_revisions.push_back(change);
    if (change.kind == "other")
      other.push_back("revision " + std::to_string(k) + " (objects " + list_numbers(change.unexpected_objects) + ")");
    else if (change.kind == "unknown")
      other.push_back("revision " + std::to_string(k) + " (unreadable on its own)");
  }
  if (!other.empty()) {
    std::string what;
    for (const auto& o : other) what += (what.empty() ? "" : "; ") + o;
    r.findings.push_back({Severity::indeterminate, "changed_after_signing",
                          "the document was changed after this signature in ways a signature, timestamp or "
                          "validation data does not need: " + what + ". What it shows now may not be what was signed"});
  } else if (!cov.later_revisions.empty()) {
    r.findings.push_back({Severity::info, "later_revisions",
                          std::to_string(cov.later_revisions.size()) +
                              " later revision(s) add only signatures, timestamps or validation data"});
  }
  // Bytes after the last revision are not part of any PDF structure; readers ignore them.
  const std::size_t tail_start = ends.empty() ? ctx.pdf.size() : ends.back().end;
  if (tail_start < ctx.pdf.size() &&
      std::any_of(ctx.pdf.begin() + static_cast<std::ptrdiff_t>(tail_start), ctx.pdf.end(),
                  [](std::uint8_t b) { return !(b == ' ' || b == '\r' || b == '\n' || b == '\t' || b == 0); }))
    r.findings.push_back({Severity::warning, "trailing_data",
                          std::to_string(ctx.pdf.size() - tail_start) + " bytes after the last %%EOF are not signed"});
}

void fill_chain(SignatureReport& r, const detail::ChainResult& chain, long long at, const char* source,
                const char* who) {
  r.chain.trusted = chain.trusted;
  r.chain.validation_time = at;
  r.chain.time_source = source;
  r.chain.error = chain.error;
  for (const auto& c : chain.chain) r.chain.certificates.push_back(detail::certificate_info(c.get()));
  if (chain.trusted) return;
  const int e = chain.error_code;
  const std::string when = " at " + format_utc(at);
  if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
    r.findings.push_back({Severity::error, "certificate_not_valid_at_signing_time",
                          std::string("the ") + who + " certificate (or one of its issuers) was not valid" + when + ": " +
                              chain.error});
  else if (e == X509_V_ERR_CERT_SIGNATURE_FAILURE || e == X509_V_ERR_INVALID_CA || e == X509_V_ERR_CERT_REVOKED)
    r.findings.push_back({Severity::error, "chain_invalid",
                          std::string("the ") + who + " certificate's chain is broken: " + chain.error});
  else
    r.findings.push_back({Severity::indeterminate, "chain_untrusted",
                          std::string("the ") + who + " certificate does not chain to a trusted root" + when + " (" +
                              chain.error + ")"});
}

// Revocation of the signing (or TSA) certificate at `at`, then of the CAs above it.
// `time_proven`: `at` comes from a valid timestamp, not from the signer's claim.
void check_chain_revocation(Context& ctx, SignatureReport& r, const detail::ChainResult& chain, X509* signer,
                            long long at, bool time_proven, const CertPool& extra,
                            const std::vector<crypto::X509Crl>& cms_crls) {
  CertPool pool;
  pool.add_all(extra);
  pool.add_all(ctx.pool);
  X509* issuer = chain.chain.size() > 1 ? chain.chain[1].get() : pool.find_issuer(signer, ctx.anchors);
  const bool anchor = std::any_of(ctx.anchors.begin(), ctx.anchors.end(), [&](X509* a) { return X509_cmp(a, signer) == 0; });
  if (anchor) {
    // A trust anchor is trusted as such, revocation included (RFC 5280 6.1).
    r.revocation.status = RevocationStatus::good;
    r.revocation.source = "trust_anchor";
  } else if (!issuer || issuer == signer) {
    r.findings.push_back({Severity::indeterminate, "revocation_unknown",
                          "the issuer's certificate is not available, so revocation cannot be checked"});
  } else {
    r.revocation = detail::check_revocation(signer, issuer, at, ctx.evidence, cms_crls, pool, ctx.anchors);
    const auto& rv = r.revocation;
    const std::string reason = rv.revocation_reason.empty() ? "" : " (" + rv.revocation_reason + ")";
    if (rv.status == RevocationStatus::revoked && rv.revoked_before_signing)
      r.findings.push_back({Severity::error, "revoked_before_signing",
                            "the certificate was revoked on " + format_utc(*rv.revocation_time) + reason +
                                ", before the signature was made (" + format_utc(at) + ")"});
    else if (rv.status == RevocationStatus::revoked && time_proven)
      r.findings.push_back({Severity::warning, "revoked_after_signing",
                            "the certificate was revoked on " + format_utc(*rv.revocation_time) + reason +
                                ", after the signature was made (" + format_utc(at) + "): the signature stands"});
    else if (rv.status == RevocationStatus::revoked)
      // Whoever holds a compromised key can claim any earlier time (ETSI EN 319 102-1:
      // REVOKED_NO_POE).
      r.findings.push_back({Severity::indeterminate, "revoked_no_proof_of_time",
                            "the certificate was revoked on " + format_utc(*rv.revocation_time) + reason +
                                "; the signature claims an earlier time (" + format_utc(at) +
                                ") but no timestamp proves it"});
    else if (rv.status == RevocationStatus::unknown)
      r.findings.push_back({Severity::indeterminate, "revocation_unknown",
                            "no revocation information (OCSP or CRL) says whether the certificate was revoked at " +
                                format_utc(at)});
  }
  // The CAs between the signer and the anchor: a revoked one breaks the signature; missing
  // information is noted only (installations rarely publish it for their CAs' issuers).
  for (std::size_t i = 1; i + 1 < chain.chain.size(); ++i) {
    X509* ca = chain.chain[i].get();
    if (std::any_of(ctx.anchors.begin(), ctx.anchors.end(), [&](X509* a) { return X509_cmp(a, ca) == 0; })) break;
    auto rv = detail::check_revocation(ca, chain.chain[i + 1].get(), at, ctx.evidence, cms_crls, pool, ctx.anchors);
    const std::string subject = crypto::name_to_string(X509_get_subject_name(ca));
    if (rv.status == RevocationStatus::revoked && rv.revoked_before_signing)
      r.findings.push_back({Severity::error, "ca_revoked_before_signing",
                            "the issuing CA \"" + subject + "\" was revoked on " + format_utc(*rv.revocation_time) +
                                ", before the signature was made"});
    else if (rv.status == RevocationStatus::unknown)
      r.findings.push_back({Severity::warning, "ca_revocation_unknown",
                            "no revocation information for the issuing CA \"" + subject + "\""});
  }
}

void check_withdrawal(Context& ctx, SignatureReport& r, const X509* signer) {
  if (!ctx.options.withdrawal_lookup || !signer) return;
  auto w = ctx.options.withdrawal_lookup(signer);
  if (!w) return;
  r.findings.push_back({Severity::error, "withdrawn_by_issuer",
                        "the issuer revoked this document's signing certificate on " + format_utc(w->revoked_at) +
                            (w->reason.empty() ? "" : " (" + w->reason + ")") + ": the signature is withdrawn"});
}

void note_expiry(Context& ctx, SignatureReport& r, long long at) {
  if (!r.signer || r.signer->not_after >= ctx.now) return;
  r.chain.signer_expired_now = true;
  if (r.signer->not_after >= at)
    r.findings.push_back({Severity::info, "certificate_expired_since",
                          "the certificate expired on " + format_utc(r.signer->not_after) +
                              ", after the signature was made: this does not affect the signature"});
}

void verify_signature(Context& ctx, const detail::SignatureDictionary& sig, const ByteRangeCheck& br,
                      SignatureReport& r) {
  const bool cades = sig.sub_filter == "ETSI.CAdES.detached";
  if (!cades && sig.sub_filter != "adbe.pkcs7.detached") {
    r.findings.push_back({Severity::indeterminate, "unsupported_sub_filter",
                          "signatures of type /" + sig.sub_filter + " are not validated (supported: adbe.pkcs7.detached, "
                          "ETSI.CAdES.detached, ETSI.RFC3161)"});
    return;
  }
  if (!sig.contents) return;  // reported with the ByteRange
  auto cms = detail::check_cms_signature(crypto::as_bytes(*sig.contents), br.covered, ctx.pool, cades);
  r.findings.insert(r.findings.end(), cms.findings.begin(), cms.findings.end());
  r.integrity.digest_algorithm = cms.digest_algorithm;
  r.integrity.digest_ok = cms.digest_ok;
  r.integrity.signature_ok = cms.signature_ok;
  if (!r.claimed_time) r.claimed_time = cms.signing_time;
  if (!cms.signer) return;
  r.signer = detail::certificate_info(cms.signer.get());

  CertPool pool;
  pool.add_all(cms.certs);
  pool.add_all(ctx.pool);

  // The signature timestamp proves when the signature existed: the signing time, if valid.
  std::optional<long long> proven;
  if (cms.timestamp_token) {
    const crypto::ByteView stamped[] = {cms.signature_value};
    auto tok = detail::check_timestamp_token(*cms.timestamp_token, stamped, pool, ctx.anchors);
    r.timestamp = tok.info;
    auto weak = [&](const char* code, const std::string& message) {
      r.findings.push_back({Severity::warning, code, message + "; the signing time is then only claimed"});
    };
    if (!tok.parse_error.empty()) weak("timestamp_invalid", "the signature timestamp is unusable: " + tok.parse_error);
    else if (!tok.tsa_cert) weak("timestamp_invalid", "the signature timestamp's TSA certificate is missing");
    else if (!tok.info.imprint_ok) weak("timestamp_invalid", "the signature timestamp is not over this signature");
    else if (!tok.info.signature_ok) weak("timestamp_invalid", "the signature timestamp's signature does not verify");
    else if (!tok.info.chain_trusted)
      weak("timestamp_untrusted", "the signature timestamp's TSA does not chain to a trusted root (" + tok.chain.error + ")");
    else if (!tok.info.valid) weak("timestamp_invalid", "OpenSSL rejects the signature timestamp: " + tok.verify_error);
    if (tok.info.valid) {
      // The TSA's own certificate must not have been revoked before it stamped.
      SignatureReport tsa_report;
      tsa_report.signer = tok.info.tsa_certificate;
      check_chain_revocation(ctx, tsa_report, tok.chain, tok.tsa_cert.get(), *tok.info.gen_time, true, tok.certs, {});
      if (tsa_report.revocation.status == RevocationStatus::revoked && tsa_report.revocation.revoked_before_signing) {
        r.timestamp.valid = false;
        weak("timestamp_invalid", "the TSA's certificate was revoked before the timestamp was made");
      } else {
        proven = tok.info.gen_time;
      }
    }
  } else {
    r.findings.push_back({Severity::info, "no_timestamp", "the signature has no signature timestamp"});
  }

  long long at = ctx.now;
  const char* source = "current";
  if (proven) {
    at = *proven;
    source = "timestamp";
    if (r.claimed_time && *r.claimed_time > *proven + kClockSkew)
      r.findings.push_back({Severity::warning, "claimed_time_after_timestamp",
                            "the signer claims to have signed at " + format_utc(*r.claimed_time) +
                                ", after the timestamp over the signature (" + format_utc(*proven) + ")"});
  } else if (r.claimed_time) {
    at = *r.claimed_time;
    source = "claimed";
    r.findings.push_back({Severity::info, "time_not_proven",
                          "the certificate was checked at the time the signer claims (" + format_utc(at) +
                              "); no valid timestamp proves it"});
  } else {
    r.findings.push_back({Severity::info, "no_signing_time", "the signature claims no time: checked as of now"});
  }

  auto chain = detail::verify_chain(cms.signer.get(), pool, ctx.anchors, at, 0);
  fill_chain(r, chain, at, source, "signer's");
  check_chain_revocation(ctx, r, chain, cms.signer.get(), at, proven.has_value(), cms.certs, cms.crls);
  check_withdrawal(ctx, r, cms.signer.get());
  note_expiry(ctx, r, at);
}

void verify_document_timestamp(Context& ctx, const detail::SignatureDictionary& sig, const ByteRangeCheck& br,
                               SignatureReport& r) {
  if (!sig.contents) return;
  auto tok = detail::check_timestamp_token(crypto::as_bytes(*sig.contents), br.covered, ctx.pool, ctx.anchors);
  r.timestamp = tok.info;
  if (!tok.parse_error.empty()) {
    r.findings.push_back({Severity::error, "timestamp_malformed", "the document timestamp is unusable: " + tok.parse_error});
    return;
  }
  r.integrity.digest_ok = tok.info.imprint_ok;
  r.integrity.signature_ok = tok.info.signature_ok;
  if (br.ok && !tok.info.imprint_ok)
    r.findings.push_back({Severity::error, "digest_mismatch", "the timestamped bytes were changed after timestamping"});
  if (!tok.tsa_cert) {
    r.findings.push_back({Severity::indeterminate, "signer_certificate_missing",
                          "the TSA's certificate is neither in the timestamp nor in the document"});
    return;
  }
  r.signer = tok.info.tsa_certificate;
  if (!tok.info.signature_ok)
    r.findings.push_back({Severity::error, "signature_invalid", "the document timestamp's signature does not verify"});
  const long long at = *tok.info.gen_time;
  fill_chain(r, tok.chain, at, "timestamp", "TSA's");
  if (tok.info.imprint_ok && tok.info.signature_ok && tok.info.chain_trusted && !tok.info.valid)
    r.findings.push_back({Severity::error, "timestamp_invalid", "OpenSSL rejects the document timestamp: " + tok.verify_error});
  check_chain_revocation(ctx, r, tok.chain, tok.tsa_cert.get(), at, true, tok.certs, {});
  note_expiry(ctx, r, at);
}

SignatureReport verify_one(Context& ctx, const detail::SignatureDictionary& sig) {
  SignatureReport r;
  r.field_name = sig.field_name;
  r.sub_filter = sig.sub_filter;
  r.kind = sig.type == "/DocTimeStamp" || sig.sub_filter == "ETSI.RFC3161" ? SignatureKind::document_timestamp
                                                                           : SignatureKind::signature;
  r.claimed_time = parse_pdf_date(sig.m);
  r.reason = sig.reason;
  r.location = sig.location;
  r.signer_name = sig.name;
  r.integrity.byte_range = sig.byte_range;
  const auto br = check_byte_range(ctx.pdf, sig, r.findings);
  r.integrity.byte_range_ok = br.ok;
  if (br.ok) check_coverage(ctx, r, br.r[2] + br.r[3]);
  if (r.kind == SignatureKind::document_timestamp) {
    if (sig.sub_filter != "ETSI.RFC3161") {
      r.findings.push_back({Severity::indeterminate, "unsupported_sub_filter",
                            "a document timestamp must be /ETSI.RFC3161, not /" + sig.sub_filter});
      return r;
    }
    verify_document_timestamp(ctx, sig, br, r);
  } else {
    verify_signature(ctx, sig, br, r);
  }
  return r;
}

core::Result<VerificationReport> verify(crypto::ByteView pdf, const VerifyOptions& options) {
  CARTORIO_TRY(auto file, detail::PdfFile::open(as_text(pdf), "input"));
  VerificationReport report;
  report.file_size = pdf.size();
  report.sha256 = crypto::to_hex(crypto::sha256(pdf));
  auto ends = detail::find_revision_ends(as_text(pdf));
  report.revisions = static_cast<int>(ends.size());

  const auto signatures = file.signatures();
  const core::SystemClock system_clock;
  const core::Clock& clock = options.clock ? *options.clock : static_cast<const core::Clock&>(system_clock);
  Context ctx{pdf, options, core::to_unix(clock.now()), {}, {}, {}, detail::RevisionHistory(as_text(pdf), std::move(ends))};
  for (const auto& a : options.trusted_roots)
    if (a) ctx.anchors.push_back(a.get());
  for (const auto& c : options.intermediates) ctx.pool.add(c.get());
  ctx.evidence.live = &options.ocsp_lookup;
  if (!signatures.empty()) {
    const auto dss = file.dss();
    for (const auto& der : dss.certs)
      if (auto c = crypto::parse_certificate(crypto::as_bytes(der))) ctx.pool.add(c->get());
    for (const auto& der : dss.ocsps) {
      const auto* p = reinterpret_cast<const unsigned char*>(der.data());
      if (crypto::OcspResponse r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()))); r)
        ctx.evidence.dss_ocsps.push_back(std::move(r));
    }
    for (const auto& der : dss.crls)
      if (auto c = crypto::parse_crl(crypto::as_bytes(der))) ctx.evidence.dss_crls.push_back(std::move(*c));
    ERR_clear_error();
  }

  for (const auto& sig : signatures) {
    try {
      report.signatures.push_back(verify_one(ctx, sig));
    } catch (const std::exception& e) {
      // A damaged object under one signature does not hide the others.
      SignatureReport r;
      r.field_name = sig.field_name;
      r.sub_filter = sig.sub_filter;
      r.findings.push_back({Severity::indeterminate, "signature_unreadable",
                            std::string("this signature could not be checked: ") + e.what()});
      report.signatures.push_back(std::move(r));
    }
  }
  report.findings = file.damage();
  const auto& all_ends = ctx.history.ends();
  const std::size_t last_end = all_ends.empty() ? 0 : all_ends.back().end;
  const auto tail = as_text(pdf).substr(last_end);
  if (all_ends.empty() || tail.find_first_not_of(" \t\r\n\f", 0) != std::string_view::npos)
    report.findings.push_back({Severity::warning, "no_final_eof",
                               "the file does not end with %%EOF: it may be truncated, or have data appended"});
  return report;
}

}  // namespace

core::Result<VerificationReport> verify_pdf(crypto::ByteView pdf, const VerifyOptions& options) {
  if (pdf.size() > options.max_file_size)
    return core::Error{Errc::pdf_too_large, "the PDF is larger than " + std::to_string(options.max_file_size) + " bytes"};
  // qpdf reports damage by exception, from any call: none may escape.
  try {
    return verify(pdf, options);
  } catch (const std::exception& e) {
    return detail::error_from_exception(e);
  } catch (...) {
    return core::Error{Errc::pdf_malformed, "the PDF cannot be read"};
  }
}

}  // namespace cartorio::signing
