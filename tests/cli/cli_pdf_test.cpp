// `cartorio pdf sign` end to end (flow 1 through the binary), each output judged by
// independent tools: pdfsig (poppler + NSS, trusting our root), `openssl cms -verify` on the
// extracted CMS, `openssl ts -verify` on the signature time-stamp and on the B-LTA document
// time-stamp, qpdf --check. Inputs written by ghostscript, cairo and qpdf (object streams).
// pdfsig 22.12 does not validate ETSI.RFC3161 document time-stamps ("Unimplemented
// Feature"): openssl ts judges those.
#include "signing/sample_pdfs.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <regex>

namespace {

using cartorio::testing::read_file;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;
using Signature = cartorio::signing::test::PdfSignature;
using cartorio::signing::test::signatures_of;

std::string hex_of(const unsigned char* p, std::size_t n) {
  std::string out;
  char buf[3];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    out += buf;
  }
  return out;
}

// The signature time-stamp token (DER) of a CMS and the SHA-256 (hex) of the signature
// value it must cover.
struct EmbeddedTimestamp {
  std::string token;
  std::string imprint_hex;
};
std::optional<EmbeddedTimestamp> signature_timestamp(const std::string& cms_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(cms_der.data());
  std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())), CMS_ContentInfo_free);
  if (!cms) return std::nullopt;
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
  const int loc = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (loc < 0) return std::nullopt;
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, loc), 0);
  if (!value || value->type != V_ASN1_SEQUENCE) return std::nullopt;
  EmbeddedTimestamp out;
  out.token.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.sequence)),
                   static_cast<std::size_t>(ASN1_STRING_length(value->value.sequence)));
  const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  EVP_Digest(ASN1_STRING_get0_data(sig), static_cast<std::size_t>(ASN1_STRING_length(sig)), md, &md_len, EVP_sha256(),
             nullptr);
  out.imprint_hex = hex_of(md, md_len);
  return out;
}

class CliPdf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<TempDir>();
    s_env = "CARTORIO_DATA_DIR=" + shell_quote((s_dir->path() / "data").string()) +
            " CARTORIO_PKI_PUBLIC_BASE_URL=http://pki.test.example ";
    write_file(s_dir->path() / "passphrase", "correct horse battery staple 2026\n");
    auto r = run(s_env + CARTORIO_BIN " init --root-passphrase-file " +
                 shell_quote((s_dir->path() / "passphrase").string()) + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    auto root = run(s_env + CARTORIO_BIN " ca chain --ca root > " + shell_quote(shared("root.pem").string()));
    ASSERT_EQ(root.exit_code, 0) << root.err;
    auto chain = run(s_env + CARTORIO_BIN " ca chain --ca document > " + shell_quote(shared("chain.pem").string()));
    ASSERT_EQ(chain.exit_code, 0) << chain.err;
    s_nss = cartorio::signing::test::make_nss_db(shared("nss"), shared("root.pem"));
    s_samples = cartorio::signing::test::make_sample_pdfs(shared("samples"));
  }
  static void TearDownTestSuite() { s_dir.reset(); }

  static fs::path shared(const std::string& name) { return s_dir->path() / name; }
  fs::path tmp(const std::string& name) const { return m_dir.path() / name; }

  // `pdf sign` with --json; returns the record, or null json on failure (with the result).
  nlohmann::json sign(const fs::path& in, const fs::path& out, const std::string& args,
                      cartorio::testing::CommandResult* result = nullptr) {
    auto r = run(s_env + CARTORIO_BIN " pdf sign " + shell_quote(in.string()) + " -o " + shell_quote(out.string()) +
                 " --json " + args);
    if (result) *result = r;
    if (r.exit_code != 0) return nullptr;
    return nlohmann::json::parse(r.out);
  }

  struct Pdfsig {
    std::vector<std::string> blocks;  // one per signature
    std::string output;
  };
  Pdfsig pdfsig(const fs::path& pdf) {
    auto r = run("pdfsig -nssdir " + s_nss + " -no-ocsp " + shell_quote(pdf.string()));
    Pdfsig out;
    out.output = r.out + r.err;
    const std::regex header("Signature #[0-9]+:");
    std::vector<std::size_t> starts;
    for (auto it = std::sregex_iterator(out.output.begin(), out.output.end(), header); it != std::sregex_iterator(); ++it)
      starts.push_back(static_cast<std::size_t>(it->position()));
    for (std::size_t i = 0; i < starts.size(); ++i)
      out.blocks.push_back(out.output.substr(starts[i], (i + 1 < starts.size() ? starts[i + 1] : out.output.size()) - starts[i]));
    return out;
  }
  static bool valid_and_trusted(const std::string& block) {
    return block.find("Signature is Valid.") != std::string::npos &&
           block.find("Certificate is Trusted.") != std::string::npos;
  }

  void expect_cms_verifies(const Signature& sig) {
    write_file(tmp("sig.der"), sig.contents);
    write_file(tmp("covered.bin"), sig.covered);
    auto r = run("openssl cms -verify -binary -inform DER -in " + tmp("sig.der").string() + " -content " +
                 tmp("covered.bin").string() + " -CAfile " + shared("root.pem").string() + " -out /dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    cartorio::testing::expect_contains(r.err, "Verification successful");
  }

  void expect_signature_timestamp_verifies(const Signature& sig) {
    auto ts = signature_timestamp(sig.contents);
    ASSERT_TRUE(ts) << "no signature time-stamp token in the CMS";
    write_file(tmp("sigts.der"), ts->token);
    auto r = run("openssl ts -verify -digest " + ts->imprint_hex + " -in " + tmp("sigts.der").string() +
                 " -token_in -CAfile " + shared("root.pem").string() + " -untrusted " + shared("chain.pem").string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    cartorio::testing::expect_contains(r.out, "Verification: OK");
  }

  void expect_document_timestamp_verifies(const Signature& sig) {
    write_file(tmp("docts.der"), sig.contents);
    write_file(tmp("docts-data.bin"), sig.covered);
    auto r = run("openssl ts -verify -data " + tmp("docts-data.bin").string() + " -in " + tmp("docts.der").string() +
                 " -token_in -CAfile " + shared("root.pem").string() + " -untrusted " + shared("chain.pem").string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    cartorio::testing::expect_contains(r.out, "Verification: OK");
  }

  int certificate_count() {
    auto r = run(s_env + CARTORIO_BIN " cert list --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<int>(nlohmann::json::parse(r.out).size());
  }

  static std::unique_ptr<TempDir> s_dir;
  static std::string s_env;
  static std::string s_nss;
  static std::vector<cartorio::signing::test::SamplePdf> s_samples;
  TempDir m_dir;
};

std::unique_ptr<TempDir> CliPdf::s_dir;
std::string CliPdf::s_env;
std::string CliPdf::s_nss;
std::vector<cartorio::signing::test::SamplePdf> CliPdf::s_samples;

TEST_F(CliPdf, EveryLevelOnEveryProducerIsAcceptedByPdfsigOpensslCmsAndOpensslTs) {
  for (const auto& sample : s_samples) {
    for (const std::string level : {"B-B", "B-T", "B-LT", "B-LTA"}) {
      SCOPED_TRACE(sample.producer + " " + level);
      const auto out = tmp(sample.producer + "-" + level + ".pdf");
      auto rec = sign(sample.path, out, "--level " + level + " --title 'Contrato de compra e venda' --visible");
      ASSERT_FALSE(rec.is_null());
      EXPECT_EQ(rec["level"], level);
      EXPECT_EQ(rec["id"].get<std::string>().rfind("doc_", 0), 0u);
      const std::string pdf = read_file(out);
      const std::string original = read_file(sample.path);
      ASSERT_EQ(pdf.compare(0, original.size(), original), 0) << "the original revision changed";

      auto verdict = pdfsig(out);
      const std::size_t expected = level == "B-LTA" ? 2 : 1;
      ASSERT_EQ(verdict.blocks.size(), expected) << verdict.output;
      EXPECT_TRUE(valid_and_trusted(verdict.blocks[0])) << verdict.output;
      cartorio::testing::expect_contains(verdict.blocks[0], "ETSI.CAdES.detached");
      auto check = run("qpdf --check " + shell_quote(out.string()));
      EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

      const auto sigs = signatures_of(pdf);
      ASSERT_EQ(sigs.size(), expected);
      expect_cms_verifies(sigs[0]);
      if (level != "B-B") expect_signature_timestamp_verifies(sigs[0]);
      else EXPECT_FALSE(signature_timestamp(sigs[0].contents));
      const bool dss = pdf.find("/DSS") != std::string::npos;
      EXPECT_EQ(dss, level == "B-LT" || level == "B-LTA");
      if (dss) {
        for (const char* key : {"/Certs", "/OCSPs", "/CRLs"}) cartorio::testing::expect_contains(pdf, key);
      }
      if (level == "B-LTA") {
        cartorio::testing::expect_contains(pdf, "/DocTimeStamp");
        EXPECT_EQ(sigs[1].range[2] + sigs[1].range[3], pdf.size()) << "the document time-stamp covers the whole file";
        expect_document_timestamp_verifies(sigs[1]);
      }
    }
  }
}

TEST_F(CliPdf, SignedTwiceBothSignaturesStayValid) {
  const auto once = tmp("once.pdf"), twice = tmp("twice.pdf");
  ASSERT_FALSE(sign(s_samples[0].path, once, "--level B-LT").is_null());
  ASSERT_FALSE(sign(once, twice, "--level B-LT --signer 'Segundo Tabelião' --visible --page 2").is_null());
  auto verdict = pdfsig(twice);
  ASSERT_EQ(verdict.blocks.size(), 2u) << verdict.output;
  EXPECT_TRUE(valid_and_trusted(verdict.blocks[0])) << verdict.output;
  EXPECT_TRUE(valid_and_trusted(verdict.blocks[1])) << verdict.output;
  const auto sigs = signatures_of(read_file(twice));
  ASSERT_EQ(sigs.size(), 2u);
  expect_cms_verifies(sigs[0]);
  expect_cms_verifies(sigs[1]);
}

TEST_F(CliPdf, OneByteChangedInsideASignedRangeIsInvalid) {
  const auto good = tmp("good.pdf"), bad = tmp("bad.pdf");
  ASSERT_FALSE(sign(s_samples[0].path, good, "--level B-T").is_null());
  std::string pdf = read_file(good);
  const auto sigs = signatures_of(pdf);
  ASSERT_EQ(sigs.size(), 1u);
  // A digit of the original's /CreationDate: the file still parses, the digest changes.
  const std::size_t date = pdf.find("/CreationDate");
  ASSERT_NE(date, std::string::npos);
  const std::size_t at = pdf.find_first_of("0123456789", date);
  ASSERT_LT(at, sigs[0].range[1]);
  pdf[at] = pdf[at] == '9' ? '8' : static_cast<char>(pdf[at] + 1);
  write_file(bad, pdf);
  auto verdict = pdfsig(bad);
  ASSERT_EQ(verdict.blocks.size(), 1u) << verdict.output;
  EXPECT_EQ(verdict.blocks[0].find("Signature is Valid."), std::string::npos) << verdict.output;
  auto ours = run(s_env + CARTORIO_BIN " pdf verify " + shell_quote(bad.string()));
  EXPECT_EQ(ours.exit_code, 9) << ours.out << ours.err;  // kSignatureInvalid
  auto untouched = run(s_env + CARTORIO_BIN " pdf verify " + shell_quote(good.string()));
  EXPECT_EQ(untouched.exit_code, 0) << untouched.out << untouched.err;
}

TEST_F(CliPdf, BadInputIsRefusedAndNothingIsIssuedOrStored) {
  const int before = certificate_count();
  const std::string good = read_file(s_samples[0].path);
  write_file(tmp("text.pdf"), "this is not a PDF at all\n");
  write_file(tmp("truncated.pdf"), good.substr(0, good.size() / 2));
  std::string broken = good;
  broken.replace(broken.rfind("startxref") + 10, 3, "999");
  write_file(tmp("broken-xref.pdf"), broken);
  auto enc = run("qpdf --encrypt user owner 256 -- " + shell_quote(s_samples[0].path.string()) + " " +
                 shell_quote(tmp("encrypted.pdf").string()));
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  const std::pair<const char*, const char*> cases[] = {{"text.pdf", "pdf.not_pdf"},
                                                       {"truncated.pdf", "pdf.malformed"},
                                                       {"broken-xref.pdf", "pdf.malformed"},
                                                       {"encrypted.pdf", "pdf.encrypted"}};
  for (const auto& [file, code] : cases) {
    SCOPED_TRACE(file);
    cartorio::testing::CommandResult r;
    EXPECT_TRUE(sign(tmp(file), tmp("out.pdf"), "", &r).is_null());
    EXPECT_EQ(r.exit_code, 3) << r.err;  // kBadInput
    cartorio::testing::expect_contains(r.err, code);
    EXPECT_FALSE(fs::exists(tmp("out.pdf")));
  }
  // Oversized: over documents.max_pdf_bytes.
  cartorio::testing::CommandResult r;
  auto big = run("CARTORIO_DOCUMENTS_MAX_PDF_BYTES=1024 " + s_env + CARTORIO_BIN " pdf sign " +
                 shell_quote(s_samples[0].path.string()) + " -o " + shell_quote(tmp("out.pdf").string()));
  EXPECT_EQ(big.exit_code, 3) << big.err;
  cartorio::testing::expect_contains(big.err, "pdf.too_large");
  EXPECT_EQ(certificate_count(), before) << "a certificate was issued for refused input";
}

}  // namespace
