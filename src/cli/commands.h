// Subcommand registration. Each add_* wires options into CLI11 and a callback that does the
// work and stores its exit code in the context.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace cartorio::cli {

struct CommandContext {
  std::string data_dir_flag;
  int exit_code = 0;
};

void add_init_command(CLI::App& app, CommandContext& ctx);
void add_serve_command(CLI::App& app, CommandContext& ctx);
void add_ca_commands(CLI::App& app, CommandContext& ctx);
void add_cert_commands(CLI::App& app, CommandContext& ctx);
void add_crl_commands(CLI::App& app, CommandContext& ctx);
void add_ocsp_commands(CLI::App& app, CommandContext& ctx);
void add_user_commands(CLI::App& app, CommandContext& ctx);
void add_pdf_commands(CLI::App& app, CommandContext& ctx);
void add_audit_commands(CLI::App& app, CommandContext& ctx);
void add_object_commands(CLI::App& app, CommandContext& ctx);
void add_pii_commands(CLI::App& app, CommandContext& ctx);
void add_secret_commands(CLI::App& app, CommandContext& ctx);
void add_job_commands(CLI::App& app, CommandContext& ctx);  // jobs list|runs
void add_acme_commands(CLI::App& app, CommandContext& ctx);  // acme eab create
void add_backup_commands(CLI::App& app, CommandContext& ctx);  // backup, restore
// `pdf verify`, registered on the `pdf` subcommand by add_pdf_commands.
void add_pdf_verify_command(CLI::App& pdf, CommandContext& ctx);
// `cert renew-due`, `cert manage`, registered on the `cert` subcommand by add_cert_commands.
void add_cert_renewal_commands(CLI::App& cert, CommandContext& ctx);

}  // namespace cartorio::cli
