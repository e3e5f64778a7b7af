// `cartorio pdf verify IN.pdf [--json] [--trust ROOTS.pem]...`: validates every signature
// of a PDF (signing/pdf_verifier.h). Exit 0 only when every signature is valid;
// kSignatureInvalid when one is invalid; kSignatureIndeterminate when none is invalid but
// one cannot be confirmed (untrusted chain, no revocation information, changed after
// signing) or the PDF has no signature; kBadInput when the file is not a readable PDF.
//
// Trust: the installation's root (when the data dir holds one) and every certificate of the
// --trust files. For the installation's own CAs, revocation is asked in process from the
// OCSP sources the server answers with (live for tls/document, pre-signed for the root).
#include "app/document_stack.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "core/files.h"
#include "crypto/x509.h"
#include "signing/pdf_verifier.h"
#include "signing/verification_report.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::cli {

using core::Errc;

namespace {

struct PdfVerifyOptions {
  std::string input;
  bool json = false;
  std::vector<std::string> trust;
};

// The installation's side of a verification (app::installation_verify_options): its root
// and CA certificates, and revocation asked of its own sources. Kept alive while
// verify_pdf runs.
struct Installation {
  std::optional<app::Runtime> rt;
  std::optional<pki::Hierarchy> hierarchy;
  std::optional<ocsp::CachedSources> sources;
};

void open_installation(const CommandContext& ctx, Installation& inst, signing::VerifyOptions& vo, bool have_trust) {
  const std::string dir = resolve_data_dir(ctx.data_dir_flag);
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "config.toml", ec)) {
    if (!have_trust)
      std::fprintf(stderr, "note: no installation in %s and no --trust: no certificate can be trusted\n", dir.c_str());
    return;
  }
  auto warn = [&](const core::Error& e) {
    std::fprintf(stderr, "note: the installation in %s is not used (%s)%s\n", dir.c_str(), e.to_string().c_str(),
                 have_trust ? "" : ": no certificate can be trusted");
  };
  auto cfg = load_cli_config(dir);
  if (!cfg) return warn(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli:pdf-verify", app::OpenMode::existing);
  if (!rt) return warn(rt.error());
  inst.rt.emplace(std::move(*rt));
  auto h = inst.rt->hierarchy();
  if (!h) return warn(h.error());
  inst.hierarchy.emplace(std::move(*h));
  auto sources = inst.rt->ocsp_sources();
  if (!sources) return warn(sources.error());
  inst.sources.emplace(std::move(*sources));
  auto own = app::installation_verify_options(*inst.rt, *inst.hierarchy, inst.sources->sources);
  for (auto& c : own.trusted_roots) vo.trusted_roots.push_back(std::move(c));
  for (auto& c : own.intermediates) vo.intermediates.push_back(std::move(c));
  vo.ocsp_lookup = std::move(own.ocsp_lookup);
}

int status_exit_code(signing::DocumentStatus s) {
  switch (s) {
    case signing::DocumentStatus::valid: return kOk;
    case signing::DocumentStatus::invalid: return kSignatureInvalid;
    case signing::DocumentStatus::indeterminate:
    case signing::DocumentStatus::no_signatures: return kSignatureIndeterminate;
  }
  return kSignatureIndeterminate;
}

int run_verify(const CommandContext& ctx, const PdfVerifyOptions& o) {
  signing::VerifyOptions vo;
  auto pdf = read_input(o.input, vo.max_file_size, Errc::pdf_too_large);
  if (!pdf) return fail(pdf.error());
  for (const auto& path : o.trust) {
    auto pem = core::read_file(path);
    if (!pem) return fail(pem.error());
    auto certs = crypto::parse_certificate_chain(*pem);
    if (!certs) return fail({certs.error().code, path + ": " + certs.error().message});
    for (auto& c : *certs) vo.trusted_roots.push_back(std::move(c));
  }
  Installation inst;
  open_installation(ctx, inst, vo, !o.trust.empty());

  auto report = signing::verify_pdf(crypto::as_bytes(*pdf), vo);
  if (!report) return fail(report.error());
  const std::string out = o.json ? signing::to_json(*report).dump(2) + "\n" : signing::to_text(*report);
  if (auto w = write_output("-", out); !w) return fail(w.error());
  return status_exit_code(report->status());
}

}  // namespace

void add_pdf_verify_command(CLI::App& pdf, CommandContext& ctx) {
  auto o = std::make_shared<PdfVerifyOptions>();
  auto* v = pdf.add_subcommand("verify", "validate every signature of a PDF; exit 0 only when all are valid");
  v->add_option("input", o->input, "the signed PDF (- for standard input)")->required();
  v->add_flag("--json", o->json, "print the report as JSON");
  // One file per --trust, so `--trust roots.pem IN.pdf` does not read IN.pdf as a root file.
  v->add_option("--trust", o->trust, "PEM file of trusted root certificates (repeatable), besides the installation's root")
      ->allow_extra_args(false);
  v->callback([&ctx, o] { ctx.exit_code = run_verify(ctx, *o); });
}

}  // namespace cartorio::cli
