// `cartorio pdf sign|verify`.
#include "cli/commands.h"

#include <CLI/CLI.hpp>

namespace cartorio::cli {

void add_pdf_commands(CLI::App& app, CommandContext& ctx) {
  auto* pdf = app.add_subcommand("pdf", "sign PDF documents (PAdES) and verify their signatures");
  pdf->require_subcommand(1);
  add_pdf_verify_command(*pdf, ctx);
}

}  // namespace cartorio::cli
