// libFuzzer target: untrusted bytes through signing::verify_pdf, as `cartorio pdf verify`
// reads an uploaded or given file (docs/fuzzing.md): qpdf's parser and xref recovery, the
// AcroForm walk, ByteRange checks, the revision analysis (each revision parsed again), CMS
// and time-stamp token parsing, DSS streams (Flate-decoded, capped).
//
// Invariants, whatever the input:
//   - verify_pdf returns, with a report or one of the PDF input errors;
//   - without trust anchors no signature is valid (nothing can chain to a root);
//   - the report serialises: to_json(...).dump() and to_text() do not throw.
// Anything else aborts (a crash for libFuzzer).
//
// Run with -max_len (fuzz/run.sh passes 65536): qpdf allocates generously while it
// reconstructs a damaged file, and the verifier's own size limit here is 1 MiB.
#include "core/clock.h"
#include "crypto/bytes.h"
#include "signing/pdf_verifier.h"
#include "signing/verification_report.h"

#include <nlohmann/json.hpp>
#include <openssl/err.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

using namespace cartorio;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pdf_verify_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

bool is_input_error(core::Errc c) {
  return c == core::Errc::not_a_pdf || c == core::Errc::pdf_malformed || c == core::Errc::pdf_encrypted ||
         c == core::Errc::pdf_too_large || c == core::Errc::pdf_unsupported;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A fixed "now", so a crash replays the same way.
  static const core::ManualClock clock(core::from_unix(1767225600));  // 2026-01-01
  signing::VerifyOptions options;
  options.max_file_size = std::size_t{1} << 20;
  options.clock = &clock;
  ERR_clear_error();
  auto report = signing::verify_pdf(crypto::ByteView(data, size), options);
  if (!report) {
    if (!is_input_error(report.error().code)) die("unexpected error " + report.error().to_string());
    return 0;
  }
  for (const auto& s : report->signatures)
    if (s.status() == signing::SignatureStatus::valid) die("a signature is valid without any trust anchor");
  try {
    const std::string json = signing::to_json(*report).dump();
    const std::string text = signing::to_text(*report);
    if (json.empty() || text.empty()) die("empty report");
  } catch (const std::exception& e) {
    die(std::string("the report does not serialise: ") + e.what());
  }
  return 0;
}
