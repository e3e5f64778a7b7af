// The audit archive (docs/audit.md, "Archive (audit-logs bucket)"): the installation's
// ArchiveShipper over its store, object store and audit key; the `audit-log-processor` job;
// and `cartorio audit verify-archive`.
#pragma once

#include "app/jobs.h"
#include "app/runtime.h"
#include "audit/archive_shipper.h"
#include "audit/archive_verifier.h"

#include <memory>
#include <string>

namespace cartorio::app {

inline constexpr std::string_view kAuditShippingJobName = "audit-log-processor";

// A shipper signing as `actor` (the key-use audit actor), with the audit_shipping.* config,
// writing at most `max_batches_per_run` batches per ship() (0: no bound). Creates the audit
// key on first use.
core::Result<std::unique_ptr<audit::ArchiveShipper>> open_archive_shipper(const Runtime& rt, const std::string& actor,
                                                                          std::size_t max_batches_per_run = 0);

// The `audit-log-processor` job: every audit_shipping.poll_seconds, ships the batches that
// are due (full ones, or a partial one after audit_shipping.max_delay_seconds), at most 100
// per run. Adds nothing when audit_shipping.enabled is false. The job owns its shipper;
// `rt` must outlive the runner.
core::Result<void> add_audit_shipping_job(JobRunner& runner, const Runtime& rt);

// `cartorio audit verify-archive`: the archive against itself, the audit keys and the store.
core::Result<audit::ArchiveReport> verify_audit_archive(const Runtime& rt);

}  // namespace cartorio::app
