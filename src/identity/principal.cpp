#include "identity/principal.h"

#include <algorithm>
#include <array>

namespace cartorio::identity {

namespace {

using P = Permission;

struct Grant {
  Role role;
  std::vector<Permission> permissions;
};

// The whole matrix. Admin administers accounts and the PKI but does not sign documents;
// signing and revocation carry legal weight and belong to the notary.
const std::vector<Grant>& matrix() {
  static const std::vector<Grant> m = {
      {Role::admin,
       {P::certificate_read, P::certificate_issue, P::certificate_revoke, P::ca_read, P::audit_read, P::user_admin,
        P::api_key_admin, P::secret_list, P::secret_read, P::secret_rotate, P::job_read, P::self_service,
        P::mfa_enroll}},
      {Role::notary,
       {P::certificate_read, P::certificate_issue, P::certificate_revoke, P::ca_read, P::document_request,
        P::document_sign, P::self_service, P::mfa_enroll}},
      {Role::clerk, {P::certificate_read, P::ca_read, P::document_request, P::self_service, P::mfa_enroll}},
      {Role::auditor,
       {P::certificate_read, P::ca_read, P::audit_read, P::secret_list, P::job_read, P::self_service,
        P::mfa_enroll}},
      {Role::service, {P::certificate_read, P::certificate_issue, P::ca_read, P::document_request}},
  };
  return m;
}

}  // namespace

std::string_view to_string(Role r) {
  switch (r) {
    case Role::admin: return "admin";
    case Role::notary: return "notary";
    case Role::clerk: return "clerk";
    case Role::auditor: return "auditor";
    case Role::service: return "service";
  }
  return "unknown";
}

const std::vector<Role>& all_roles() {
  static const std::vector<Role> r = {Role::admin, Role::notary, Role::clerk, Role::auditor, Role::service};
  return r;
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role r : all_roles())
    if (to_string(r) == name) return r;
  return std::nullopt;
}

std::string_view to_string(Permission p) {
  switch (p) {
    case P::certificate_read: return "certificate:read";
    case P::certificate_issue: return "certificate:issue";
    case P::certificate_revoke: return "certificate:revoke";
    case P::ca_read: return "ca:read";
    case P::document_request: return "document:request";
    case P::document_sign: return "document:sign";
    case P::audit_read: return "audit:read";
    case P::user_admin: return "user:admin";
    case P::api_key_admin: return "api_key:admin";
    case P::secret_list: return "secret:list";
    case P::secret_read: return "secret:read";
    case P::secret_rotate: return "secret:rotate";
    case P::job_read: return "job:read";
    case P::self_service: return "self:manage";
    case P::mfa_enroll: return "self:mfa_enroll";
  }
  return "unknown";
}

const std::vector<Permission>& all_permissions() {
  static const std::vector<Permission> p = {P::certificate_read, P::certificate_issue, P::certificate_revoke,
                                            P::ca_read,          P::document_request,  P::document_sign,
                                            P::audit_read,       P::user_admin,        P::api_key_admin,
                                            P::secret_list,      P::secret_read,       P::secret_rotate,
                                            P::job_read,         P::self_service,      P::mfa_enroll};
  return p;
}

bool role_allows(Role role, Permission permission) {
  for (const auto& g : matrix())
    if (g.role == role)
      return std::find(g.permissions.begin(), g.permissions.end(), permission) != g.permissions.end();
  return false;
}

std::string_view to_string(AuthMethod m) {
  switch (m) {
    case AuthMethod::bearer_token: return "bearer_token";
    case AuthMethod::api_key: return "api_key";
    case AuthMethod::client_certificate: return "client_certificate";
  }
  return "unknown";
}

bool Principal::allows(Permission p) const {
  if (mfa_enrollment_only) return p == P::mfa_enroll;
  return std::any_of(roles.begin(), roles.end(), [p](Role r) { return role_allows(r, p); });
}

}  // namespace cartorio::identity
