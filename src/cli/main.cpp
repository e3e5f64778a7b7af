// `cartorio`: one binary, thin subcommands over the domain (see docs/cli.md).
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <exception>

namespace {

int run(int argc, char** argv) {
  using namespace cartorio::cli;
  // Databases, keys, CRL drafts: nothing this process creates is for other users' eyes.
  ::umask(077);
  CLI::App app{"Cartório Digital: digital notary and private PKI"};
  app.set_version_flag("--version", "cartorio 0.1.0");
  app.require_subcommand(1);
  CommandContext ctx;
  // Every subcommand takes --data-dir; declared once and inherited.
  app.option_defaults()->always_capture_default(false);
  app.add_option("--data-dir", ctx.data_dir_flag, "installation directory (default $CARTORIO_DATA_DIR or ./cartorio-data)")
      ->configurable(false);
  app.fallthrough();

  add_init_command(app, ctx);
  add_serve_command(app, ctx);
  add_ca_commands(app, ctx);
  add_cert_commands(app, ctx);
  add_crl_commands(app, ctx);
  add_ocsp_commands(app, ctx);
  add_user_commands(app, ctx);
  add_pdf_commands(app, ctx);
  add_audit_commands(app, ctx);
  add_object_commands(app, ctx);
  add_pii_commands(app, ctx);
  add_secret_commands(app, ctx);
  add_job_commands(app, ctx);
  add_acme_commands(app, ctx);
  add_backup_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  return ctx.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // Errors are values; an exception reaching here (std::bad_alloc, a library's) is a bug or
  // an exhausted machine: reported like any internal error rather than by std::terminate.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    return cartorio::cli::kFailure;
  }
}
