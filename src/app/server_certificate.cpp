#include "app/server_certificate.h"

#include "app/managed_certificate.h"
#include "core/log.h"

#include <algorithm>

namespace cartorio::app {

using core::Errc;

namespace {

const std::string kName(secrets::kServerCertificate);

// Why the stored version cannot be served ("" when it can).
std::string unusable(const Runtime& rt, const secrets::Secret& secret, const ManagedCertificate& cert) {
  if (secret.info.kind != secrets::Kind::server_certificate) return "it is not a server-certificate";
  if (cert.not_after <= rt.clock->now()) return "expired";
  auto wanted = parse_tls_names(rt.config.server.tls_names);
  auto rec = rt.store->get_certificate(cert.serial);
  if (!wanted || !rec) return "its issuance record cannot be read";
  std::vector<std::string> names;
  for (const auto& n : *wanted) names.push_back(n.display());
  std::vector<std::string> have = rec->sans;
  std::sort(names.begin(), names.end());
  std::sort(have.begin(), have.end());
  return names == have ? "" : "its names are not server.tls_names";
}

ServerIdentity identity_of(ManagedCertificate cert, http::TlsIdentity tls) {
  return ServerIdentity{std::move(tls), cert.not_before, cert.not_after};
}

}  // namespace

ServerCertificateSource::ServerCertificateSource(const Runtime& rt)
    : m_rt(rt), m_manager(std::make_unique<secrets::SecretManager>(*rt.secrets, *rt.store, *rt.clock, 0)) {
  add_managed_certificate_rotators(*m_manager, rt);
  m_manager->manage(kName, secrets::Kind::server_certificate);
}

core::Result<ServerIdentity> ServerCertificateSource::load() {
  std::string why = "absent";
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto secret = m_rt.secrets->read(kName);  // internal read, like the pool's password: not audited
    if (!secret && secret.error().code != Errc::not_found) return std::move(secret).error();
    if (secret) {
      auto cert = parse_managed_certificate(secret->value);
      why = cert ? unusable(m_rt, *secret, *cert) : cert.error().message;
      if (why.empty()) {
        CARTORIO_TRY(auto tls, http::TlsIdentity::from_pem(cert->chain_pem, std::move(cert->key)));
        m_version = secret->info.version;
        m_not_after = cert->not_after;
        return identity_of(std::move(*cert), std::move(tls));
      }
      if (secret->info.kind != secrets::Kind::server_certificate)
        return core::Error{Errc::conflict, "secret " + kName + " is a " + std::string(to_string(secret->info.kind))};
    }
    if (attempt > 0) break;
    core::log::write(why == "absent" ? core::log::Level::info : core::log::Level::warn, "tls.server_certificate_issue",
                     {{"certificate", kName}, {"why", why}});
    auto issued = m_manager->rotate(kName, {m_rt.actor, "local", ""}, "issue");
    // Another instance issued at the same moment: its version is as good, read it.
    if (!issued && issued.error().code != Errc::conflict) return std::move(issued).error();
  }
  return core::Error{Errc::store_error, "secret " + kName + " is not usable after issuing it: " + why};
}

core::Result<std::optional<ServerIdentity>> ServerCertificateSource::refresh() {
  CARTORIO_TRY(auto latest, m_rt.secrets->latest(kName));
  if (latest.version == m_version && m_rt.clock->now() < m_not_after) return std::optional<ServerIdentity>();
  const auto before = m_version;
  CARTORIO_TRY(auto identity, load());
  if (m_version == before) return std::optional<ServerIdentity>();
  return std::optional<ServerIdentity>(std::move(identity));
}

void add_tls_reload_job(JobRunner& runner, const Runtime& rt, std::shared_ptr<ServerCertificateSource> source,
                        std::function<core::Result<void>(const http::TlsIdentity&)> apply) {
  Job job;
  job.name = "tls.reload";
  job.interval = std::chrono::seconds(rt.config.renewal.reload_seconds);
  job.per_process = true;  // every server reloads its own listener
  job.audited = false;     // polls every minute; a reload is logged
  job.run = [source = std::move(source), apply = std::move(apply)]() -> core::Result<void> {
    CARTORIO_TRY(auto renewed, source->refresh());
    if (!renewed) return core::ok();
    if (auto applied = apply(renewed->tls); !applied) {
      source->forget();  // tried again on the next run
      return applied;
    }
    core::log::info("tls.reloaded", {{"version", source->version()},
                                     {"not_after", static_cast<std::int64_t>(core::to_unix(renewed->not_after))}});
    return core::ok();
  };
  runner.add(std::move(job));
}

}  // namespace cartorio::app
