// `cartorio cert issue|revoke|list|show`.
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "crypto/bytes.h"
#include "crypto/x509.h"
#include "pki/certificate_issuer.h"
#include "pki/certificate_json.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

namespace cartorio::cli {

namespace {

using pki::iso8601;
using pki::to_json;

struct IssueOptions {
  std::string profile;
  std::string csr;
  std::string ca;
  int validity_days = 0;
  std::string out;
  bool chain = false;
  bool json = false;
};

struct RevokeOptions {
  std::string serial;
  std::string reason = "unspecified";
  bool json = false;
};

struct ListOptions {
  std::string expiring_within;
  std::string status;
  std::string profile;
  std::string ca;
  int limit = 100;
  int offset = 0;
  bool json = false;
};

struct ShowOptions {
  std::string serial;
  bool json = false;
};

core::Result<app::Runtime> open(const CommandContext& ctx) {
  CARTORIO_TRY(auto cfg, load_cli_config(resolve_data_dir(ctx.data_dir_flag)));
  return app::open_runtime(cfg, "cli", app::OpenMode::existing);
}

int run_issue(const CommandContext& ctx, const IssueOptions& o) {
  auto csr = read_input(o.csr);
  if (!csr) return fail(csr.error());
  auto rt = open(ctx);
  if (!rt) return fail(rt.error());
  auto h = rt->hierarchy();
  if (!h) return fail(h.error());
  pki::CertificateIssuer issuer(*h, *rt->keys, *rt->store, *rt->clock, rt->urls());
  pki::IssueRequest req;
  req.profile = o.profile;
  req.csr = crypto::as_bytes(*csr);
  if (!o.ca.empty()) req.issuer = o.ca;
  if (o.validity_days > 0) req.validity_days = o.validity_days;
  req.requester = rt->actor;
  auto issued = issuer.issue(req);
  if (!issued) return fail(issued.error());
  std::string text;
  if (o.json) {
    auto j = to_json(issued->record, true);
    j["chain"] = issued->chain_pem;
    text = j.dump(2) + "\n";
  } else {
    text = issued->record.pem + (o.chain ? issued->chain_pem : "");
  }
  if (auto r = write_output(o.out, text); !r) return fail(r.error());
  std::fprintf(stderr, "issued %s certificate serial %s\n", o.profile.c_str(), issued->record.serial.c_str());
  return kOk;
}

int run_revoke(const CommandContext& ctx, const RevokeOptions& o) {
  auto reason = pki::parse_revocation_reason(o.reason);
  if (!reason) return fail(reason.error());
  auto rt = open(ctx);
  if (!rt) return fail(rt.error());
  auto revoked = app::revoke_certificate(*rt, o.serial, *reason, rt->actor, "local");
  if (!revoked) return fail(revoked.error());
  for (const auto& problem : revoked->warnings) std::fprintf(stderr, "warning: %s\n", problem.c_str());
  const store::CertificateRecord* rec = &revoked->record;
  if (o.json) std::printf("%s\n", to_json(*rec, false).dump(2).c_str());
  else std::printf("revoked %s (%s)\n", rec->serial.c_str(), o.reason.c_str());
  return kOk;
}

int run_list(const CommandContext& ctx, const ListOptions& o) {
  store::CertificateFilter f;
  f.limit = o.limit;
  f.offset = o.offset;
  if (!o.status.empty()) f.status = o.status == "revoked" ? store::CertificateStatus::revoked : store::CertificateStatus::good;
  if (!o.profile.empty()) f.profile = o.profile;
  if (!o.ca.empty()) f.issuer = o.ca;
  auto rt = open(ctx);
  if (!rt) return fail(rt.error());
  if (!o.expiring_within.empty()) {
    auto secs = parse_duration(o.expiring_within);
    if (!secs) return fail(secs.error());
    const auto now = core::to_unix(rt->clock->now());
    f.not_after_before = now + *secs;
    f.not_after_after = now;  // already expired is not "expiring"
    f.status = f.status.value_or(store::CertificateStatus::good);
  }
  auto list = rt->store->list_certificates(f);
  if (!list) return fail(list.error());
  if (o.json) {
    auto arr = nlohmann::ordered_json::array();
    for (const auto& r : *list) arr.push_back(to_json(r, false));
    std::printf("%s\n", arr.dump(2).c_str());
  } else {
    std::printf("%-34s %-8s %-16s %-7s %-20s %s\n", "SERIAL", "CA", "PROFILE", "STATUS", "NOT AFTER", "SUBJECT");
    for (const auto& r : *list)
      std::printf("%-34s %-8s %-16s %-7s %-20s %s\n", r.serial.c_str(), r.issuer.c_str(), r.profile.c_str(),
                  std::string(store::to_string(r.status)).c_str(), iso8601(r.not_after).c_str(), r.subject.c_str());
  }
  return kOk;
}

int run_show(const CommandContext& ctx, const ShowOptions& o) {
  auto rt = open(ctx);
  if (!rt) return fail(rt.error());
  auto serial = crypto::serial_from_hex(o.serial);
  if (!serial) return fail(serial.error());
  auto rec = rt->store->get_certificate(crypto::serial_hex(serial->get()));
  if (!rec) return fail(rec.error());
  if (o.json) std::printf("%s\n", to_json(*rec, true).dump(2).c_str());
  else std::printf("%s", rec->pem.c_str());
  return kOk;
}

}  // namespace

void add_cert_commands(CLI::App& app, CommandContext& ctx) {
  auto* cert = app.add_subcommand("cert", "certificates");
  cert->require_subcommand(1);

  auto io = std::make_shared<IssueOptions>();
  auto* issue = cert->add_subcommand("issue", "issue a certificate from a CSR (PEM to stdout)");
  issue->add_option("--profile", io->profile, "tls-server | tls-client | document-signing | ocsp | tsa")->required();
  issue->add_option("--csr", io->csr, "PKCS#10 request, PEM or DER ('-' for stdin)")->required();
  issue->add_option("--ca", io->ca, "issuing CA (default: the profile's)");
  issue->add_option("--validity-days", io->validity_days, "validity (default: the profile's)");
  issue->add_option("--out,-o", io->out, "file to write (default stdout)");
  issue->add_flag("--chain", io->chain, "append the issuer chain");
  issue->add_flag("--json", io->json, "JSON with the record, PEM and chain");
  issue->callback([&ctx, io] { ctx.exit_code = run_issue(ctx, *io); });

  auto ro = std::make_shared<RevokeOptions>();
  auto* revoke = cert->add_subcommand("revoke", "revoke a certificate");
  revoke->add_option("serial", ro->serial, "serial number (hex)")->required();
  revoke->add_option("--reason", ro->reason,
                     "unspecified | keyCompromise | cACompromise | affiliationChanged | superseded | "
                     "cessationOfOperation | privilegeWithdrawn");
  revoke->add_flag("--json", ro->json, "JSON output");
  revoke->callback([&ctx, ro] { ctx.exit_code = run_revoke(ctx, *ro); });

  auto lo = std::make_shared<ListOptions>();
  auto* list = cert->add_subcommand("list", "list certificates");
  list->add_option("--expiring-within", lo->expiring_within, "e.g. 30d: valid certificates expiring within that time");
  list->add_option("--status", lo->status, "good | revoked")->check(CLI::IsMember({"good", "revoked"}));
  list->add_option("--profile", lo->profile, "profile name");
  list->add_option("--ca", lo->ca, "issuing CA")->check(CLI::IsMember({"root", "tls", "document"}));
  list->add_option("--limit", lo->limit, "page size (max 1000)")->check(CLI::Range(1, 1000));
  list->add_option("--offset", lo->offset, "page start")->check(CLI::NonNegativeNumber);
  list->add_flag("--json", lo->json, "JSON output");
  list->callback([&ctx, lo] { ctx.exit_code = run_list(ctx, *lo); });

  auto so = std::make_shared<ShowOptions>();
  auto* show = cert->add_subcommand("show", "print one certificate (PEM, or --json)");
  show->add_option("serial", so->serial, "serial number (hex)")->required();
  show->add_flag("--json", so->json, "JSON output with the PEM");
  show->callback([&ctx, so] { ctx.exit_code = run_show(ctx, *so); });
  add_cert_renewal_commands(*cert, ctx);
}

}  // namespace cartorio::cli
