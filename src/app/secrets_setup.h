// The installation's secrets, composed (docs/secrets.md): the manager over Runtime::secrets
// with the rotators of each kind, the secrets it manages itself, the scheduled rotation
// job, and the password source of the PostgreSQL pool.
#pragma once

#include "app/jobs.h"
#include "app/runtime.h"
#include "identity/identity_service.h"
#include "secrets/secret_manager.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cartorio::app {

// The manager with rotators for every kind this installation can rotate:
//   generic            32 random bytes
//   service-certificate  a new P-256 key and a tls-client certificate for CN=<name> from the
//                      TLS CA (the mTLS identity "service:<name>"), PEM key + certificate + chain
//   jwt-signing-key    a new signing key in `identity` (null: not rotatable here, e.g. a CLI
//                      command that has no identity service open); managed, adopted from the
//                      key in use
//   postgres-password  32 random bytes set on the role (store.backend = postgres); managed
//                      when secrets.rotate_postgres_password
// `rt` and `identity` must outlive it.
std::unique_ptr<secrets::SecretManager> open_secret_manager(const Runtime& rt, identity::IdentityService* identity);

// The `secret-rotation` job: every jobs.secret_rotation_check_minutes, rotate_due() as
// "job:secret-rotation". `manager` must outlive the runner.
void add_secret_rotation_job(JobRunner& runner, const Runtime& rt, secrets::SecretManager& manager);

// The pool's passwords, newest first: the latest version of the postgres-password secret
// and the two before (a rotation recorded but not yet in force, or two instances' rotations
// crossing), read afresh for every new connection. Empty when there is no such
// secret (or it cannot be read): the conninfo's own password is used. Internal reads, not
// audited (no person sees the value). `secrets` must outlive the store.
std::function<std::vector<std::string>()> postgres_password_candidates(secrets::SecretStore& secrets);

}  // namespace cartorio::app
