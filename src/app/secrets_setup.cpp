#include "app/secrets_setup.h"

#include "app/managed_certificate.h"
#include "core/log.h"
#include "crypto/key_pair.h"
#include "crypto/x509.h"
#include "pki/certificate_issuer.h"

#include <algorithm>

namespace cartorio::app {

namespace {

// A service's client identity: a new P-256 key and a tls-client certificate for CN=<name>
// from the TLS CA, valid a week past the next rotation (so the service has time to pick the
// new one up), as PEM: key, certificate, issuer chain. The previous certificate is left to
// expire, not revoked: a service still holding it keeps working until it reloads.
secrets::Rotator service_certificate_rotator(const Runtime& rt) {
  secrets::Rotator r;
  r.next_value = [&rt](std::string_view name, const std::optional<secrets::Secret>& current)
      -> core::Result<std::string> {
    const int period =
        secrets::service_certificate_period(current ? current->info.rotation_days : rt.config.secrets.rotation_days);
    CARTORIO_TRY(auto key, crypto::generate_key(crypto::KeyAlgorithm::ec_p256));
    CARTORIO_TRY(auto subject, crypto::make_name({{"CN", std::string(name)}}));
    CARTORIO_TRY(auto h, rt.hierarchy());
    pki::CertificateIssuer issuer(h, *rt.keys, *rt.store, *rt.clock, rt.urls());
    pki::CertificateIssuer::KeyedRequest req;
    req.profile = "tls-client";
    req.issuer = pki::kTlsCa;
    req.subject = subject.get();
    req.public_key = key.get();
    req.validity_days = std::min(period + 7, 397);
    req.requester = "secrets:" + rt.actor;
    CARTORIO_TRY(auto issued, issuer.issue_for_key(req));
    CARTORIO_TRY(auto key_pem, crypto::private_key_to_pem(key.get()));
    return key_pem + issued.record.pem + issued.chain_pem;
  };
  return r;
}

}  // namespace

std::unique_ptr<secrets::SecretManager> open_secret_manager(const Runtime& rt, identity::IdentityService* identity) {
  using secrets::Kind;
  auto manager = std::make_unique<secrets::SecretManager>(*rt.secrets, *rt.store, *rt.clock,
                                                          rt.config.secrets.rotation_days);
  manager->set_rotator(Kind::generic, secrets::random_value_rotator());
  manager->set_rotator(Kind::service_certificate, service_certificate_rotator(rt));
  add_managed_certificate_rotators(*manager, rt);  // server-certificate, tls-certificate
  if (identity) {
    secrets::Rotator jwt;
    jwt.next_value = [identity, actor = rt.actor](std::string_view, const std::optional<secrets::Secret>&) {
      return identity->rotate_signing_key(identity::Actor{"secrets:" + actor});
    };
    manager->set_rotator(Kind::jwt_signing_key, std::move(jwt));
    manager->manage(std::string(secrets::kJwtSigningKey), Kind::jwt_signing_key,
                    [identity] { return identity->ensure_signing_key(); });
  }
  if (rt.config.store.backend == "postgres") {
    auto pg = secrets::random_value_rotator();
    store::Store* db = rt.store.get();
    pg.activate = [db](const std::string& password) { return db->change_own_password(password); };
    manager->set_rotator(Kind::postgres_password, std::move(pg));
    if (rt.config.secrets.rotate_postgres_password)
      manager->manage(std::string(secrets::kPostgresPassword), Kind::postgres_password);
  }
  return manager;
}

void add_secret_rotation_job(JobRunner& runner, const Runtime& rt, secrets::SecretManager& manager) {
  Job job;
  job.name = "secret-rotation";
  job.interval = std::chrono::minutes(rt.config.jobs.secret_rotation_check_minutes);
  job.run = [&manager]() -> core::Result<void> {
    CARTORIO_TRY(auto report, manager.rotate_due({"job:secret-rotation", "local", ""}));
    for (const auto& f : report.failures) core::log::error("secret.rotation_failed", {{"problem", f}});
    if (!report.failures.empty())
      return core::Error{core::Errc::store_error, std::to_string(report.failures.size()) +
                                                      " secrets could not be rotated, first: " + report.failures.front()};
    return core::ok();
  };
  runner.add(std::move(job));
}

std::function<std::vector<std::string>()> postgres_password_candidates(secrets::SecretStore& secrets) {
  return [&secrets]() {
    std::vector<std::string> out;
    auto latest = secrets.read(secrets::kPostgresPassword);
    if (!latest) {
      if (latest.error().code != core::Errc::not_found)
        core::log::warn("secret.unreadable", {{"secret", std::string(secrets::kPostgresPassword)},
                                              {"error", latest.error().to_string()}});
      return out;
    }
    if (latest->info.kind != secrets::Kind::postgres_password) return out;
    out.push_back(std::move(latest->value));
    // Two older ones too: a rotation recorded but not (or not yet) in force, or two
    // instances' rotations crossing.
    for (std::int64_t v = latest->info.version - 1; v >= 1 && v >= latest->info.version - 2; --v)
      if (auto older = secrets.read(secrets::kPostgresPassword, v)) out.push_back(std::move(older->value));
    return out;
  };
}

}  // namespace cartorio::app
