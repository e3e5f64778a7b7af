// The role x permission matrix: deny by default, signing and revocation for notaries only,
// the restricted MFA-enrolment principal.
#include "identity/principal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace cartorio::identity {
namespace {

using P = Permission;

std::set<Permission> allowed(Role r) {
  std::set<Permission> out;
  for (Permission p : all_permissions())
    if (role_allows(r, p)) out.insert(p);
  return out;
}

TEST(RoleMatrix, Clerk) {
  EXPECT_TRUE(role_allows(Role::clerk, P::document_request));
  EXPECT_TRUE(role_allows(Role::clerk, P::certificate_read));
  EXPECT_TRUE(role_allows(Role::clerk, P::self_service));
  EXPECT_FALSE(role_allows(Role::clerk, P::document_sign));
  EXPECT_FALSE(role_allows(Role::clerk, P::certificate_revoke));
  EXPECT_FALSE(role_allows(Role::clerk, P::certificate_issue));
  EXPECT_FALSE(role_allows(Role::clerk, P::user_admin));
  EXPECT_FALSE(role_allows(Role::clerk, P::api_key_admin));
  EXPECT_FALSE(role_allows(Role::clerk, P::audit_read));
}

TEST(RoleMatrix, Notary) {
  EXPECT_TRUE(role_allows(Role::notary, P::document_sign));
  EXPECT_TRUE(role_allows(Role::notary, P::certificate_revoke));
  EXPECT_TRUE(role_allows(Role::notary, P::document_request));
  EXPECT_TRUE(role_allows(Role::notary, P::certificate_issue));
  EXPECT_FALSE(role_allows(Role::notary, P::user_admin));
  EXPECT_FALSE(role_allows(Role::notary, P::api_key_admin));
  EXPECT_FALSE(role_allows(Role::notary, P::audit_read));
}

TEST(RoleMatrix, AuditorOnlyReads) {
  EXPECT_TRUE(role_allows(Role::auditor, P::audit_read));
  EXPECT_TRUE(role_allows(Role::auditor, P::self_service));
  // Nothing that changes state: no issue, revoke, sign, request, administration.
  for (P p : {P::certificate_issue, P::certificate_revoke, P::document_request, P::document_sign, P::user_admin,
              P::api_key_admin, P::secret_read, P::secret_rotate})
    EXPECT_FALSE(role_allows(Role::auditor, p)) << to_string(p);
  // What it may do beyond the audit trail is reading (certificates, CA chains, which secrets
  // exist — never their values —, what the scheduled jobs did).
  const std::set<Permission> expected = {P::audit_read, P::self_service, P::mfa_enroll, P::certificate_read,
                                         P::ca_read, P::secret_list, P::job_read};
  EXPECT_EQ(allowed(Role::auditor), expected);
}

TEST(RoleMatrix, Service) {
  EXPECT_FALSE(role_allows(Role::service, P::user_admin));
  EXPECT_FALSE(role_allows(Role::service, P::api_key_admin));
  EXPECT_FALSE(role_allows(Role::service, P::audit_read));
  EXPECT_FALSE(role_allows(Role::service, P::document_sign));
  EXPECT_FALSE(role_allows(Role::service, P::certificate_revoke));
  // A machine has no TOTP to enrol and no self-service account.
  EXPECT_FALSE(role_allows(Role::service, P::mfa_enroll));
  EXPECT_FALSE(role_allows(Role::service, P::self_service));
  EXPECT_TRUE(role_allows(Role::service, P::document_request));
  EXPECT_TRUE(role_allows(Role::service, P::certificate_issue));
}

TEST(RoleMatrix, Admin) {
  EXPECT_TRUE(role_allows(Role::admin, P::user_admin));
  EXPECT_TRUE(role_allows(Role::admin, P::api_key_admin));
  EXPECT_TRUE(role_allows(Role::admin, P::audit_read));
  // Signing documents carries legal weight: notaries only.
  EXPECT_FALSE(role_allows(Role::admin, P::document_sign));
}

TEST(RoleMatrix, OnlyNotariesSign) {
  for (Role r : all_roles()) EXPECT_EQ(role_allows(r, P::document_sign), r == Role::notary) << to_string(r);
}

TEST(RoleMatrix, AdministrationIsAdminOnly) {
  for (Role r : all_roles()) {
    EXPECT_EQ(role_allows(r, P::user_admin), r == Role::admin) << to_string(r);
    EXPECT_EQ(role_allows(r, P::api_key_admin), r == Role::admin) << to_string(r);
  }
}

TEST(Principal, UnionOfRoles) {
  Principal p;
  p.roles = {Role::clerk, Role::auditor};
  EXPECT_TRUE(p.allows(P::document_request));
  EXPECT_TRUE(p.allows(P::audit_read));
  EXPECT_FALSE(p.allows(P::document_sign));
  EXPECT_FALSE(p.allows(P::user_admin));
}

TEST(Principal, NoRolesNoPermissions) {
  Principal p;
  for (Permission perm : all_permissions()) EXPECT_FALSE(p.allows(perm)) << to_string(perm);
}

TEST(Principal, MfaEnrollmentOnlyAllowsOnlyEnrolment) {
  Principal p;
  p.roles = {Role::admin, Role::notary};  // even with roles set by mistake
  p.mfa_enrollment_only = true;
  for (Permission perm : all_permissions())
    EXPECT_EQ(p.allows(perm), perm == P::mfa_enroll) << to_string(perm);
}

TEST(Names, RolesRoundTripAndUnknownNamesAreRefused) {
  EXPECT_EQ(all_roles().size(), 5u);
  for (Role r : all_roles()) EXPECT_EQ(parse_role(to_string(r)), r);
  EXPECT_EQ(parse_role("Admin"), std::nullopt);
  EXPECT_EQ(parse_role(""), std::nullopt);
  EXPECT_EQ(parse_role("root"), std::nullopt);
  std::set<std::string_view> names;
  for (Permission p : all_permissions()) names.insert(to_string(p));
  EXPECT_EQ(names.size(), all_permissions().size());  // distinct names
  EXPECT_EQ(names.count("unknown"), 0u);
  EXPECT_EQ(to_string(P::document_sign), "document:sign");
}

}  // namespace
}  // namespace cartorio::identity
