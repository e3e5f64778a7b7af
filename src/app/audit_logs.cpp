#include "app/audit_logs.h"

#include "core/log.h"
#include "crypto/key_pair.h"

namespace cartorio::app {

std::string log_origin(const Runtime& rt, std::string_view log) {
  std::string host = rt.config.pki.public_base_url;
  if (auto scheme = host.find("://"); scheme != std::string::npos) host.erase(0, scheme + 3);
  if (auto slash = host.find('/'); slash != std::string::npos) host.erase(slash);
  if (host.empty()) host = "cartorio";
  return host + "/" + std::string(log);
}

core::Result<std::unique_ptr<AuditLogs>> open_audit_logs(const Runtime& rt) {
  auto logs = std::make_unique<AuditLogs>(*rt.store);
  CARTORIO_TRY(auto key, audit::ensure_audit_key(*rt.keys, *rt.store, *rt.clock));
  CARTORIO_TRY(auto public_key, rt.keys->public_key(key));
  CARTORIO_TRY(logs->public_key_pem, crypto::public_key_to_pem(public_key.get()));
  const auto publisher = [&](audit::MerkleLog& log) {
    return std::make_unique<audit::TreeHeadPublisher>(log, *rt.keys, key, *rt.objects, *rt.clock,
                                                      audit::PublisherOptions{log_origin(rt, log.name()), rt.actor});
  };
  logs->audit_heads = publisher(logs->audit);
  logs->transparency_heads = publisher(logs->transparency);
  CARTORIO_TRY_VOID(logs->audit.sync());
  CARTORIO_TRY_VOID(logs->transparency.sync());
  return logs;
}

void add_audit_jobs(JobRunner& runner, const Runtime& rt, AuditLogs& logs) {
  for (auto* heads : {logs.transparency_heads.get(), logs.audit_heads.get()}) {
    Job job;
    job.name = "audit.checkpoint." + heads->log().name();
    job.interval = std::chrono::seconds(rt.config.jobs.audit_checkpoint_seconds);
    job.run = [heads]() -> core::Result<void> {
      CARTORIO_TRY(auto head, heads->publish_if_grown());
      if (head)
        core::log::info("audit.checkpoint", {{"log", heads->log().name()},
                                             {"tree_size", static_cast<std::int64_t>(head->tree_size)}});
      return core::ok();
    };
    runner.add(std::move(job));
  }
}

core::Result<std::vector<audit::VerifyReport>> verify_audit_logs(const Runtime& rt) {
  CARTORIO_TRY(auto keys, audit::audit_public_keys(*rt.keys, *rt.store));
  audit::AuditLeafSource audit_source(*rt.store);
  audit::TransparencyLeafSource transparency_source(*rt.store);
  std::vector<audit::VerifyReport> reports;
  CARTORIO_TRY(auto a, audit::verify_log(std::string(kAuditLogName), audit_source, *rt.objects, keys));
  reports.push_back(std::move(a));
  CARTORIO_TRY(auto t, audit::verify_log(std::string(kTransparencyLogName), transparency_source, *rt.objects, keys));
  reports.push_back(std::move(t));
  return reports;
}

}  // namespace cartorio::app
