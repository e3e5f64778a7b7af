// Who is calling, and what they may do: roles, permissions and the deny-by-default matrix.
// Every route declares the one Permission it needs; `allows` is the only place that decides.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::identity {

enum class Role { admin, notary, clerk, auditor, service };

// "admin", "notary", ...; parse_role: nullopt for anything else.
std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view name);
const std::vector<Role>& all_roles();

enum class Permission {
  certificate_read,     // get/list certificates, download chains
  certificate_issue,    // issue from a CSR
  certificate_revoke,   // revoke (notary: tabelião)
  ca_read,              // CA chains
  document_request,     // ask for a signature (clerk: escrevente)
  document_sign,        // sign (notary)
  audit_read,           // read the audit trail (auditor)
  user_admin,           // users and roles
  api_key_admin,        // create/list/revoke API keys
  secret_list,          // list secrets and their versions: names, kinds, dates, never values
  secret_read,          // read a secret's value (every read is an audit event)
  secret_rotate,        // rotate a secret, or store a new version of one
  job_read,             // scheduled jobs: schedules and recorded runs
  self_service,         // own account: profile, password, own tokens
  mfa_enroll,           // enrol own TOTP; the only permission of a not-yet-enrolled user's token
};

std::string_view to_string(Permission p);
const std::vector<Permission>& all_permissions();

// The role x permission matrix (docs/identity.md). Deny by default: a permission not
// listed for any of the roles is refused.
bool role_allows(Role role, Permission permission);

enum class AuthMethod { bearer_token, api_key, client_certificate };
std::string_view to_string(AuthMethod m);

struct Principal {
  std::string subject;      // "user:alice", "service:billing", "apikey:ck_3f9a"; audit actor
  std::vector<Role> roles;
  AuthMethod method = AuthMethod::bearer_token;
  std::string token_id;     // JWT jti / API key prefix / certificate serial, for the audit trail
  // A human who proved a password but has not enrolled MFA yet (access token scope
  // "mfa_enroll"): roles are empty and the only permission is Permission::mfa_enroll,
  // whatever the account's roles.
  bool mfa_enrollment_only = false;
  // RFC 8705: a bearer token bound to a client certificate (base64url SHA-256 of its DER,
  // the token's cnf.x5t#S256). Non-empty: the token is only good on a TLS connection that
  // presents that very certificate, and only while the certificate itself is accepted.
  std::string certificate_thumbprint;

  bool allows(Permission p) const;
};

}  // namespace cartorio::identity
