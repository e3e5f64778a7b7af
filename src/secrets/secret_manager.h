// SecretManager: what people and the worker do with secrets — read (audited), store a new
// version, rotate by hand or on schedule — over a SecretStore. Who may call what is the
// API's and CLI's business (permissions secret:list, secret:read, secret:rotate); this
// class records who did.
//
// Every value read through reveal() is an audit event ("secret.read"); if the event cannot
// be written the value is not handed out. Listing shows metadata only and is not audited
// per call (the API's access trail records it).
//
// Rotation of one secret:
//   1. the kind's Rotator makes the next value (for a JWT key: rotates the signing key ring
//      and returns the new kid);
//   2. it is recorded as version n+1 (Errc::conflict if another instance rotated first:
//      nothing else happens);
//   3. the Rotator activates it (for a database password: ALTER ROLE on the server). If
//      that fails, version n+2 restores the previous value ("revert"), so the latest version
//      is the one in force, dated so that the schedule tries again in an hour.
// The schedule rotates a secret only if its latest version is still the one it found due:
// two instances running the job do not rotate twice, nor race each other's activation.
// Recording before activating matters for the database password: a connection opened
// between 2 and 3 tries the newest version first and, refused, the previous one
// (app/secrets_setup.h), so no window exists where the password in force is not stored.
//
// Time comes from the injected clock: tests move it 30 days instead of waiting.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "secrets/secret_store.h"
#include "store/store.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::secrets {

struct Rotator {
  // The next value of secret `name`, given its current version (nullopt when the secret does
  // not exist yet: the first rotation creates it or takes a managed secret over).
  std::function<core::Result<std::string>(std::string_view name, const std::optional<Secret>& current)> next_value;
  // Puts a recorded value in force; empty when recording is enough.
  std::function<core::Result<void>(const std::string& value)> activate;
};

// Who acts, for the audit trail.
struct Caller {
  std::string actor;       // "user:alice", "cli", "job:secret-rotation"
  std::string source;      // client address or "local"
  std::string request_id;  // may be empty
};

struct RotationReport {
  std::vector<SecretInfo> rotated;  // the new versions
  std::vector<std::string> failures;  // "<name>: <error>"
};

class SecretManager {
 public:
  // All references must outlive the manager. `default_rotation_days` applies to secrets
  // taken over by a first rotation and to put() without a period.
  SecretManager(SecretStore& secrets, store::AuditLog& audit, const core::Clock& clock, int default_rotation_days);

  // Before use; a kind without a Rotator cannot be rotated (Errc::not_supported).
  void set_rotator(Kind kind, Rotator rotator);

  core::Result<std::vector<SecretInfo>> list() { return m_secrets.list(); }
  core::Result<std::vector<SecretInfo>> versions(std::string_view name);

  // The value of the latest version (or `version`), after recording who read it.
  // Errc::not_found; Errc::store_unavailable when the audit event cannot be written.
  core::Result<Secret> reveal(std::string_view name, std::optional<std::int64_t> version, const Caller& who);

  // A new version of a generic secret with an operator-chosen value (a third party's API
  // key). `rotation_days` nullopt: the previous version's, else the default. Managed kinds
  // are refused (Errc::invalid_argument): their value must be set where it takes effect.
  core::Result<SecretInfo> put(std::string_view name, std::string_view value, std::optional<int> rotation_days,
                               const Caller& who);

  // Rotates now (see above). A name that does not exist yet is rotated when it is a managed
  // one (`manage`), which the first rotation takes over, or when `create` names the kind of
  // a new secret whose values this installation makes (generic, service-certificate);
  // otherwise Errc::not_found. `create` for an existing secret of another kind:
  // Errc::invalid_argument. `reason`: "rotate" by a person, "schedule" by the worker.
  core::Result<SecretInfo> rotate(std::string_view name, const Caller& who, std::string_view reason = "rotate",
                                  std::optional<Kind> create = std::nullopt);

  // Declares a secret the installation manages itself: `name` of `kind`. When it has no
  // version yet, `adopt` (may be empty) gives its current value, recorded as version 1
  // without a rotation (e.g. the JWT key in use); an empty `adopt` leaves it to the first
  // rotation (rotate_due rotates a managed secret without versions at once).
  void manage(std::string name, Kind kind, std::function<core::Result<std::string>()> adopt = {});

  // Records managed secrets that have no version yet, then rotates every secret whose
  // rotation_due() has come (by the clock) and whose kind has a Rotator here; one failure
  // does not stop the others, and one another instance rotated meanwhile is not a failure.
  core::Result<RotationReport> rotate_due(const Caller& who);

 private:
  struct Managed {
    Kind kind;
    std::function<core::Result<std::string>()> adopt;
  };
  core::Result<void> audit(const Caller& who, std::string_view action, std::string_view target,
                           const core::Result<void>& outcome, std::int64_t version);
  // `expected`: the version found due (0: none yet); Errc::conflict when the latest is another
  // (someone rotated it meanwhile: rotating again would race its activation).
  core::Result<SecretInfo> rotate_audited(std::string_view name, const Caller& who, std::string_view reason,
                                          std::optional<Kind> create, std::optional<std::int64_t> expected);
  core::Result<SecretInfo> rotate_checked(std::string_view name, const Caller& who, std::string_view reason,
                                          std::optional<Kind> create, std::optional<std::int64_t> expected);

  SecretStore& m_secrets;
  store::AuditLog& m_audit;
  const core::Clock& m_clock;
  const int m_default_rotation_days;
  std::map<Kind, Rotator> m_rotators;
  std::map<std::string, Managed, std::less<>> m_managed;
};

// A rotator for generic secrets: 32 random bytes, base64url.
Rotator random_value_rotator();

// Names only the installation's own rotation may write (whatever the configuration).
bool is_reserved_name(std::string_view name);

// A service certificate is always rotated (an identity that silently expires is an outage),
// and before its certificate (valid period + 7 days, at most 397) runs out: the period,
// clamped to 1..390 days, 30 when it says "never".
int service_certificate_period(int rotation_days);

}  // namespace cartorio::secrets
