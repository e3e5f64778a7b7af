#include "secrets/secret_manager.h"

#include "core/log.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace cartorio::secrets {

using core::Errc;
using core::Error;

SecretManager::SecretManager(SecretStore& secrets, store::AuditLog& audit, const core::Clock& clock,
                             int default_rotation_days)
    : m_secrets(secrets), m_audit(audit), m_clock(clock), m_default_rotation_days(default_rotation_days) {}

void SecretManager::set_rotator(Kind kind, Rotator rotator) { m_rotators[kind] = std::move(rotator); }

void SecretManager::manage(std::string name, Kind kind, std::function<core::Result<std::string>()> adopt) {
  m_managed[std::move(name)] = Managed{kind, std::move(adopt)};
}

core::Result<std::vector<SecretInfo>> SecretManager::versions(std::string_view name) {
  CARTORIO_TRY(auto all, m_secrets.versions(name));
  if (all.empty()) return Error(Errc::not_found, "no secret " + std::string(name));
  return all;
}

core::Result<void> SecretManager::audit(const Caller& who, std::string_view action, std::string_view target,
                                        const core::Result<void>& outcome, std::int64_t version) {
  store::AuditEvent e;
  e.time = core::to_unix(m_clock.now());
  e.actor = who.actor;
  e.action = std::string(action);
  e.target = std::string(target);
  e.result = outcome ? "success" : std::string(core::errc_name(outcome.error().code));
  e.source = who.source.empty() ? "local" : who.source;
  e.request_id = who.request_id;
  if (version > 0) e.details = nlohmann::json{{"version", version}}.dump();
  auto appended = m_audit.append_audit_event(e);
  if (!appended) {
    core::log::error("audit.write_failed", {{"action", std::string(action)}, {"error", appended.error().to_string()}});
    return Error(Errc::store_unavailable, "the audit event could not be recorded: " + appended.error().message);
  }
  return core::ok();
}

core::Result<Secret> SecretManager::reveal(std::string_view name, std::optional<std::int64_t> version,
                                           const Caller& who) {
  auto secret = m_secrets.read(name, version);
  const core::Result<void> outcome = secret ? core::ok() : core::Result<void>(secret.error());
  // Fail closed: a value whose reading cannot be recorded is not handed out.
  CARTORIO_TRY_VOID(audit(who, "secret.read", name, outcome, secret ? secret->info.version : version.value_or(0)));
  return secret;
}

core::Result<SecretInfo> SecretManager::put(std::string_view name, std::string_view value,
                                            std::optional<int> rotation_days, const Caller& who) {
  CARTORIO_TRY_VOID(check_secret_name(name));
  if (m_managed.count(name) || is_reserved_name(name))
    return Error(Errc::invalid_argument, "secret " + std::string(name) + " is managed by the installation: rotate it");
  if (rotation_days && *rotation_days < 0) return Error(Errc::invalid_argument, "rotation_days cannot be negative");
  SecretInfo next;
  next.name = std::string(name);
  next.kind = Kind::generic;
  next.version = 1;
  next.rotation_days = rotation_days.value_or(m_default_rotation_days);
  auto latest = m_secrets.latest(name);
  if (latest) {
    if (latest->kind != Kind::generic)
      return Error(Errc::invalid_argument, "secret " + std::string(name) + " is a " +
                                               std::string(to_string(latest->kind)) + ": rotate it");
    next.version = latest->version + 1;
    next.rotation_days = rotation_days.value_or(latest->rotation_days);
  } else if (latest.error().code != Errc::not_found) {
    return std::move(latest).error();
  }
  next.created_at = core::to_unix(m_clock.now());
  next.created_by = who.actor;
  next.reason = "put";
  auto written = m_secrets.write(next, value);
  CARTORIO_TRY_VOID(audit(who, "secret.put", name, written, next.version));
  CARTORIO_TRY_VOID(written);
  return next;
}

core::Result<SecretInfo> SecretManager::rotate(std::string_view name, const Caller& who, std::string_view reason,
                                               std::optional<Kind> create) {
  return rotate_audited(name, who, reason, create, std::nullopt);
}

core::Result<SecretInfo> SecretManager::rotate_audited(std::string_view name, const Caller& who,
                                                       std::string_view reason, std::optional<Kind> create,
                                                       std::optional<std::int64_t> expected) {
  auto rotated = rotate_checked(name, who, reason, create, expected);
  const core::Result<void> outcome = rotated ? core::ok() : core::Result<void>(rotated.error());
  if (auto a = audit(who, "secret.rotate", name, outcome, rotated ? rotated->version : 0); !a && rotated)
    core::log::error("secret.rotate_unaudited", {{"secret", std::string(name)}});  // the rotation stands
  return rotated;
}

core::Result<SecretInfo> SecretManager::rotate_checked(std::string_view name, const Caller& who,
                                                       std::string_view reason, std::optional<Kind> create,
                                                       std::optional<std::int64_t> expected) {
  CARTORIO_TRY_VOID(check_secret_name(name));
  std::optional<Secret> current;
  auto read = m_secrets.read(name);
  if (read) current = std::move(*read);
  else if (read.error().code != Errc::not_found) return std::move(read).error();
  if (expected && (current ? current->info.version : 0) != *expected)
    return Error(Errc::conflict, "secret " + std::string(name) + " was rotated by someone else meanwhile");
  const auto managed = m_managed.find(name);
  if (create && is_reserved_name(name))
    return Error(Errc::invalid_argument, "secret " + std::string(name) + " is the installation's own: " +
                                             "it is created by the rotation job");
  if (create && (*create == Kind::postgres_password || *create == Kind::jwt_signing_key ||
                 *create == Kind::server_certificate))
    return Error(Errc::invalid_argument, "a " + std::string(to_string(*create)) + " secret is the installation's own: " +
                                             "it is created by the rotation job");
  if (create && current && current->info.kind != *create)
    return Error(Errc::invalid_argument, "secret " + std::string(name) + " is a " +
                                             std::string(to_string(current->info.kind)));
  if (!current && managed == m_managed.end() && !create)
    return Error(Errc::not_found, "no secret " + std::string(name));
  const Kind kind = current ? current->info.kind : managed != m_managed.end() ? managed->second.kind : *create;
  const auto rotator = m_rotators.find(kind);
  if (rotator == m_rotators.end() || !rotator->second.next_value)
    return Error(Errc::not_supported, "secrets of kind " + std::string(to_string(kind)) + " cannot be rotated here");

  CARTORIO_TRY(auto value, rotator->second.next_value(name, current));
  SecretInfo next;
  next.name = std::string(name);
  next.kind = kind;
  next.version = current ? current->info.version + 1 : 1;
  next.created_at = core::to_unix(m_clock.now());
  next.created_by = who.actor;
  next.reason = std::string(reason);
  next.rotation_days = current ? current->info.rotation_days : m_default_rotation_days;
  if (kind == Kind::service_certificate) next.rotation_days = service_certificate_period(next.rotation_days);
  // Renewed by the cert-expiry-check job as their certificate nears its end, not by period.
  if (kind == Kind::server_certificate || kind == Kind::tls_certificate) next.rotation_days = 0;
  CARTORIO_TRY_VOID(m_secrets.write(next, value));
  if (rotator->second.activate) {
    if (auto active = rotator->second.activate(value); !active) {
      core::log::error("secret.activate_failed", {{"secret", next.name}, {"error", active.error().to_string()}});
      // The previous value back as the newest version (the first one's own value when there
      // was none: it is not in force, and the pool falls back to the configured password),
      // dated so that the schedule tries again in an hour rather than a whole period later.
      SecretInfo revert = current ? current->info : next;
      revert.version = next.version + 1;
      revert.created_by = who.actor;
      revert.reason = "revert";
      revert.created_at = core::to_unix(m_clock.now()) + 3600;
      if (revert.rotation_days > 0) revert.created_at -= static_cast<std::int64_t>(revert.rotation_days) * 86400;
      if (auto r = m_secrets.write(revert, current ? current->value : value); !r)
        core::log::error("secret.revert_failed", {{"secret", next.name}, {"error", r.error().to_string()}});
      return Error(active.error().code, "secret " + next.name + " version " + std::to_string(next.version) +
                                            " could not be put in force (the previous value stays): " +
                                            active.error().message);
    }
  }
  core::log::info("secret.rotated", {{"secret", next.name}, {"version", next.version}, {"reason", next.reason}});
  return next;
}

core::Result<RotationReport> SecretManager::rotate_due(const Caller& who) {
  RotationReport report;
  for (const auto& [name, managed] : m_managed) {
    auto latest = m_secrets.latest(name);
    if (latest) continue;
    if (latest.error().code != Errc::not_found) {
      report.failures.push_back(name + ": " + latest.error().to_string());
      continue;
    }
    if (!managed.adopt) continue;  // rotated below: the first rotation takes it over
    auto value = managed.adopt();
    core::Result<void> written = value ? core::Result<void>(core::ok()) : core::Result<void>(value.error());
    SecretInfo first{name, managed.kind, 1, core::to_unix(m_clock.now()), who.actor, "adopt", m_default_rotation_days};
    if (value) written = m_secrets.write(first, *value);
    // Another instance adopting at the same moment is as good.
    if (!written && written.error().code != Errc::conflict)
      report.failures.push_back(name + ": " + written.error().to_string());
  }
  CARTORIO_TRY(auto all, m_secrets.list());
  std::vector<std::pair<std::string, std::int64_t>> due;  // name, the version found due (0: none yet)
  const auto now = core::to_unix(m_clock.now());
  for (const auto& info : all)
    if (auto at = info.rotation_due(); at && *at <= now && m_rotators.count(info.kind))
      due.emplace_back(info.name, info.version);
  for (const auto& entry : m_managed) {
    const std::string& name = entry.first;  // not a structured binding: clang < 16 cannot capture one
    if (!entry.second.adopt && std::none_of(all.begin(), all.end(), [&](const auto& i) { return i.name == name; }))
      due.emplace_back(name, 0);
  }
  for (const auto& [name, version] : due) {
    auto r = rotate_audited(name, who, "schedule", std::nullopt, version);
    if (r) report.rotated.push_back(std::move(*r));
    else if (r.error().code != Errc::conflict) report.failures.push_back(name + ": " + r.error().to_string());
  }
  return report;
}

bool is_reserved_name(std::string_view name) {
  return name == kPostgresPassword || name == kJwtSigningKey || name == kServerCertificate;
}

int service_certificate_period(int rotation_days) {
  return rotation_days <= 0 ? 30 : std::min(rotation_days, 390);
}

Rotator random_value_rotator() {
  Rotator r;
  r.next_value = [](std::string_view, const std::optional<Secret>&) -> core::Result<std::string> {
    auto bytes = crypto::random_bytes(32);
    return crypto::to_base64url(bytes);
  };
  return r;
}

}  // namespace cartorio::secrets
