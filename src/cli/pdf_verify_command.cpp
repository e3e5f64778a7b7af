// `cartorio pdf verify IN.pdf [--json]`.
#include "cli/commands.h"

#include <CLI/CLI.hpp>

namespace cartorio::cli {

void add_pdf_verify_command(CLI::App&, CommandContext&) {}

}  // namespace cartorio::cli
