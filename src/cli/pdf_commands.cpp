// `cartorio pdf sign|verify`. `pdf sign` runs flow 1 exactly as the API does: a per-document
// certificate, PAdES at the asked level, the signed PDF in the object store and a document
// record with its audit event; the signed file is also written to -o.
#include "app/document_stack.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace cartorio::cli {
namespace {

struct PdfSignOptions {
  std::string input;
  std::string output;
  std::string level;
  bool visible = false;
  int page = 1;
  std::string title;
  std::string signer;
  std::string signer_cpf;
  std::string signer_name;
  std::string signer_email;
  std::string reason;
  bool json = false;
};

int run_pdf_sign(const CommandContext& ctx, const PdfSignOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto pdf = read_input(o.input, static_cast<std::size_t>(cfg->documents.max_pdf_bytes), core::Errc::pdf_too_large);
  if (!pdf) return fail(pdf.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto stack = app::open_document_stack(*rt, nullptr);
  if (!stack) return fail(stack.error());

  documents::SignDocumentRequest req;
  req.pdf = *pdf;
  req.title = o.title;
  req.owner = rt->actor;
  req.signer_name = o.signer.empty() ? cfg->pki.organization : o.signer;
  req.signatory = {o.signer_cpf, o.signer_name, o.signer_email};
  if (!o.level.empty()) {
    auto level = signing::parse_pades_level(o.level);
    if (!level) return fail(level.error());
    req.level = *level;
  }
  req.visible = o.visible;
  req.page = o.page;
  req.reason = o.reason;
  auto signed_doc = (*stack)->service->sign(req);
  if (!signed_doc) return fail(signed_doc.error());
  if (auto w = write_output(o.output, signed_doc->pdf); !w) return fail(w.error());

  const auto& r = signed_doc->record;
  if (o.json) {
    nlohmann::json j = {{"id", r.id},
                        {"title", r.title},
                        {"level", r.level},
                        {"original_sha256", r.original_sha256},
                        {"signed_sha256", r.signed_sha256},
                        {"signed_size", r.signed_size},
                        {"signer_serial", r.signer_serial},
                        {"created_at", r.created_at},
                        {"output", o.output},
                        {"download_path", signed_doc->download_path},
                        {"link_expires_at", signed_doc->link_expires_at}};
    // Screens and logs show a CPF masked; the whole signatory is in GET /api/v1/documents/{id}.
    if (const auto& cpf = signed_doc->signatory.cpf) j["signer_cpf_masked"] = cpf->masked();
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::fprintf(stderr, "Signed %s (%s) -> %s\n  document:    %s\n  SHA-256:     %s\n  certificate: %s\n",
                 o.input.c_str(), r.level.c_str(), o.output.c_str(), r.id.c_str(), r.signed_sha256.c_str(),
                 r.signer_serial.c_str());
    if (const auto& cpf = signed_doc->signatory.cpf) std::fprintf(stderr, "  signatory:   CPF %s\n", cpf->masked().c_str());
  }
  return kOk;
}

}  // namespace

void add_pdf_commands(CLI::App& app, CommandContext& ctx) {
  auto* pdf = app.add_subcommand("pdf", "sign PDF documents (PAdES) and verify their signatures");
  pdf->require_subcommand(1);

  auto o = std::make_shared<PdfSignOptions>();
  auto* sign = pdf->add_subcommand("sign", "sign a PDF with a per-document certificate (flow 1)");
  sign->add_option("input", o->input, "the PDF to sign (- for stdin)")->required();
  sign->add_option("-o,--output", o->output, "where to write the signed PDF (- for stdout)")->required();
  sign->add_option("--level", o->level, "B-B | B-T | B-LT | B-LTA (default: documents.default_level)");
  sign->add_flag("--visible", o->visible, "draw a stamp with signer, time, document id and a QR code");
  sign->add_option("--page", o->page, "page of the visible stamp (1-based)");
  sign->add_option("--title", o->title, "the document's title (recorded, and in the certificate)");
  sign->add_option("--signer", o->signer,
                   "the signing party's name on the stamp and in the certificate, both public "
                   "(default: pki.organization); not the signatory");
  sign->add_option("--signer-cpf", o->signer_cpf, "the signatory's CPF (the citizen the document is for; stored sealed)");
  sign->add_option("--signer-name", o->signer_name, "the signatory's full name (stored sealed)");
  sign->add_option("--signer-email", o->signer_email, "the signatory's e-mail address (stored sealed)");
  sign->add_option("--reason", o->reason, "/Reason of the signature");
  sign->add_flag("--json", o->json, "print the document record as JSON");
  sign->callback([&ctx, o] { ctx.exit_code = run_pdf_sign(ctx, *o); });

  add_pdf_verify_command(*pdf, ctx);
}

}  // namespace cartorio::cli
