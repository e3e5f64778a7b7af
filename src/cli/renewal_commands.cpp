// `cartorio cert renew-due [--dry-run]` (the cert-expiry-check job, once) and `cartorio cert
// manage NAME --dns ...` (register a TLS certificate for automatic renewal): see
// docs/operations.md, "Certificate renewal". Registered on `cert` by add_cert_commands.
#include "app/certificate_renewal.h"
#include "app/managed_certificate.h"
#include "app/secrets_setup.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "pki/certificate_json.h"
#include "secrets/secret_json.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace cartorio::cli {
namespace {

using nlohmann::json;

secrets::Caller cli_caller() { return {operator_name(), "local", ""}; }

std::string time_text(core::TimePoint t) { return pki::iso8601(core::to_unix(t)); }

struct RenewOptions {
  bool dry_run = false;
};

int run_renew_due(const CommandContext& ctx, const RenewOptions& o) {
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto manager = app::open_secret_manager(*rt, nullptr);
  app::CertificateRenewer renewer(*rt, *manager, app::RenewalSettings::from(rt->config));
  auto report = renewer.run(o.dry_run, cli_caller());
  if (!report) return fail(report.error());
  json checked = json::array(), renewed = json::array(), failures = json::array();
  for (const auto& c : report->checked) {
    json j{{"name", c.name}, {"kind", secrets::to_string(c.kind)}, {"version", c.version}};
    if (c.problem.empty()) {
      j.update({{"serial", c.serial}, {"not_after", time_text(c.not_after)}, {"due_at", time_text(c.due_at)},
                {"due", c.due}});
    } else {
      j["problem"] = c.problem;
      failures.push_back({{"name", c.name}, {"stage", "read"}, {"message", c.problem}});
    }
    checked.push_back(std::move(j));
  }
  core::Errc first = core::Errc::internal;
  for (const auto& r : report->outcomes) {
    if (r.version > 0)
      renewed.push_back({{"name", r.name}, {"kind", secrets::to_string(r.kind)}, {"version", r.version},
                         {"serial", r.serial}, {"not_after", time_text(r.not_after)}, {"deployed", !r.failed()}});
    if (r.failed()) {
      if (failures.empty()) first = r.error.code;
      failures.push_back({{"name", r.name}, {"stage", r.stage}, {"code", core::errc_name(r.error.code)},
                          {"message", r.error.message}, {"attempt", r.attempt}});
    }
  }
  std::cout << json{{"dry_run", o.dry_run}, {"checked", checked}, {"renewed", renewed}, {"failures", failures}}.dump(2)
            << "\n";
  if (failures.empty()) return kOk;
  return first == core::Errc::internal ? kFailure : exit_code_for(first);
}

struct ManageOptions {
  std::string name;
  std::vector<std::string> dns;
  std::vector<std::string> ip;
  int validity_days = 90;
};

int run_manage(const CommandContext& ctx, const ManageOptions& o) {
  std::vector<pki::SubjectAltName> sans;
  for (const auto& d : o.dns) sans.push_back({pki::SanKind::dns, d});
  for (const auto& i : o.ip) sans.push_back({pki::SanKind::ip, i});
  if (sans.empty()) return fail({core::Errc::invalid_argument, "give at least one --dns or --ip name"});
  auto cfg = load_cli_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  auto rt = app::open_runtime(*cfg, "cli", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  auto info = app::manage_tls_certificate(*rt, o.name, sans, o.validity_days, cli_caller());
  if (!info) return fail(info.error());
  std::cout << secrets::info_json(*info).dump(2) << "\n";
  return kOk;
}

}  // namespace

void add_cert_renewal_commands(CLI::App& cert, CommandContext& ctx) {
  cert.alias("certs");  // both spellings: `cartorio certs renew-due` reads naturally too

  auto ro = std::make_shared<RenewOptions>();
  auto* renew = cert.add_subcommand("renew-due", "renew the managed TLS certificates expiring within "
                                                  "renewal.window_days, then deploy (the cert-expiry-check job, once)");
  renew->add_flag("--dry-run", ro->dry_run, "only list the managed certificates and which are due");
  renew->callback([&ctx, ro] { ctx.exit_code = run_renew_due(ctx, *ro); });

  auto mo = std::make_shared<ManageOptions>();
  auto* manage = cert.add_subcommand("manage", "register a TLS server certificate for automatic renewal "
                                               "(a tls-certificate secret: key, certificate, chain)");
  manage->add_option("name", mo->name, "secret name ([a-z0-9._-], up to 64)")->required();
  manage->add_option("--dns", mo->dns, "DNS name (repeatable; the first name is the CN)")->delimiter(',');
  manage->add_option("--ip", mo->ip, "IP address (repeatable)")->delimiter(',');
  manage->add_option("--validity-days", mo->validity_days, "validity of each certificate (1..397)")
      ->check(CLI::Range(1, 397));
  manage->callback([&ctx, mo] { ctx.exit_code = run_manage(ctx, *mo); });
}

}  // namespace cartorio::cli
