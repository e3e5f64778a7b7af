#include "app/audit_shipping.h"

#include "app/audit_logs.h"
#include "audit/tree_head_publisher.h"
#include "core/log.h"

namespace cartorio::app {

core::Result<std::unique_ptr<audit::ArchiveShipper>> open_archive_shipper(const Runtime& rt, const std::string& actor,
                                                                          std::size_t max_batches_per_run) {
  CARTORIO_TRY(auto key, audit::ensure_audit_key(*rt.keys, *rt.store, *rt.clock));
  audit::ShipperOptions options;
  options.origin = log_origin(rt, "audit-archive");
  options.actor = actor;
  options.batch_max_events = rt.config.audit_shipping.batch_max_events;
  options.max_delay = std::chrono::seconds(rt.config.audit_shipping.max_delay_seconds);
  options.max_batches_per_run = max_batches_per_run;
  return std::make_unique<audit::ArchiveShipper>(*rt.store, *rt.objects, *rt.keys, std::move(key), *rt.clock,
                                                 std::move(options));
}

core::Result<void> add_audit_shipping_job(JobRunner& runner, const Runtime& rt) {
  if (!rt.config.audit_shipping.enabled) return core::ok();
  const std::string name(kAuditShippingJobName);
  // The job's actor is also the JobRunner's for its job.run records: the shipper takes
  // those as its own activity, which never makes a batch due alone.
  CARTORIO_TRY(std::shared_ptr<audit::ArchiveShipper> shipper, open_archive_shipper(rt, "job:" + name, 100));
  Job job;
  job.name = name;
  job.interval = std::chrono::seconds(rt.config.audit_shipping.poll_seconds);
  job.run = [shipper]() -> core::Result<void> {
    CARTORIO_TRY(auto shipped, shipper->ship(/*all=*/false));
    if (!shipped.batches.empty())
      core::log::info("audit.archive.shipped", {{"batches", static_cast<std::int64_t>(shipped.batches.size())},
                                                {"first", shipped.batches.front().first},
                                                {"last", shipped.batches.back().last}});
    return core::ok();
  };
  runner.add(std::move(job));
  return core::ok();
}

core::Result<audit::ArchiveReport> verify_audit_archive(const Runtime& rt) {
  CARTORIO_TRY(auto keys, audit::audit_public_keys(*rt.keys, *rt.store));
  return audit::verify_archive(*rt.store, *rt.objects, keys);
}

}  // namespace cartorio::app
