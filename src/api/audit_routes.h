// The audit trail's API (permission audit_read: auditors and admins), docs/audit.md:
//   GET  /api/v1/audit/events                  ?since&until&actor&action&target&after_id&limit
//   GET  /api/v1/audit/tree-head               the latest signed tree head (404 before the first)
//   POST /api/v1/audit/tree-head               sign and publish one now (201)
//   GET  /api/v1/audit/proofs/inclusion        ?id=<event id>[&tree_size=N] (default: latest head)
//   GET  /api/v1/audit/proofs/consistency      ?first=M&second=N
// Proofs are RFC 9162 audit paths over the leaves docs/audit.md defines; each answer carries
// the leaf's fields so a verifier recomputes the leaf hash itself.
#pragma once

#include "api/secured_router.h"
#include "audit/merkle_log.h"
#include "audit/tree_head_publisher.h"
#include "store/store.h"

namespace cartorio::api {

struct AuditRouteServices {
  store::AuditLog* events = nullptr;
  audit::TreeHeadPublisher* heads = nullptr;  // of the audit log
};

core::Result<void> add_audit_routes(SecuredRouter& router, AuditRouteServices services);

}  // namespace cartorio::api
