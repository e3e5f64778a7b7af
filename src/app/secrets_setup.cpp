#include "app/secrets_setup.h"

#include "core/log.h"

namespace cartorio::app {

std::unique_ptr<secrets::SecretManager> open_secret_manager(const Runtime& rt, identity::IdentityService* identity) {
  using secrets::Kind;
  auto manager = std::make_unique<secrets::SecretManager>(*rt.secrets, *rt.store, *rt.clock,
                                                          rt.config.secrets.rotation_days);
  manager->set_rotator(Kind::generic, secrets::random_value_rotator());
  if (identity) {
    secrets::Rotator jwt;
    jwt.next_value = [identity, actor = rt.actor](const std::optional<secrets::Secret>&) {
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
    out.push_back(std::move(latest->value));
    if (latest->info.version > 1)
      if (auto previous = secrets.read(secrets::kPostgresPassword, latest->info.version - 1))
        out.push_back(std::move(previous->value));
    return out;
  };
}

}  // namespace cartorio::app
