// The installation's two Merkle-tree logs (docs/audit.md): the audit trail (every audit
// event, auditor-only) and the public transparency log (every issued certificate and
// signed document, no personal data), with their tree-head publishers and the checkpoint
// job that signs a head of each at jobs.audit_checkpoint_seconds when it grew.
#pragma once

#include "app/jobs.h"
#include "app/runtime.h"
#include "audit/log_verifier.h"
#include "audit/merkle_log.h"
#include "audit/tree_head_publisher.h"

#include <memory>
#include <string>
#include <vector>

namespace cartorio::app {

inline constexpr std::string_view kAuditLogName = "audit";
inline constexpr std::string_view kTransparencyLogName = "transparency";

struct AuditLogs {
  explicit AuditLogs(store::Store& store)
      : audit_source(store),
        transparency_source(store),
        audit(std::string(kAuditLogName), audit_source),
        transparency(std::string(kTransparencyLogName), transparency_source) {}

  audit::AuditLeafSource audit_source;
  audit::TransparencyLeafSource transparency_source;
  audit::MerkleLog audit;
  audit::MerkleLog transparency;
  std::unique_ptr<audit::TreeHeadPublisher> audit_heads;
  std::unique_ptr<audit::TreeHeadPublisher> transparency_heads;
  std::string public_key_pem;  // the current audit key's, served to verifiers
};

// "<host of pki.public_base_url>/<log>": the checkpoint origin line.
std::string log_origin(const Runtime& rt, std::string_view log);

// Creates the audit key on first use and loads both trees from the store.
core::Result<std::unique_ptr<AuditLogs>> open_audit_logs(const Runtime& rt);

void add_audit_jobs(JobRunner& runner, const Runtime& rt, AuditLogs& logs);

// `cartorio audit verify`: both logs against everything published about them.
core::Result<std::vector<audit::VerifyReport>> verify_audit_logs(const Runtime& rt);

}  // namespace cartorio::app
