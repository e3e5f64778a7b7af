#include "pki/profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace cartorio::pki {
namespace {

bool allows(const Profile& p, SanKind k) {
  return std::find(p.allowed_sans.begin(), p.allowed_sans.end(), k) != p.allowed_sans.end();
}

const Profile& get(const char* name) {
  auto r = find_profile(name);
  EXPECT_TRUE(r) << name;
  return **r;
}

TEST(Profiles, ThereAreExactlyTheFiveEndEntityProfiles) {
  std::set<std::string> names;
  for (const auto& p : profiles()) names.insert(p.name);
  EXPECT_EQ(names, (std::set<std::string>{"tls-server", "tls-client", "document-signing", "ocsp", "tsa"}));
  EXPECT_EQ(profiles().size(), 5u);
}

class FindProfile : public ::testing::TestWithParam<const char*> {};

TEST_P(FindProfile, ReturnsTheProfileWithThatName) {
  auto r = find_profile(GetParam());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)->name, GetParam());
  EXPECT_FALSE((*r)->issuers.empty());
  EXPECT_GT((*r)->default_validity_days, 0);
  EXPECT_LE((*r)->default_validity_days, (*r)->max_validity_days);
  EXPECT_GE((*r)->min_rsa_bits, 2048);
  EXPECT_FALSE((*r)->description.empty());
  EXPECT_FALSE((*r)->extended_key_usage.empty());
}

INSTANTIATE_TEST_SUITE_P(Known, FindProfile,
                         ::testing::Values("tls-server", "tls-client", "document-signing", "ocsp", "tsa"));

TEST(FindProfile, ReturnsUnknownProfileListingTheKnownOnes) {
  for (const char* bad : {"", "TLS-server", "tls_server", "tls-server ", "root", "email"}) {
    auto r = find_profile(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, core::Errc::unknown_profile);
    EXPECT_NE(r.error().message.find("tls-server, tls-client, document-signing, ocsp, tsa"), std::string::npos)
        << r.error().message;
  }
}

TEST(FindProfile, ReturnsTheSameObjectEachTime) {
  auto a = find_profile("tsa"), b = find_profile("tsa");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(Profiles, TlsServerRequiresDnsOrIpSansAndServerAuth) {
  const Profile& p = get("tls-server");
  EXPECT_TRUE(p.requires_san);
  EXPECT_TRUE(allows(p, SanKind::dns));
  EXPECT_TRUE(allows(p, SanKind::ip));
  EXPECT_FALSE(allows(p, SanKind::email));
  EXPECT_FALSE(allows(p, SanKind::uri));
  EXPECT_EQ(p.extended_key_usage, "serverAuth");
  EXPECT_LE(p.max_validity_days, 397);  // CA/Browser Forum
  EXPECT_EQ(p.issuers, std::vector<std::string>{"tls"});
  EXPECT_NE(p.key_usage_rsa.find("keyEncipherment"), std::string::npos);
  EXPECT_EQ(p.key_usage_ec.find("keyEncipherment"), std::string::npos);  // ECDSA keys cannot encipher
}

TEST(Profiles, TlsClientAllowsDnsEmailUri) {
  const Profile& p = get("tls-client");
  EXPECT_FALSE(p.requires_san);
  EXPECT_TRUE(allows(p, SanKind::dns));
  EXPECT_TRUE(allows(p, SanKind::email));
  EXPECT_TRUE(allows(p, SanKind::uri));
  EXPECT_FALSE(allows(p, SanKind::ip));
  EXPECT_EQ(p.extended_key_usage, "clientAuth");
}

TEST(Profiles, DocumentSigningHasNonRepudiationAndDocumentSigningEku) {
  const Profile& p = get("document-signing");
  EXPECT_EQ(p.issuers, std::vector<std::string>{"document"});
  EXPECT_NE(p.key_usage_rsa.find("nonRepudiation"), std::string::npos);
  EXPECT_NE(p.key_usage_ec.find("nonRepudiation"), std::string::npos);
  EXPECT_NE(p.extended_key_usage.find("1.3.6.1.5.5.7.3.36"), std::string::npos);
  EXPECT_FALSE(allows(p, SanKind::dns));
  EXPECT_TRUE(allows(p, SanKind::email));
}

TEST(Profiles, OcspResponderIsNoCheckWithoutOcspUrl) {
  const Profile& p = get("ocsp");
  EXPECT_TRUE(p.ocsp_no_check);
  EXPECT_FALSE(p.include_ocsp_url);
  EXPECT_NE(p.extended_key_usage.find("OCSPSigning"), std::string::npos);
  EXPECT_EQ(p.issuers, (std::vector<std::string>{"tls", "document"}));
}

TEST(Profiles, TsaHasCriticalTimeStampingOnlyAndNoSans) {
  const Profile& p = get("tsa");
  EXPECT_EQ(p.extended_key_usage, "critical,timeStamping");  // RFC 3161 2.3
  EXPECT_TRUE(p.allowed_sans.empty());
  EXPECT_FALSE(p.requires_san);
}

TEST(Profiles, OnlyOcspProfileIsNoCheck) {
  for (const auto& p : profiles()) EXPECT_EQ(p.ocsp_no_check, p.name == "ocsp") << p.name;
}

}  // namespace
}  // namespace cartorio::pki
