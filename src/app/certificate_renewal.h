// cert-expiry-check (Flow 2 of the reference architecture): finds the managed TLS
// certificates (app/managed_certificate.h: server-tls, tls-certificate and
// service-certificate secrets) that expire within renewal.window_days and renews each:
// new key, certificate from the TLS CA, new secret version (SecretManager::rotate: audited,
// write-once, so two instances cannot both renew one version). Then the deploy step runs:
// renewal.deploy_command (app/deploy_command.h) with
//   CARTORIO_CERT_NAME, CARTORIO_CERT_KIND, CARTORIO_CERT_VERSION, CARTORIO_CERT_SERIAL,
//   CARTORIO_CERT_NOT_AFTER (RFC 3339), CARTORIO_CERT_CHAIN_FILE (a 0600 file holding the
//   certificate and its chain, PEM, removed afterwards; never the key — that is read from
//   the secret store, audited)
// and/or a POST of {"event":"certificate.renewed", name, kind, version, serial, not_after}
// to renewal.deploy_webhook. `serve` picks a renewed server-tls up by itself (tls.reload).
//
// Each renewal and each deploy is tried renewal.retry_attempts times per run, waiting
// renewal.retry_backoff_seconds (doubled each time) in between; what still fails is
// POSTed to renewal.failure_webhook (the notification role):
//   {"job":"cert-expiry-check", "certificate", "kind", "stage": "read"|"renew"|"deploy",
//    "code": "<stable error name>", "message", "attempt": <failed attempts so far>, "time"}
// and the job fails, so the scheduler tries again. A certificate renewed but not deployed
// is not renewed again: the notification says so, and the operator deploys it.
#pragma once

#include "app/jobs.h"
#include "app/runtime.h"
#include "secrets/secret_manager.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cartorio::app {

inline constexpr const char* kCertificateRenewalJob = "cert-expiry-check";

struct RenewalSettings {
  std::chrono::seconds window{30 * 86400};
  std::string deploy_command;
  std::string deploy_webhook;
  std::string failure_webhook;
  std::chrono::milliseconds hook_timeout{30'000};
  int attempts = 3;
  std::chrono::seconds backoff{10};
  std::string scratch_dir;  // where the deploy command's chain file is written (DATA_DIR/run)

  static RenewalSettings from(const core::Config& config);
};

struct ManagedCertificateStatus {
  std::string name;
  secrets::Kind kind = secrets::Kind::tls_certificate;
  std::int64_t version = 0;
  std::string serial;
  core::TimePoint not_after{};
  core::TimePoint due_at{};  // when renewal is due (see renewal_due_at)
  bool due = false;
  std::string problem;  // the value could not be read: "<code>: <message>"
};

struct RenewalOutcome {
  std::string name;
  secrets::Kind kind = secrets::Kind::tls_certificate;
  std::int64_t version = 0;  // the new version (0 when renewal failed)
  std::string serial;        // the new certificate's
  core::TimePoint not_after{};
  std::string stage;         // on failure: "read", "renew" or "deploy"
  core::Error error;          // meaningful when failed()
  int attempt = 0;           // failed attempts so far (as notified)
  bool failed() const { return !stage.empty(); }
};

struct RenewalReport {
  std::vector<ManagedCertificateStatus> checked;
  std::vector<RenewalOutcome> outcomes;  // one per certificate that was due (none on a dry run)
  std::size_t failures() const;
};

class CertificateRenewer {
 public:
  // All references must outlive the renewer; `manager` needs the rotators of every managed
  // kind (open_secret_manager has them).
  CertificateRenewer(const Runtime& rt, secrets::SecretManager& manager, RenewalSettings settings);

  // Every managed certificate, with whether it is due by the injected clock.
  core::Result<std::vector<ManagedCertificateStatus>> check();
  // check(), then (unless dry_run) renew, deploy and notify as above, acting as `who`.
  // Errors only when the secrets cannot be listed; per-certificate failures are in the report.
  core::Result<RenewalReport> run(bool dry_run, const secrets::Caller& who);

 private:
  core::Result<secrets::SecretInfo> renew(const ManagedCertificateStatus& cert, const secrets::Caller& who);
  core::Result<void> deploy(const RenewalOutcome& renewed, const std::string& chain_pem);
  void notify_failure(const RenewalOutcome& failed);
  // Runs `step` up to settings.attempts times; `failed` counts the failed tries.
  core::Result<void> with_retries(const std::function<core::Result<void>()>& step, int& failed);

  const Runtime& m_rt;
  secrets::SecretManager& m_manager;
  RenewalSettings m_settings;
  std::mutex m_mutex;  // one run at a time (the job and nothing else in a process)
  std::map<std::string, int> m_failed_attempts;  // consecutive, by certificate; guarded by m_mutex
};

// The cert-expiry-check job: every renewal.check_interval_hours, run() as
// "job:cert-expiry-check"; fails when a certificate could not be renewed or deployed.
Job certificate_renewal_job(const Runtime& rt, std::shared_ptr<CertificateRenewer> renewer);
// The same, added to `runner`, renewing through `manager` (which must outlive the runner).
void add_certificate_renewal_job(JobRunner& runner, const Runtime& rt, secrets::SecretManager& manager);

}  // namespace cartorio::app
