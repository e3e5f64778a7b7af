#include "app/certificate_renewal.h"

#include "app/deploy_command.h"
#include "app/managed_certificate.h"
#include "core/log.h"
#include "http/webhook_client.h"
#include "pki/certificate_json.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

namespace cartorio::app {

using core::Errc;
using nlohmann::json;

namespace {

std::string rfc3339(core::TimePoint t) { return pki::iso8601(core::to_unix(t)); }

// A 0600 file holding `content`, removed when this goes.
class ScratchFile {
 public:
  static core::Result<ScratchFile> write(const std::string& dir, const std::string& content) {
    std::string path = (std::filesystem::path(dir) / "deploy-chain-XXXXXX").string();
    const int fd = ::mkstemp(path.data());  // 0600
    if (fd < 0) return core::Error{Errc::io_error, "cannot create a file in " + dir};
    ScratchFile f(path);
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n <= 0) {
        ::close(fd);
        return core::Error{Errc::io_error, "cannot write " + path};
      }
      done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) return core::Error{Errc::io_error, "cannot write " + path};
    return f;
  }
  ScratchFile(ScratchFile&& o) noexcept : m_path(std::exchange(o.m_path, {})) {}
  ScratchFile& operator=(ScratchFile&&) = delete;
  ~ScratchFile() {
    if (!m_path.empty()) std::remove(m_path.c_str());
  }
  const std::string& path() const { return m_path; }

 private:
  explicit ScratchFile(std::string path) : m_path(std::move(path)) {}
  std::string m_path;
};

}  // namespace

RenewalSettings RenewalSettings::from(const core::Config& c) {
  RenewalSettings s;
  s.window = std::chrono::hours(24) * c.renewal.window_days;
  s.deploy_command = c.renewal.deploy_command;
  s.deploy_webhook = c.renewal.deploy_webhook;
  s.failure_webhook = c.renewal.failure_webhook;
  s.hook_timeout = std::chrono::seconds(c.renewal.hook_timeout_seconds);
  s.attempts = c.renewal.retry_attempts;
  s.backoff = std::chrono::seconds(c.renewal.retry_backoff_seconds);
  s.scratch_dir = c.path("run");
  return s;
}

std::size_t RenewalReport::failures() const {
  std::size_t n = 0;
  for (const auto& o : outcomes) n += o.failed() ? 1 : 0;
  for (const auto& c : checked) n += c.problem.empty() ? 0 : 1;
  return n;
}

CertificateRenewer::CertificateRenewer(const Runtime& rt, secrets::SecretManager& manager, RenewalSettings settings)
    : m_rt(rt), m_manager(manager), m_settings(std::move(settings)) {}

core::Result<std::vector<ManagedCertificateStatus>> CertificateRenewer::check() {
  CARTORIO_TRY(auto all, m_rt.secrets->list());
  const auto now = m_rt.clock->now();
  std::vector<ManagedCertificateStatus> out;
  for (const auto& info : all) {
    if (!is_managed_certificate_kind(info.kind)) continue;
    ManagedCertificateStatus s;
    s.name = info.name;
    s.kind = info.kind;
    s.version = info.version;
    // An internal read (only the certificate's dates are looked at): not a secret.read event.
    auto secret = m_rt.secrets->read(info.name, info.version);
    auto cert = secret ? parse_managed_certificate(secret->value)
                       : core::Result<ManagedCertificate>(std::move(secret).error());
    if (!cert) {
      s.problem = cert.error().to_string();
    } else {
      s.serial = cert->serial;
      s.not_after = cert->not_after;
      s.due_at = renewal_due_at(cert->not_before, cert->not_after, m_settings.window);
      s.due = now >= s.due_at;
    }
    out.push_back(std::move(s));
  }
  return out;
}

core::Result<void> CertificateRenewer::with_retries(const std::function<core::Result<void>()>& step, int& failed) {
  auto wait = m_settings.backoff;
  for (int attempt = 1;; ++attempt) {
    auto r = step();
    if (!r) ++failed;
    if (r || attempt >= m_settings.attempts) return r;
    core::log::warn("renewal.retry", {{"attempt", attempt}, {"error", r.error().to_string()}});
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}

core::Result<secrets::SecretInfo> CertificateRenewer::renew(const ManagedCertificateStatus& cert,
                                                           const secrets::Caller& who) {
  return m_manager.rotate(cert.name, who, "renew");
}

core::Result<void> CertificateRenewer::deploy(const RenewalOutcome& renewed, const std::string& chain_pem) {
  if (!m_settings.deploy_command.empty()) {
    CARTORIO_TRY(auto chain, ScratchFile::write(m_settings.scratch_dir, chain_pem));
    CommandSpec spec;
    spec.argv = split_command(m_settings.deploy_command);
    spec.timeout = m_settings.hook_timeout;
    spec.env = {{"CARTORIO_CERT_NAME", renewed.name},
                {"CARTORIO_CERT_KIND", std::string(secrets::to_string(renewed.kind))},
                {"CARTORIO_CERT_VERSION", std::to_string(renewed.version)},
                {"CARTORIO_CERT_SERIAL", renewed.serial},
                {"CARTORIO_CERT_NOT_AFTER", rfc3339(renewed.not_after)},
                {"CARTORIO_CERT_CHAIN_FILE", chain.path()}};
    CARTORIO_TRY_VOID(run_command(spec));
  }
  if (!m_settings.deploy_webhook.empty()) {
    const json body{{"event", "certificate.renewed"},
                    {"name", renewed.name},
                    {"kind", secrets::to_string(renewed.kind)},
                    {"version", renewed.version},
                    {"serial", renewed.serial},
                    {"not_after", rfc3339(renewed.not_after)}};
    CARTORIO_TRY_VOID(http::post_json(m_settings.deploy_webhook, body.dump(), m_settings.hook_timeout));
  }
  return core::ok();
}

void CertificateRenewer::notify_failure(const RenewalOutcome& failed) {
  core::log::error("renewal.failed", {{"certificate", failed.name},
                                      {"stage", failed.stage},
                                      {"attempt", failed.attempt},
                                      {"error", failed.error.to_string()}});
  if (m_settings.failure_webhook.empty()) return;
  const json body{{"job", kCertificateRenewalJob},
                  {"certificate", failed.name},
                  {"kind", secrets::to_string(failed.kind)},
                  {"stage", failed.stage},
                  {"code", core::errc_name(failed.error.code)},
                  {"message", failed.error.message},
                  {"attempt", failed.attempt},
                  {"time", rfc3339(m_rt.clock->now())}};
  int ignored = 0;
  auto sent = with_retries([&] { return http::post_json(m_settings.failure_webhook, body.dump(), m_settings.hook_timeout); },
                           ignored);
  if (!sent) core::log::error("renewal.notification_failed", {{"error", sent.error().to_string()}});
}

core::Result<RenewalReport> CertificateRenewer::run(bool dry_run, const secrets::Caller& who) {
  std::lock_guard lock(m_mutex);
  RenewalReport report;
  CARTORIO_TRY(report.checked, check());
  if (dry_run) return report;
  for (const auto& cert : report.checked) {
    RenewalOutcome o;
    o.name = cert.name;
    o.kind = cert.kind;
    int& failed = m_failed_attempts[cert.name];
    if (!cert.problem.empty()) {
      o.stage = "read";
      o.error = core::Error{Errc::store_error, cert.problem};
      o.attempt = ++failed;
      notify_failure(o);
      continue;  // counted by report.failures() through `checked`
    }
    if (!cert.due) continue;
    core::log::info("renewal.due", {{"certificate", cert.name},
                                    {"serial", cert.serial},
                                    {"not_after", rfc3339(cert.not_after)}});
    std::string chain_pem;
    std::optional<secrets::SecretInfo> info;  // once rotated, a retry only reads it back
    auto renewed = with_retries(
        [&]() -> core::Result<void> {
          if (!info) {
            auto rotated = renew(cert, who);
            if (!rotated) return std::move(rotated).error();
            info = std::move(*rotated);
          }
          CARTORIO_TRY(auto secret, m_rt.secrets->read(cert.name, info->version));
          CARTORIO_TRY(auto parsed, parse_managed_certificate(secret.value));
          o.version = info->version;
          o.serial = parsed.serial;
          o.not_after = parsed.not_after;
          chain_pem = parsed.chain_pem;
          return core::ok();
        },
        failed);
    if (!renewed && renewed.error().code == Errc::conflict) {
      // Another instance renewed it meanwhile (and runs the deploy step for its version).
      core::log::info("renewal.renewed_elsewhere", {{"certificate", cert.name}});
      continue;
    }
    if (!renewed) {
      o.stage = "renew";
      o.error = renewed.error();
      o.attempt = failed;
      notify_failure(o);
      report.outcomes.push_back(std::move(o));
      continue;
    }
    core::log::info("renewal.renewed", {{"certificate", cert.name},
                                        {"version", o.version},
                                        {"serial", o.serial},
                                        {"not_after", rfc3339(o.not_after)}});
    failed = 0;
    auto deployed = with_retries([&] { return deploy(o, chain_pem); }, failed);
    if (!deployed) {
      o.stage = "deploy";
      o.error = core::Error{deployed.error().code, "renewed as version " + std::to_string(o.version) +
                                                       " but not deployed: " + deployed.error().message};
      o.attempt = failed;
      notify_failure(o);
    } else {
      failed = 0;
    }
    report.outcomes.push_back(std::move(o));
  }
  return report;
}

Job certificate_renewal_job(const Runtime& rt, std::shared_ptr<CertificateRenewer> renewer) {
  Job job;
  job.name = kCertificateRenewalJob;
  job.interval = std::chrono::hours(rt.config.renewal.check_interval_hours);
  job.run = [renewer = std::move(renewer)]() -> core::Result<void> {
    CARTORIO_TRY(auto report,
                 renewer->run(false, {std::string("job:") + kCertificateRenewalJob, "local", ""}));
    if (const auto n = report.failures(); n > 0)
      return core::Error{Errc::io_error, std::to_string(n) + " managed certificates could not be renewed or deployed"};
    return core::ok();
  };
  return job;
}

void add_certificate_renewal_job(JobRunner& runner, const Runtime& rt, secrets::SecretManager& manager) {
  runner.add(certificate_renewal_job(
      rt, std::make_shared<CertificateRenewer>(rt, manager, RenewalSettings::from(rt.config))));
}

}  // namespace cartorio::app
