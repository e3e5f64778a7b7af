// `cartorio pdf verify` through the binary: the summary and --json, --trust, exit codes
// (0 valid, 9 invalid, 10 indeterminate or unsigned, 3 bad input), and an installation's
// own document CA trusted by default, its certificates' status asked of its own OCSP
// sources in process.
#include "pdfverify/pdf_test_support.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::expect_contains;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using namespace cartorio::testing::pdf;

constexpr int kInvalid = 9;
constexpr int kIndeterminate = 10;
constexpr int kBadInput = 3;

class PdfVerifyCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    const fs::path d = s_dir->path();
    s_pki = make_pki(d / "pki");
    const auto nss = make_nss_db(d, "signer", s_pki.signer_pem, s_pki.signer_key, s_pki.root_pem);
    s_unsigned = make_base_pdf(d, "gs");
    s_signed = d / "signed.pdf";
    ASSERT_TRUE(pdfsig_sign(nss, "signer", s_unsigned, s_signed));
  }
  static void TearDownTestSuite() { s_dir.reset(); }

  // No installation in the data dir: only --trust counts.
  static CommandResult verify(const std::string& args) {
    return run(CARTORIO_BIN " --data-dir " + shell_quote((s_dir->path() / "no-installation").string()) +
               " pdf verify " + args);
  }
  static std::string q(const fs::path& p) { return shell_quote(p.string()); }

  static inline std::unique_ptr<TempDir> s_dir;
  static inline TestPki s_pki;
  static inline fs::path s_signed, s_unsigned;
};

TEST_F(PdfVerifyCli, Summary_TrustedButNoRevocationInformationIsIndeterminate) {
  auto r = verify(q(s_signed) + " --trust " + q(s_pki.root_pem));
  EXPECT_EQ(r.exit_code, kIndeterminate) << r.out << r.err;
  expect_contains(r.out, "INDETERMINATE");
  expect_contains(r.out, "O=Cartorio Tests,CN=Test Signer");
  expect_contains(r.out, "[revocation_unknown]");
}

TEST_F(PdfVerifyCli, Json_Report) {
  auto r = verify("--json --trust " + q(s_pki.root_pem) + " " + q(s_signed));  // --trust takes one file
  EXPECT_EQ(r.exit_code, kIndeterminate) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "indeterminate");
  ASSERT_EQ(j["signatures"].size(), 1u);
  EXPECT_EQ(j["signatures"][0]["chain"]["trusted"], true);
  EXPECT_EQ(j["signatures"][0]["integrity"]["digest_ok"], true);
  EXPECT_EQ(j["signatures"][0]["revocation"]["status"], "unknown");
}

TEST_F(PdfVerifyCli, Untrusted_WithoutTrust) {
  auto r = verify(q(s_signed) + " --json");
  EXPECT_EQ(r.exit_code, kIndeterminate);
  expect_contains(r.err, "no certificate can be trusted");
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["signatures"][0]["chain"]["trusted"], false);
}

TEST_F(PdfVerifyCli, Invalid_ByteFlipped) {
  std::string pdf = read_text(s_signed);
  pdf[pdf.find("Invocation") + 2] = 'V';
  const fs::path flipped = s_dir->path() / "flipped.pdf";
  write_bytes(flipped, pdf);
  auto r = verify(q(flipped) + " --trust " + q(s_pki.root_pem));
  EXPECT_EQ(r.exit_code, kInvalid) << r.out << r.err;
  expect_contains(r.out, "[digest_mismatch]");
}

TEST_F(PdfVerifyCli, Unsigned_IsNotValid) {
  auto r = verify(q(s_unsigned));
  EXPECT_EQ(r.exit_code, kIndeterminate);
  expect_contains(r.out, "no signatures");
}

TEST_F(PdfVerifyCli, BadInput_ClearErrors) {
  const fs::path text = s_dir->path() / "text.pdf";
  write_bytes(text, "hello, this is not a PDF\n");
  auto r = verify(q(text));
  EXPECT_EQ(r.exit_code, kBadInput);
  expect_contains(r.err, "error: pdf.not_pdf");

  const fs::path enc = s_dir->path() / "enc.pdf";
  ASSERT_TRUE(sh("qpdf --encrypt u o 256 -- " + q(s_unsigned) + " " + q(enc)));
  r = verify(q(enc));
  EXPECT_EQ(r.exit_code, kBadInput);
  expect_contains(r.err, "error: pdf.encrypted");

  const fs::path garbage = s_dir->path() / "garbage.pdf";
  write_bytes(garbage, "%PDF-1.4\n\x01\x02 obj << >> trailer garbage\n");
  r = verify(q(garbage));
  EXPECT_EQ(r.exit_code, kBadInput);
  expect_contains(r.err, "error: pdf.malformed");

  r = verify(q(s_dir->path() / "missing.pdf"));
  EXPECT_EQ(r.exit_code, 1);

  r = verify(q(s_signed) + " --trust " + q(text));
  EXPECT_EQ(r.exit_code, kBadInput) << r.err;
}

// An installation: its document CA issues the signing certificate; pdf verify trusts its
// root and asks its responders without any --trust. Then its own `pdf sign` output.
TEST_F(PdfVerifyCli, Installation_TrustsItsRootAndAnswersRevocation) {
  const fs::path d = s_dir->path() / "inst";
  fs::create_directories(d);
  write_bytes(d / "passphrase", "pdf verify test passphrase 2026\n");
  const std::string env = "CARTORIO_DATA_DIR=" + q(d / "data") + " CARTORIO_PKI_PUBLIC_BASE_URL=http://pki.test.example ";
  auto r = run(env + CARTORIO_BIN " init --root-passphrase-file " + q(d / "passphrase"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(sh("openssl req -new -newkey rsa:2048 -nodes -keyout " + q(d / "doc.key") + " -out " + q(d / "doc.csr") +
                 " -subj '/CN=Document 1/O=Cartorio Tests' 2>/dev/null"));
  r = run(env + CARTORIO_BIN " cert issue --profile document-signing --csr " + q(d / "doc.csr") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto issued = nlohmann::json::parse(r.out);
  const std::string serial = issued["serial"];
  write_bytes(d / "doc.pem", issued["pem"].get<std::string>());
  r = run(env + CARTORIO_BIN " ca chain --ca document --out " + q(d / "chain.pem"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto nss = make_nss_db(d, "doc", d / "doc.pem", d / "doc.key", d / "chain.pem");
  ASSERT_TRUE(pdfsig_sign(nss, "doc", s_unsigned, d / "a.pdf"));

  r = run(env + CARTORIO_BIN " pdf verify " + q(d / "a.pdf"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_contains(r.out, "all signatures are valid");
  r = run(env + CARTORIO_BIN " pdf verify --json " + q(d / "a.pdf"));
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["signatures"][0]["revocation"]["status"], "good");
  EXPECT_EQ(j["signatures"][0]["revocation"]["source"], "live_ocsp");
  EXPECT_EQ(j["signatures"][0]["chain"]["certificates"].size(), 3u);

  // Revoked, then used again: that signature is invalid. (The first one was made before
  // the revocation, or in the same second.)
  r = run(env + CARTORIO_BIN " cert revoke " + serial + " --reason keyCompromise");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(pdfsig_sign(nss, "doc", s_unsigned, d / "b.pdf"));
  r = run(env + CARTORIO_BIN " pdf verify --json " + q(d / "b.pdf"));
  EXPECT_EQ(r.exit_code, kInvalid) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["signatures"][0]["revocation"]["status"], "revoked");
  EXPECT_EQ(j["signatures"][0]["revocation"]["revocation_reason"], "keyCompromise");
  r = run(env + CARTORIO_BIN " pdf verify --json " + q(d / "a.pdf"));
  EXPECT_EQ(nlohmann::json::parse(r.out)["signatures"][0]["revocation"]["status"], "revoked");

  // The installation's own PAdES B-LTA: signature timestamp, DSS, document timestamp. Valid
  // with the installation, and from the document alone given only the root (the DSS
  // carries the revocation answers).
  r = run(env + CARTORIO_BIN " pdf sign " + q(s_unsigned) + " -o " + q(d / "lta.pdf") + " --level B-LTA");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run(env + CARTORIO_BIN " ca chain --ca root --out " + q(d / "root.pem"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run(env + CARTORIO_BIN " pdf verify --json " + q(d / "lta.pdf"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = verify("--json --trust " + q(d / "root.pem") + " " + q(d / "lta.pdf"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["signatures"].size(), 2u);
  for (const auto& s : j["signatures"]) {
    EXPECT_EQ(s["status"], "valid") << s.dump(2);
    EXPECT_EQ(s["revocation"]["source"], "dss_ocsp");
    EXPECT_EQ(s["chain"]["time_source"], "timestamp");
    if (s["kind"] == "signature") {
      EXPECT_EQ(s["sub_filter"], "ETSI.CAdES.detached");
      EXPECT_EQ(s["timestamp"]["valid"], true);
      ASSERT_EQ(s["coverage"]["later_revisions"].size(), 2u);
      EXPECT_EQ(s["coverage"]["later_revisions"][0]["kind"], "dss");
      EXPECT_EQ(s["coverage"]["later_revisions"][1]["kind"], "document_timestamp");
    } else {
      EXPECT_EQ(s["sub_filter"], "ETSI.RFC3161");
      EXPECT_EQ(s["coverage"]["covers_whole_file"], true);
    }
  }
}

}  // namespace
