// The PKI core end to end through the `cartorio` binary: init, issue for every profile,
// revoke, CRLs, the offline root ceremony, bad CSRs. Every certificate and CRL is judged by
// `openssl`, not by our own code. Runs on the embedded defaults (SQLite + software keys) and,
// with CARTORIO_TEST_BACKENDS=postgres_pkcs11, on PostgreSQL + SoftHSM2.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <regex>

#include <sys/stat.h>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

constexpr const char* kPassphrase = "correct horse battery staple 2026";

bool pg_pkcs11_mode() {
  const char* b = std::getenv("CARTORIO_TEST_BACKENDS");
  return b && std::string(b) == "postgres_pkcs11";
}

std::string random_name() {
  std::random_device rd;
  return "t" + std::to_string(rd()) + std::to_string(rd() % 1000);
}

// One installation shared by the suite (init with an RSA 4096 root takes a while).
class CliPki : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((s_dir->path() / "data").string()) +
            " CARTORIO_PKI_PUBLIC_BASE_URL=http://pki.test.example ";
    write_file(s_dir->path() / "passphrase", std::string(kPassphrase) + "\n");
    if (pg_pkcs11_mode()) set_up_engines();
    auto r = run(s_env + CARTORIO_BIN " init --root-passphrase-file " + shell_quote((s_dir->path() / "passphrase").string()) +
                 " --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    auto j = nlohmann::json::parse(r.out);
    s_root = j["root_certificate"].get<std::string>();
    s_sealed = j["sealed_root_key"].get<std::string>();
  }

  // PostgreSQL from the CTest fixture (a schema of our own) and a fresh SoftHSM2 token.
  static void set_up_engines() {
    auto conninfo = cartorio::testing::read_env_file("CARTORIO_TEST_PG_CONNINFO_FILE");
    ASSERT_TRUE(conninfo) << "CARTORIO_TEST_PG_CONNINFO_FILE is not set: run through ctest (fixture postgres)";
    const std::string schema = random_name();
    auto r = run("psql " + shell_quote(*conninfo) + " -v ON_ERROR_STOP=1 -qc 'CREATE SCHEMA " + schema + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string url = *conninfo + " options='-csearch_path=" + schema + "'";
    s_pg_url = url;
    const fs::path hsm = s_dir->path() / "softhsm";
    fs::create_directories(hsm / "tokens");
    write_file(hsm / "softhsm2.conf", "directories.tokendir = " + (hsm / "tokens").string() +
                                          "\nobjectstore.backend = file\nlog.level = ERROR\n");
    setenv("SOFTHSM2_CONF", (hsm / "softhsm2.conf").c_str(), 1);
    r = run("softhsm2-util --init-token --free --label cartorio-test --so-pin 12345678 --pin 87654321");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    write_file(hsm / "pin", "87654321\n");
    s_env += "CARTORIO_STORE_BACKEND=postgres CARTORIO_STORE_POSTGRES_URL=" + shell_quote(url) +
             " CARTORIO_KEYS_BACKEND=pkcs11 CARTORIO_KEYS_PKCS11_TOKEN=cartorio-test CARTORIO_KEYS_PKCS11_PIN_FILE=" +
             shell_quote((hsm / "pin").string()) + " ";
  }

  static void TearDownTestSuite() { s_dir.reset(); }

  CommandResult cartorio(const std::string& args) { return run(s_env + CARTORIO_BIN " " + args); }

  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }

  // A key + CSR made by `openssl req`, as a user would.
  fs::path make_csr(const std::string& name, const std::string& key_spec, const std::string& subj,
                    const std::string& san = "") {
    const auto key = tmp(name + ".key"), csr = tmp(name + ".csr");
    std::string cmd = "openssl req -new -newkey " + key_spec + " -nodes -keyout " + key.string() + " -out " +
                      csr.string() + " -subj " + shell_quote(subj);
    if (!san.empty()) cmd += " -addext " + shell_quote("subjectAltName=" + san);
    auto r = run(cmd);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return csr;
  }

  fs::path chain_file(const std::string& ca) {
    auto r = cartorio("ca chain --ca " + ca);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto p = tmp("chain-" + ca + ".pem");
    write_file(p, r.out);
    return p;
  }

  // Intermediate only (the chain minus the root), for -untrusted.
  fs::path intermediate_file(const std::string& ca) {
    auto chain = read_file(chain_file(ca));
    auto end = chain.find("-----END CERTIFICATE-----");
    auto p = tmp("int-" + ca + ".pem");
    write_file(p, chain.substr(0, end + 26));
    return p;
  }

  fs::path issue(const std::string& profile, const fs::path& csr, const std::string& extra = "") {
    auto out = tmp(profile + "-" + random_name() + ".pem");
    auto r = cartorio("cert issue --profile " + profile + " --csr " + csr.string() + " --out " + out.string() + " " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  std::string x509_text(const fs::path& cert) {
    auto r = run("openssl x509 -noout -text -in " + cert.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  CommandResult verify(const fs::path& cert, const std::string& ca, const std::string& extra = "") {
    return run("openssl verify -x509_strict -CAfile " + s_root + " -untrusted " + intermediate_file(ca).string() + " " +
               extra + " " + cert.string());
  }

  std::string serial_of(const fs::path& cert) {
    auto r = run("openssl x509 -noout -serial -in " + cert.string());
    std::string s = r.out.substr(r.out.find('=') + 1);
    while (!s.empty() && (s.back() == '\n')) s.pop_back();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s.substr(s.find_first_not_of('0'));
  }

  int certificate_count() {
    auto r = cartorio("cert list --json --limit 1000");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<int>(nlohmann::json::parse(r.out).size());
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env;
  static std::string s_root;
  static std::string s_sealed;
  static std::string s_pg_url;
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliPki::s_dir;
std::string CliPki::s_env;
std::string CliPki::s_root;
std::string CliPki::s_sealed;
std::string CliPki::s_pg_url;

using cartorio::testing::expect_contains;

TEST_F(CliPki, Root_IsRsa4096SelfSignedForTwentyYears) {
  auto text = x509_text(s_root);
  expect_contains(text, "Subject: C = BR, O = Cartorio Digital, CN = Cartorio Digital Root CA");
  expect_contains(text, "Public-Key: (4096 bit)");
  expect_contains(text, "CA:TRUE");
  expect_contains(text, "Certificate Sign, CRL Sign");
  auto r = run("openssl x509 -noout -checkend " + std::to_string(19LL * 365 * 86400) + " -in " + s_root);
  EXPECT_EQ(r.exit_code, 0) << "root must be valid for ~20 years";
  r = run("openssl x509 -noout -checkend " + std::to_string(21LL * 365 * 86400) + " -in " + s_root);
  EXPECT_NE(r.exit_code, 0);
  r = run("openssl verify -x509_strict -CAfile " + s_root + " " + s_root);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(CliPki, Intermediates_ArePathLenZeroWithEkuConstraintsAndChainToRoot) {
  for (std::string ca : {"tls", "document"}) {
    auto inter = intermediate_file(ca);
    auto text = x509_text(inter);
    expect_contains(text, "CA:TRUE, pathlen:0");
    expect_contains(text, "Certificate Sign, CRL Sign");
    expect_contains(text, "Public-Key: (2048 bit)");
    expect_contains(text, "Issuer: C = BR, O = Cartorio Digital, CN = Cartorio Digital Root CA");
    expect_contains(text, "URI:http://pki.test.example/crl/root.crl");
    expect_contains(text, "CA Issuers - URI:http://pki.test.example/ca/root.crt");
    expect_contains(text, "X509v3 Authority Key Identifier");
    expect_contains(text, "X509v3 Subject Key Identifier");
    if (ca == "tls") expect_contains(text, "TLS Web Server Authentication, TLS Web Client Authentication, OCSP Signing");
    else expect_contains(text, "E-mail Protection, 1.3.6.1.5.5.7.3.36, Time Stamping, OCSP Signing");
    auto r = run("openssl verify -x509_strict -CAfile " + s_root + " " + inter.string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto days = run("openssl x509 -noout -checkend " + std::to_string(4LL * 365 * 86400) + " -in " + inter.string());
    EXPECT_EQ(days.exit_code, 0) << "intermediates are valid ~5 years";
  }
}

struct ProfileCase {
  std::string profile;
  std::string ca;
  std::string key_spec;
  std::string subject;
  std::string san;
  std::vector<std::string> expected;  // lines `openssl x509 -text` must show
};

TEST_F(CliPki, EveryProfile_IssuesStrictlyValidCertificatesWithItsExtensions) {
  const std::vector<ProfileCase> cases = {
      {"tls-server", "tls", "rsa:2048", "/CN=www.cartorio.test", "DNS:www.cartorio.test,DNS:*.api.cartorio.test,IP:10.1.2.3",
       {"TLS Web Server Authentication", "Digital Signature, Key Encipherment", "DNS:www.cartorio.test",
        "DNS:*.api.cartorio.test", "IP Address:10.1.2.3", "CA:FALSE", "OCSP - URI:http://pki.test.example/ocsp/tls",
        "CA Issuers - URI:http://pki.test.example/ca/tls.crt", "URI:http://pki.test.example/crl/tls.crl"}},
      {"tls-server", "tls", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=ec.cartorio.test", "DNS:ec.cartorio.test",
       {"TLS Web Server Authentication", "ASN1 OID: prime256v1", "Digital Signature"}},
      {"tls-client", "tls", "ec -pkeyopt ec_paramgen_curve:P-384", "/CN=billing-service/O=Cartorio Digital",
       "URI:spiffe://cartorio/billing", {"TLS Web Client Authentication", "URI:spiffe://cartorio/billing", "secp384r1"}},
      {"document-signing", "document", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=Escritura 2026-0001",
       "email:tabeliao@cartorio.test",
       {"Digital Signature, Non Repudiation", "E-mail Protection, 1.3.6.1.5.5.7.3.36", "email:tabeliao@cartorio.test",
        "OCSP - URI:http://pki.test.example/ocsp/document", "URI:http://pki.test.example/crl/document.crl"}},
      {"ocsp", "tls", "rsa:2048", "/CN=External OCSP Responder", "",
       {"X509v3 Extended Key Usage: critical", "OCSP Signing", "OCSP No Check"}},
      {"tsa", "document", "rsa:3072", "/CN=Secondary TSA", "",
       {"X509v3 Extended Key Usage: critical", "Time Stamping", "Digital Signature, Non Repudiation"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.profile + " " + c.key_spec);
    auto csr = make_csr(c.profile, c.key_spec, c.subject, c.san);
    auto cert = issue(c.profile, csr);
    auto r = verify(cert, c.ca);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto text = x509_text(cert);
    for (const auto& e : c.expected) expect_contains(text, e);
    expect_contains(text, "X509v3 Authority Key Identifier");
    expect_contains(text, "X509v3 Subject Key Identifier");
    expect_contains(text, "X509v3 CRL Distribution Points");
    // >= 64 bits of serial: ours are 16 bytes.
    EXPECT_GE(serial_of(cert).size(), 16u);
  }
}

TEST_F(CliPki, SystemIdentities_OcspRespondersAndTsaChain) {
  // The delegated responders and the TSA were issued at init and are in the inventory.
  auto r = cartorio("cert list --json --profile ocsp");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = nlohmann::json::parse(r.out);
  int responders = 0;
  for (const auto& c : list)
    if (c["subject"].get<std::string>().find("OCSP Responder") != std::string::npos) {
      ++responders;
      auto p = tmp("responder.pem");
      write_file(p, cartorio("cert show " + c["serial"].get<std::string>()).out);
      EXPECT_EQ(verify(p, c["issuer"].get<std::string>()).exit_code, 0);
      auto text = x509_text(p);
      expect_contains(text, "OCSP Signing");
      expect_contains(text, "OCSP No Check");
    }
  EXPECT_GE(responders, 2);
  r = cartorio("cert list --json --profile tsa");
  auto tsa = nlohmann::json::parse(r.out);
  ASSERT_FALSE(tsa.empty());
  auto p = tmp("tsa.pem");
  write_file(p, cartorio("cert show " + tsa[0]["serial"].get<std::string>()).out);
  EXPECT_EQ(verify(p, "document", "-purpose timestampsign").exit_code, 0);
  expect_contains(x509_text(p), "X509v3 Extended Key Usage: critical");
}

TEST_F(CliPki, Revocation_AppearsInCrlThatOpensslAcceptsAndUses) {
  auto csr = make_csr("revoke-me", "rsa:2048", "/CN=revoke.cartorio.test", "DNS:revoke.cartorio.test");
  auto cert = issue("tls-server", csr);
  const std::string serial = serial_of(cert);
  auto r = cartorio("cert revoke " + serial + " --reason keyCompromise --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "revoked");

  r = cartorio("crl generate --ca tls");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto crl = tmp("tls.crl.pem");
  write_file(crl, r.out);
  auto chain = chain_file("tls");
  r = run("openssl crl -noout -verify -CAfile " + chain.string() + " -in " + crl.string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.err + r.out, "verify OK");
  r = run("openssl crl -noout -text -in " + crl.string());
  std::string upper = serial;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  expect_contains(r.out, upper);
  expect_contains(r.out, "Key Compromise");
  expect_contains(r.out, "X509v3 CRL Number");
  expect_contains(r.out, "X509v3 Authority Key Identifier");

  // Without the CRL the certificate verifies; with it, openssl rejects it as revoked.
  EXPECT_EQ(verify(cert, "tls").exit_code, 0);
  r = verify(cert, "tls", "-crl_check -CRLfile " + crl.string());
  EXPECT_NE(r.exit_code, 0);
  expect_contains(r.out + r.err, "certificate revoked");
  // An unrevoked certificate passes the same check, including the root CRL (-crl_check_all).
  auto good = issue("tls-server", make_csr("still-good", "rsa:2048", "/CN=good.cartorio.test", "DNS:good.cartorio.test"));
  r = cartorio("crl generate --ca tls --out " + crl.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto root_crl = tmp("root.crl.pem");
  r = cartorio("crl show --ca root --out " + root_crl.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = verify(good, "tls", "-crl_check_all -CRLfile " + crl.string() + " -CRLfile " + root_crl.string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // The CRL number grows with every generation.
  auto number = [&](const fs::path& p) {
    auto t = run("openssl crl -noout -crlnumber -in " + p.string()).out;
    return std::stoll(t.substr(t.find('=') + 1), nullptr, 16);
  };
  auto first = number(crl);
  r = cartorio("crl generate --ca tls --out " + crl.string());
  EXPECT_EQ(number(crl), first + 1);

  // Revoking twice is a conflict, an unknown serial is not found.
  EXPECT_EQ(cartorio("cert revoke " + serial + " --reason superseded").exit_code, 6);
  EXPECT_EQ(cartorio("cert revoke 0badc0ffee --reason superseded").exit_code, 5);
  EXPECT_EQ(cartorio("cert revoke " + serial + " --reason certificateHold").exit_code, 3);
}

TEST_F(CliPki, MalformedCsrs_GetClearErrorsAndLeaveTheStoreUnchanged) {
  const int before = certificate_count();
  struct Bad {
    std::string name;
    std::string content;
    std::string profile;
    std::string code;
  };
  // A CSR whose signature no longer matches: flip one byte of the DER signature.
  auto good = make_csr("tamper", "rsa:2048", "/CN=tamper.cartorio.test", "DNS:tamper.cartorio.test");
  auto r = run("openssl req -in " + good.string() + " -outform DER -out " + tmp("tamper.der").string());
  ASSERT_EQ(r.exit_code, 0);
  std::string der = read_file(tmp("tamper.der"));
  der[der.size() - 10] = static_cast<char>(der[der.size() - 10] ^ 0x01);
  std::vector<Bad> cases = {
      {"bad-signature", der, "tls-server", "csr.bad_signature"},
      {"rsa1024", read_file(make_csr("weak", "rsa:1024", "/CN=weak.cartorio.test", "DNS:weak.cartorio.test")),
       "tls-server", "csr.weak_key"},
      {"garbage", "this is not a certificate request\n\x01\x02\x03", "tls-server", "csr.malformed"},
      {"empty", "", "tls-server", "csr.malformed"},
      {"truncated", der.substr(0, der.size() / 2), "tls-server", "csr.malformed"},
      {"p521", read_file(make_csr("p521", "ec -pkeyopt ec_paramgen_curve:P-521", "/CN=x", "DNS:p521.cartorio.test")),
       "tls-server", "csr.unsupported_key_type"},
      {"no-san", read_file(make_csr("nosan", "rsa:2048", "/CN=nosan.cartorio.test")), "tls-server", "profile.violation"},
      {"bad-dns", read_file(make_csr("baddns", "rsa:2048", "/CN=x", "DNS:bad_name.cartorio.test")), "tls-server",
       "csr.invalid_san"},
      {"wrong-profile", read_file(make_csr("wp", "rsa:2048", "/CN=x", "DNS:wp.cartorio.test")), "no-such-profile",
       "profile.unknown"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto path = tmp(c.name + ".csr");
    write_file(path, c.content);
    auto res = cartorio("cert issue --profile " + c.profile + " --csr " + path.string());
    EXPECT_EQ(res.exit_code, 3) << res.err;
    expect_contains(res.err, "error: " + c.code + ":");
    EXPECT_TRUE(res.out.empty()) << res.out;
  }
  EXPECT_EQ(certificate_count(), before);
}

TEST_F(CliPki, ListFilters_ExpiringWithinAndJson) {
  auto csr = make_csr("short", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=short.cartorio.test", "DNS:short.cartorio.test");
  auto cert = issue("tls-server", csr, "--validity-days 10");
  const std::string serial = serial_of(cert);
  auto r = cartorio("cert list --expiring-within 30d --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool found = false;
  for (const auto& c : nlohmann::json::parse(r.out)) found |= c["serial"] == serial;
  EXPECT_TRUE(found) << "a 10-day certificate is expiring within 30 days";
  r = cartorio("cert list --expiring-within 5d --json");
  for (const auto& c : nlohmann::json::parse(r.out)) EXPECT_NE(c["serial"], serial);
  EXPECT_EQ(cartorio("cert list --expiring-within soon").exit_code, 3);
  EXPECT_EQ(cartorio("cert issue --profile tls-server --csr " + csr.string() + " --validity-days 400").exit_code, 3);
}

TEST_F(CliPki, OfflineRoot_SignsIntermediatesAndRootCrlOnlyWithTheSealedKey) {
  // The root key is nowhere in the data dir except the sealed export.
  auto keydir = read_file(s_sealed);
  expect_contains(keydir, "-----BEGIN CARTORIO SEALED KEY-----");
  auto r = run("grep -rl 'BEGIN PRIVATE KEY\\|BEGIN RSA PRIVATE KEY' " + shell_quote(s_dir->path().string() + "/data") + " || true");
  EXPECT_TRUE(r.out.empty()) << "clear private keys in the data dir: " << r.out;

  const std::string pass = "--root-passphrase-file " + shell_quote((s_dir->path() / "passphrase").string());
  // Wrong passphrase: refused, nothing changes.
  write_file(tmp("wrong"), "not the passphrase at all\n");
  r = cartorio("ca sign-intermediate --ca tls --root-key " + s_sealed + " --root-passphrase-file " + tmp("wrong").string());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  expect_contains(r.err, "auth.wrong_passphrase");

  // Renewal (same key): a new intermediate certificate; old leaves still verify against it.
  auto old_leaf = issue("tls-server", make_csr("pre", "rsa:2048", "/CN=pre.cartorio.test", "DNS:pre.cartorio.test"));
  const std::string old_inter = read_file(intermediate_file("tls"));
  r = cartorio("ca sign-intermediate --ca tls --root-key " + s_sealed + " " + pass);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string new_inter = read_file(intermediate_file("tls"));
  EXPECT_NE(old_inter, new_inter);
  EXPECT_EQ(verify(old_leaf, "tls").exit_code, 0);

  // Re-key the Document Signing CA: new key, new leaves verify under the new intermediate.
  r = cartorio("ca sign-intermediate --ca document --new-key --root-key " + s_sealed + " " + pass);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto leaf = issue("document-signing", make_csr("rekeyed", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=After rekey"));
  EXPECT_EQ(verify(leaf, "document").exit_code, 0);

  // Root CRL: only with the root key, and verifiable against the root.
  EXPECT_EQ(cartorio("crl generate --ca root").exit_code, 7);
  r = cartorio("crl generate --ca root --root-key " + s_sealed + " " + pass);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_file(tmp("root.crl"), r.out);
  r = run("openssl crl -noout -verify -CAfile " + s_root + " -in " + tmp("root.crl").string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliPki, Init_CreatesTheSecretKeyFiles_Mode0600) {
  // The identity data key and the download-link key: 32 random bytes as hex, owner-only.
  std::string seen;
  for (const char* name : {"identity.key", "links.key"}) {
    const fs::path p = s_dir->path() / "data" / name;
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << p;
    const std::string text = read_file(p);
    EXPECT_EQ(text.size(), 65u) << p;
    EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), 64u) << p;
    EXPECT_NE(text, seen) << "each key is its own";
    seen = text;
  }
}

TEST_F(CliPki, Init_RefusesASecondInitAndIfNeededSucceeds) {
  auto r = cartorio("init --root-passphrase-file " + shell_quote((s_dir->path() / "passphrase").string()));
  EXPECT_EQ(r.exit_code, 6) << r.err;
  expect_contains(r.err, "pki.already_initialized");
  r = cartorio("init --if-needed");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A non-empty directory that is not an installation is left alone, and so is an existing
  // sealed key file: init never overwrites either.
  fs::create_directories(tmp("occupied"));
  write_file(tmp("occupied") / "notes.txt", "someone's files");
  r = run(CARTORIO_BIN " init --data-dir " + tmp("occupied").string());
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(read_file(tmp("occupied") / "notes.txt"), "someone's files");
  write_file(tmp("old.sealed"), "an earlier root key");
  r = run(CARTORIO_BIN " init --data-dir " + tmp("fresh").string() + " --root-key-out " + tmp("old.sealed").string());
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(read_file(tmp("old.sealed")), "an earlier root key");
  EXPECT_FALSE(fs::exists(tmp("fresh")));
}

TEST_F(CliPki, AuditTrail_RecordsEveryKeyUse) {
  auto count = [&] {
    const std::string sql = "SELECT count(*) FROM audit_events WHERE action = 'key.use'";
    CommandResult r;
    if (pg_pkcs11_mode()) {
      r = run("psql " + shell_quote(s_pg_url) + " -tAc " + shell_quote(sql));
    } else {
      r = run("sqlite3 " + shell_quote(s_dir->path().string() + "/data/cartorio.db") + " " + shell_quote(sql));
    }
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::atoi(r.out.c_str());
  };
  const int before = count();
  EXPECT_GT(before, 0) << "init signs with the CA keys";
  issue("tls-client", make_csr("audited", "ec -pkeyopt ec_paramgen_curve:P-256", "/CN=audited-client"));
  EXPECT_EQ(count(), before + 1);
}

TEST_F(CliPki, Serve_PublishesCaCertificatesAndCrlsAtTheUrlsCertificatesCarry) {
  auto cert = issue("tls-server", make_csr("served", "rsa:2048", "/CN=served.cartorio.test", "DNS:served.cartorio.test"));
  // No `crl generate`: a revocation republishes the CRL at once.
  ASSERT_EQ(cartorio("cert revoke " + serial_of(cert) + " --reason superseded").exit_code, 0);
  ASSERT_EQ(cartorio("ca chain --ca tls --out /dev/null").exit_code, 0);
  ASSERT_EQ(run("test -c /dev/null").exit_code, 0) << "--out /dev/null must write through, not replace the device";

  const auto log = tmp("serve.log");
  const auto pidfile = tmp("serve.pid");
  auto r = run(s_env + CARTORIO_BIN " serve --listen-http 127.0.0.1:0 --listen 127.0.0.1:0 --threads 2 >" + log.string() +
               " 2>&1 & echo $! >" + pidfile.string());
  ASSERT_EQ(r.exit_code, 0);
  const std::string pid = read_file(pidfile).substr(0, read_file(pidfile).find('\n'));
  struct KillOnExit {
    std::string pid;
    ~KillOnExit() { run("kill -9 " + pid + " 2>/dev/null || true"); }
  } guard{pid};
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::smatch m;
    const std::string text = read_file(log);
    static const std::regex kStarted(R"re("msg":"server.started".*"port":([0-9]+))re");
    if (std::regex_search(text, m, kStarted)) port = m[1];
    else run("sleep 0.05");
  }
  ASSERT_FALSE(port.empty()) << read_file(log);
  const std::string base = "http://127.0.0.1:" + port;

  r = run("curl -sf " + base + "/healthz");
  EXPECT_EQ(r.exit_code, 0);
  expect_contains(r.out, "ok");
  r = run("curl -sf " + base + "/readyz");
  EXPECT_EQ(r.exit_code, 0) << r.out;

  // caIssuers: the DER intermediate chains to the root.
  r = run("curl -sf -o " + tmp("tls.der").string() + " " + base + "/ca/tls.crt && openssl x509 -inform DER -in " +
          tmp("tls.der").string() + " -out " + tmp("tls-fetched.pem").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run("openssl verify -x509_strict -CAfile " + s_root + " " + tmp("tls-fetched.pem").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // The distribution point: fetched CRL verifies and rejects the revoked certificate.
  r = run("curl -sf -D " + tmp("headers").string() + " -o " + tmp("fetched.crl").string() + " " + base +
          "/crl/tls.crl && openssl crl -inform DER -in " + tmp("fetched.crl").string() + " -out " +
          tmp("fetched.pem").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_contains(read_file(tmp("headers")), "application/pkix-crl");
  r = run("openssl crl -noout -verify -CAfile " + chain_file("tls").string() + " -in " + tmp("fetched.pem").string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = verify(cert, "tls", "-crl_check -CRLfile " + tmp("fetched.pem").string());
  EXPECT_NE(r.exit_code, 0);
  expect_contains(r.out + r.err, "certificate revoked");

  r = run("curl -s -o /dev/null -w '%{http_code}' " + base + "/crl/nope.crl");
  EXPECT_EQ(r.out, "404");

  // SIGTERM: a clean stop.
  r = run("kill -TERM " + pid + "; for i in $(seq 100); do kill -0 " + pid + " 2>/dev/null || exit 0; sleep 0.05; done; exit 1");
  EXPECT_EQ(r.exit_code, 0) << "server did not stop on SIGTERM";
  expect_contains(read_file(log), "server.stopped");
}

}  // namespace
