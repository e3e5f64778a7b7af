// The secret store's API (docs/secrets.md). Values are shown only through
// GET /api/v1/secrets/{name} (secret:read, admins), and each such read is an audit event
// naming the caller; listing shows names, kinds, versions and dates (secret:list, admins and
// auditors):
//   GET  /api/v1/secrets                      every secret's latest version (no values)
//   GET  /api/v1/secrets/{name}               ?version=N — the value (audited)
//   GET  /api/v1/secrets/{name}/versions      history, newest first (no values)
//   PUT  /api/v1/secrets/{name}               {value, rotation_days?} — a generic secret's next version
//   POST /api/v1/secrets/{name}/rotate        rotate now (201, the new version, no value); body
//                                             {"kind": "service-certificate"|"generic"} creates a new one
#pragma once

#include "api/secured_router.h"
#include "secrets/secret_manager.h"

namespace cartorio::api {

// `manager` must outlive the router (may be null only where no route is called: route listings).
core::Result<void> add_secret_routes(SecuredRouter& router, secrets::SecretManager* manager);

}  // namespace cartorio::api
