#include "pki/csr_validator.h"

#include "crypto/x509.h"
#include "pki/pki_test_support.h"

#include <gtest/gtest.h>

#include <string>

namespace cartorio::pki {
namespace {

using core::Errc;
using namespace cartorio::pki::test;

const Profile& profile(const char* name) {
  auto r = find_profile(name);
  EXPECT_TRUE(r);
  return **r;
}

core::Result<ValidatedCsr> validate(const CsrSpec& spec, const char* profile_name = "tls-server") {
  return validate_csr(csr_der(spec), profile(profile_name));
}

CsrSpec server_csr(TestKey k, std::vector<Gn> sans = {dns("www.example.com")}) {
  CsrSpec s;
  s.key = key(k);
  s.subject = {{"C", "BR"}, {"O", "Example Ltda"}, {"CN", "www.example.com"}};
  s.sans = std::move(sans);
  return s;
}

void expect_error(const core::Result<ValidatedCsr>& r, Errc code, const char* what) {
  ASSERT_FALSE(r) << what << ": accepted";
  EXPECT_EQ(r.error().code, code) << what << ": " << r.error().to_string();
}

// ---- accepted keys ------------------------------------------------------------------------------------

class AcceptsKey : public ::testing::TestWithParam<TestKey> {};

TEST_P(AcceptsKey, ForTlsServer_ReturningKeySubjectAndSans) {
  auto spec = server_csr(GetParam(), {dns("www.example.com"), dns("*.api.example.com"), ip("192.0.2.7"),
                                      ip("2001:db8::1")});
  auto r = validate(spec);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(crypto::same_public_key(r->public_key.get(), key(GetParam())));
  EXPECT_EQ(crypto::name_to_string(r->subject.get()), "CN=www.example.com,O=Example Ltda,C=BR");
  ASSERT_EQ(r->sans.size(), 4u);
  EXPECT_EQ(r->sans[0].display(), "DNS:www.example.com");
  EXPECT_EQ(r->sans[1].display(), "DNS:*.api.example.com");
  EXPECT_EQ(r->sans[2].display(), "IP:192.0.2.7");
  EXPECT_EQ(r->sans[3].display(), "IP:2001:db8::1");
}

INSTANTIATE_TEST_SUITE_P(Keys, AcceptsKey, ::testing::Values(TestKey::rsa2048, TestKey::p256, TestKey::p384),
                         [](const auto& i) {
                           switch (i.param) {
                             case TestKey::rsa2048: return std::string("Rsa2048");
                             case TestKey::p256: return std::string("P256");
                             default: return std::string("P384");
                           }
                         });

TEST(ValidateCsr, AcceptsPemAsWellAsDer) {
  auto req = make_csr(server_csr(TestKey::p256));
  const std::string pem = to_pem(req.get());
  auto r = validate_csr(crypto::as_bytes(pem), profile("tls-server"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->sans.size(), 1u);
}

// ---- refused keys --------------------------------------------------------------------------------------

TEST(ValidateCsr, Rejects_Rsa1024AsWeakKey) {
  expect_error(validate(server_csr(TestKey::rsa1024)), Errc::weak_key, "RSA 1024");
}

TEST(ValidateCsr, Rejects_RsaWithExponent3AsWeakKey) {
  expect_error(validate(server_csr(TestKey::rsa2048_e3)), Errc::weak_key, "RSA e=3");
}

TEST(ValidateCsr, Rejects_P521AsUnsupported) {
  expect_error(validate(server_csr(TestKey::p521)), Errc::unsupported_key_type, "P-521");
}

TEST(ValidateCsr, Rejects_Ed25519AsUnsupported) {
  expect_error(validate(server_csr(TestKey::ed25519)), Errc::unsupported_key_type, "Ed25519");
}

TEST(ValidateCsr, Rejects_CsrWithBadSignature) {
  for (auto [k, other] : {std::pair{TestKey::p256, TestKey::p256_other}, std::pair{TestKey::rsa2048, TestKey::rsa2048_other}}) {
    auto spec = server_csr(k);
    spec.signer = key(other);
    expect_error(validate(spec), Errc::csr_bad_signature, "signed by another key");
  }
}

TEST(ValidateCsr, Rejects_CsrWithFlippedSignatureBit) {
  crypto::Bytes der = csr_der(server_csr(TestKey::p256));
  der[der.size() - 5] ^= 0x01;  // inside the signature BIT STRING
  expect_error(validate_csr(der, profile("tls-server")), Errc::csr_bad_signature, "flipped signature");
}

TEST(ValidateCsr, Rejects_CsrWithEditedSubject) {
  // Change one byte of the CN after signing: the signature no longer covers the content.
  crypto::Bytes der = csr_der(server_csr(TestKey::p256));
  const std::string needle = "Example Ltda";
  auto it = std::search(der.begin(), der.end(), needle.begin(), needle.end());
  ASSERT_NE(it, der.end());
  *it = 'X';
  expect_error(validate_csr(der, profile("tls-server")), Errc::csr_bad_signature, "edited subject");
}

// ---- malformed input -------------------------------------------------------------------------------------

TEST(ValidateCsr, Rejects_EmptyOrGarbageAsMalformed) {
  expect_error(validate_csr(crypto::ByteView{}, profile("tls-server")), Errc::malformed_csr, "empty");
  expect_error(validate_csr(crypto::as_bytes("hello"), profile("tls-server")), Errc::malformed_csr, "garbage");
  expect_error(validate_csr(crypto::as_bytes("-----BEGIN CERTIFICATE REQUEST-----\nZm9v\n-----END CERTIFICATE REQUEST-----\n"),
                            profile("tls-server")),
               Errc::malformed_csr, "bad PEM body");
}

TEST(ValidateCsr, Rejects_TruncatedOrTrailingBytesAsMalformed) {
  crypto::Bytes der = csr_der(server_csr(TestKey::p256));
  crypto::Bytes truncated(der.begin(), der.end() - 10);
  expect_error(validate_csr(truncated, profile("tls-server")), Errc::malformed_csr, "truncated");
  der.push_back(0);
  expect_error(validate_csr(der, profile("tls-server")), Errc::malformed_csr, "trailing byte");
}

TEST(ValidateCsr, Rejects_CsrLargerThan64KiB) {
  crypto::Bytes big(64 * 1024 + 1, 0x30);
  expect_error(validate_csr(big, profile("tls-server")), Errc::malformed_csr, "huge");
}

// ---- profile rules on SANs ----------------------------------------------------------------------------------

TEST(ValidateCsr, Rejects_TlsServerWithoutSan) {
  expect_error(validate(server_csr(TestKey::p256, {})), Errc::profile_violation, "no SAN");
}

TEST(ValidateCsr, Rejects_SanKindTheProfileDoesNotAllow) {
  auto r = validate(server_csr(TestKey::p256, {dns("www.example.com"), email("admin@example.com")}));
  expect_error(r, Errc::profile_violation, "email in tls-server");
  if (!r) {
    EXPECT_NE(r.error().message.find("email:admin@example.com"), std::string::npos) << r.error().message;
  }
  expect_error(validate(server_csr(TestKey::p256, {uri("https://example.com/")})), Errc::profile_violation,
               "URI in tls-server");
  expect_error(validate(server_csr(TestKey::p256, {ip("10.0.0.1")}), "tls-client"), Errc::profile_violation,
               "IP in tls-client");
  expect_error(validate(server_csr(TestKey::p256, {dns("a.example.com")}), "document-signing"),
               Errc::profile_violation, "DNS in document-signing");
  expect_error(validate(server_csr(TestKey::p256, {email("tsa@example.com")}), "tsa"), Errc::profile_violation,
               "any SAN in tsa");
}

TEST(ValidateCsr, AcceptsEmailAndUriForTlsClientAndDocumentSigning) {
  auto a = validate(server_csr(TestKey::p256, {email("svc@example.com"), uri("spiffe://example.com/billing")}),
                    "tls-client");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->sans[1].display(), "URI:spiffe://example.com/billing");
  auto b = validate(server_csr(TestKey::p256, {email("Maria.Silva+pdf@Example.COM.br")}), "document-signing");
  ASSERT_TRUE(b) << b.error().to_string();
}

TEST(ValidateCsr, AcceptsProfilesWithoutSanRequirement_WithSubjectOnly) {
  CsrSpec s;
  s.key = key(TestKey::p256);
  s.subject = {{"CN", "Cartorio TSA 1"}, {"O", "Cartorio"}};
  for (const char* p : {"tsa", "ocsp", "tls-client", "document-signing"}) {
    auto r = validate(s, p);
    EXPECT_TRUE(r) << p << ": " << r.error().to_string();
  }
}

TEST(ValidateCsr, Rejects_CsrWithNeitherSubjectNorSan) {
  CsrSpec s;
  s.key = key(TestKey::p256);
  s.subject = {};
  expect_error(validate(s, "tsa"), Errc::profile_violation, "empty subject, no SAN");
  // A subject made only of dropped attributes is as empty.
  s.subject = {{"emailAddress", "x@example.com"}};
  expect_error(validate(s, "tsa"), Errc::profile_violation, "only emailAddress");
}

// ---- SAN syntax -----------------------------------------------------------------------------------------------

class Rejects_InvalidDnsSan : public ::testing::TestWithParam<const char*> {};

TEST_P(Rejects_InvalidDnsSan, AsInvalidSan) {
  auto r = validate(server_csr(TestKey::p256, {dns("ok.example.com"), dns(GetParam())}));
  expect_error(r, Errc::invalid_san, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cases, Rejects_InvalidDnsSan,
                         ::testing::Values("under_score.example.com", "Upper.example.com", "trailing.example.com.",
                                           "empty..label.com", ".leading.example.com", "",
                                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",  // 64
                                           "a.*.example.com", "*.*.example.com", "*example.com", "*", "-lead.com",
                                           "trail-.com", "sp ace.com", "x\xc3\xa9.com"));

TEST(ValidateCsr, Rejects_InvalidEmailSan) {
  for (const char* bad : {"no-at-sign", "@example.com", "a@", "a@b@example.com", "a b@example.com", "a@exa_mple.com",
                          "<a>@example.com", "a@example.com."}) {
    expect_error(validate(server_csr(TestKey::p256, {email(bad)}), "tls-client"), Errc::invalid_san, bad);
  }
}

TEST(ValidateCsr, Rejects_InvalidUriSan) {
  for (const char* bad : {"no-scheme", ":nothing", "1http://x", "https://exa mple.com", "https://x/\x7f", "",
                          "https://caf\xc3\xa9.example"}) {
    expect_error(validate(server_csr(TestKey::p256, {uri(bad)}), "tls-client"), Errc::invalid_san, bad);
  }
}

TEST(ValidateCsr, Rejects_IpSanOfWrongLength) {
  expect_error(validate(server_csr(TestKey::p256, {raw_ip(std::string("\x0a\x00\x00\x01\x02", 5))})),
               Errc::invalid_san, "5-byte IP");
  expect_error(validate(server_csr(TestKey::p256, {raw_ip("")})), Errc::invalid_san, "0-byte IP");
}

TEST(ValidateCsr, Rejects_UnsupportedSanType) {
  expect_error(validate(server_csr(TestKey::p256, {dns("a.example.com"), rid("1.2.3.4")})), Errc::invalid_san,
               "registeredID");
}

TEST(ValidateCsr, Rejects_TwoSubjectAltNameExtensions) {
  // RFC 5280 4.2: an extension appears at most once. Only the first one is read, so the
  // second (here with names the profile forbids and bad syntax) is never looked at.
  auto spec = server_csr(TestKey::p256);
  spec.extra_san_extensions = {{email("admin@example.com"), dns("Evil_Name.example.com")}};
  auto r = validate(spec);
  ASSERT_FALSE(r) << "regression: src/pki/csr_validator.cpp:81 read_sans passes &idx to X509V3_get_d2i, which then returns "
                     "the first match and never reports duplicates (crit == -2 only happens with idx == NULL); "
                     "the second subjectAltName extension is ignored";
  EXPECT_EQ(r.error().code, Errc::invalid_san);
}

TEST(ValidateCsr, Rejects_MoreThan100Sans) {
  std::vector<Gn> many;
  for (int i = 0; i < 101; ++i) many.push_back(dns("h" + std::to_string(i) + ".example.com"));
  expect_error(validate(server_csr(TestKey::p256, many)), Errc::invalid_san, "101 SANs");
  many.pop_back();
  auto ok = validate(server_csr(TestKey::p256, many));
  EXPECT_TRUE(ok) << "100 SANs: " << ok.error().to_string();
}

TEST(ValidateCsr, Rejects_IpAddressWrittenAsDnsName) {
  // CA/Browser Forum BR 7.1.4.2.1: a dNSName must not hold an IP address.
  auto r = validate(server_csr(TestKey::p256, {dns("192.168.0.1")}));
  ASSERT_FALSE(r) << "regression: src/pki/csr_validator.cpp:182-199 is_valid_dns_name accepts all-numeric labels, so "
                     "DNS:192.168.0.1 passes tls-server validation";
  EXPECT_EQ(r.error().code, Errc::invalid_san);
}

// ---- subject filtering ------------------------------------------------------------------------------------------

TEST(ValidateCsr, KeepsAllowedSubjectAttributesInOrder_DropsOthers) {
  CsrSpec s = server_csr(TestKey::p256);
  s.subject = {{"C", "BR"},          {"ST", "SP"},          {"L", "Sao Paulo"}, {"O", "Example"},
               {"OU", "TI"},         {"emailAddress", "x@example.com"},   {"DC", "example"},
               {"title", "CEO"},     {"serialNumber", "12345678901"},     {"CN", "www.example.com"}};
  auto r = validate(s);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(crypto::name_to_string(r->subject.get()),
            "CN=www.example.com,serialNumber=12345678901,OU=TI,O=Example,L=Sao Paulo,ST=SP,C=BR");
}

TEST(ValidateCsr, KeepsUtf8SubjectValues) {
  CsrSpec s = server_csr(TestKey::p256);
  s.subject = {{"O", "Cartório São João"}, {"CN", "www.example.com"}};
  auto r = validate(s);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(crypto::name_to_string(r->subject.get()), "CN=www.example.com,O=Cartório São João");
}

TEST(ValidateCsr, Rejects_SubjectAttributeLongerThan64Characters) {
  // OpenSSL itself refuses to build such a name (ub-organization-name); build it raw.
  crypto::X509Req req(X509_REQ_new());
  crypto::X509Name name(X509_NAME_new());
  const std::string longcn(65, 'a');
  X509_NAME_ENTRY* e = X509_NAME_ENTRY_create_by_NID(nullptr, NID_commonName, V_ASN1_UTF8STRING,
                                                     reinterpret_cast<const unsigned char*>(longcn.data()), 65);
  ASSERT_NE(e, nullptr);
  X509_NAME_add_entry(name.get(), e, -1, 0);
  X509_NAME_ENTRY_free(e);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key(TestKey::p256));
  ASSERT_GT(X509_REQ_sign(req.get(), key(TestKey::p256), EVP_sha256()), 0);
  expect_error(validate_csr(to_der(req.get()), profile("tsa")), Errc::profile_violation, "65-char CN");
}

TEST(ValidateCsr, AcceptsSubjectOf64NonAsciiCharacters) {
  // ub-common-name is 64 characters; "ç" is two bytes in UTF-8, so 40 of them are 80 bytes.
  std::string cn;
  for (int i = 0; i < 40; ++i) cn += "ç";
  crypto::X509Req req(X509_REQ_new());
  crypto::X509Name name(X509_NAME_new());
  X509_NAME_ENTRY* e = X509_NAME_ENTRY_create_by_NID(nullptr, NID_commonName, V_ASN1_UTF8STRING,
                                                     reinterpret_cast<const unsigned char*>(cn.data()),
                                                     static_cast<int>(cn.size()));
  ASSERT_NE(e, nullptr);
  X509_NAME_add_entry(name.get(), e, -1, 0);
  X509_NAME_ENTRY_free(e);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key(TestKey::p256));
  ASSERT_GT(X509_REQ_sign(req.get(), key(TestKey::p256), EVP_sha256()), 0);
  auto r = validate_csr(to_der(req.get()), profile("tsa"));
  EXPECT_TRUE(r) << "regression: src/pki/csr_validator.cpp:167 filter_subject compares UTF-8 byte length with the 64-character "
                    "limit: "
                 << r.error().to_string();
}

crypto::Bytes csr_with_country(const std::string& country, int asn1_type) {
  crypto::X509Req req(X509_REQ_new());
  crypto::X509Name name(X509_NAME_new());
  X509_NAME_ENTRY* e = X509_NAME_ENTRY_create_by_NID(nullptr, NID_countryName, asn1_type,
                                                     reinterpret_cast<const unsigned char*>(country.data()),
                                                     static_cast<int>(country.size()));
  EXPECT_NE(e, nullptr);
  X509_NAME_add_entry(name.get(), e, -1, 0);
  X509_NAME_ENTRY_free(e);
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("x"), -1, -1, 0);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key(TestKey::p256));
  EXPECT_GT(X509_REQ_sign(req.get(), key(TestKey::p256), EVP_sha256()), 0);
  return to_der(req.get());
}

TEST(ValidateCsr, Rejects_CountryOfWrongLength) {
  for (const char* c : {"BRA", "B"})
    expect_error(validate_csr(csr_with_country(c, V_ASN1_PRINTABLESTRING), profile("tsa")), Errc::profile_violation, c);
}

TEST(ValidateCsr, Rejects_CountryThatIsNotLetters) {
  // "two-letter country code" (the validator's own message), but only the length is checked;
  // "B!" is not even a PrintableString, so re-encoding it fails and C is silently dropped.
  for (const char* c : {"12", "B!"}) {
    auto r = validate_csr(csr_with_country(c, V_ASN1_UTF8STRING), profile("tsa"));
    if (r) {
      ADD_FAILURE() << "accepted C=" << c << " as subject \"" << crypto::name_to_string(r->subject.get()) << "\"";
      continue;
    }
    EXPECT_EQ(r.error().code, Errc::profile_violation);
  }
}

// ---- is_valid_dns_name / is_valid_email tables ------------------------------------------------------------------

struct NameCase {
  const char* name;
  bool wildcard;
  bool valid;
};

class DnsName : public ::testing::TestWithParam<NameCase> {};

TEST_P(DnsName, Classifies) {
  EXPECT_EQ(is_valid_dns_name(GetParam().name, GetParam().wildcard), GetParam().valid)
      << "\"" << GetParam().name << "\" wildcard=" << GetParam().wildcard;
}

const std::string k63(63, 'a'), k64(64, 'a');
const std::string k253 = k63 + "." + k63 + "." + k63 + "." + std::string(61, 'b');  // 253
const std::string k254 = k253 + "c";

INSTANTIATE_TEST_SUITE_P(
    Table, DnsName,
    ::testing::Values(NameCase{"example.com", false, true}, NameCase{"a.b-c.example", false, true},
                      NameCase{"xn--caf-dma.com.br", false, true}, NameCase{"localhost", false, true},
                      NameCase{"a1.b2", false, true}, NameCase{"*.example.com", true, true},
                      NameCase{"*.example.com", false, false}, NameCase{"", false, false}, NameCase{"", true, false},
                      NameCase{"Example.com", false, false}, NameCase{"EXAMPLE.COM", false, false},
                      NameCase{"a_b.example.com", false, false}, NameCase{"example.com.", false, false},
                      NameCase{".example.com", false, false}, NameCase{"a..b", false, false},
                      NameCase{"-a.com", false, false}, NameCase{"a-.com", false, false},
                      NameCase{"a.*.example.com", true, false}, NameCase{"*.*.example.com", true, false},
                      NameCase{"*.com", true, false}, NameCase{"*.example.br", true, true},
                      NameCase{"*example.com", true, false}, NameCase{"**.example.com", true, false},
                      NameCase{"*", true, false}, NameCase{"*.", true, false}, NameCase{"a b.com", false, false},
                      NameCase{"ex!mple.com", false, false}, NameCase{"caf\xc3\xa9.com", false, false}));

TEST(DnsName, LabelAndNameLengthLimits) {
  EXPECT_TRUE(is_valid_dns_name(k63 + ".com", false));
  EXPECT_FALSE(is_valid_dns_name(k64 + ".com", false));
  EXPECT_EQ(k253.size(), 253u);
  EXPECT_TRUE(is_valid_dns_name(k253, false));
  EXPECT_FALSE(is_valid_dns_name(k254, false));
}

class Email : public ::testing::TestWithParam<std::pair<const char*, bool>> {};

TEST_P(Email, Classifies) {
  EXPECT_EQ(is_valid_email(GetParam().first), GetParam().second) << "\"" << GetParam().first << "\"";
}

INSTANTIATE_TEST_SUITE_P(Table, Email,
                         ::testing::Values(std::pair{"a@example.com", true},
                                           std::pair{"first.last+tag@sub.example.com.br", true},
                                           std::pair{"a@EXAMPLE.com", true},  // domains compare case-insensitively
                                           std::pair{"user-name_1@x.io", true}, std::pair{"", false},
                                           std::pair{"a", false}, std::pair{"@example.com", false},
                                           std::pair{"a@", false}, std::pair{"a@b@example.com", false},
                                           std::pair{"a b@example.com", false}, std::pair{"a@exa mple.com", false},
                                           std::pair{"<a>@example.com", false}, std::pair{"a@example.com.", false},
                                           std::pair{"a@-x.com", false}, std::pair{"a@x_y.com", false},
                                           std::pair{"jo\xc3\xa3o@example.com", false},
                                           std::pair{"a\t@example.com", false}));

TEST(Email, RejectsAddressesLongerThan254) {
  const std::string local(64, 'a');
  const std::string domain = std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd') + ".com";
  const std::string addr = local + "@" + domain;
  ASSERT_GT(addr.size(), 254u);
  EXPECT_FALSE(is_valid_email(addr));
}

TEST(SubjectAltName, DisplaysKindPrefix) {
  EXPECT_EQ((SubjectAltName{SanKind::dns, "a.b"}).display(), "DNS:a.b");
  EXPECT_EQ((SubjectAltName{SanKind::ip, "10.0.0.1"}).display(), "IP:10.0.0.1");
  EXPECT_EQ((SubjectAltName{SanKind::email, "x@y.z"}).display(), "email:x@y.z");
  EXPECT_EQ((SubjectAltName{SanKind::uri, "https://x"}).display(), "URI:https://x");
}

}  // namespace
}  // namespace cartorio::pki
