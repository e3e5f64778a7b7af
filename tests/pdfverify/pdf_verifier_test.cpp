// verify_pdf on PDFs signed by poppler's pdfsig (NSS), with keys and certificates from
// openssl, revocation answers signed with the test root's key, and pdfsig as a second
// opinion where it has one.
#include "core/clock.h"
#include "crypto/x509.h"
#include "pdfverify/pdf_test_support.h"
#include "signing/detail/signature_crypto.h"
#include "signing/pdf_verifier.h"
#include "signing/verification_report.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>

namespace {

using namespace cartorio;
using namespace cartorio::testing::pdf;
using signing::DocumentStatus;
using signing::RevocationStatus;
using signing::SignatureStatus;
using signing::VerificationReport;
using signing::VerifyOptions;

bool has_finding(const signing::SignatureReport& s, const std::string& code) {
  return std::any_of(s.findings.begin(), s.findings.end(), [&](const auto& f) { return f.code == code; });
}

std::string findings_of(const VerificationReport& r) { return signing::to_text(r); }

// Shared by the suite: the PKI, the base PDF and the pdfsig signatures take seconds.
class PdfVerify : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<cartorio::testing::TempDir>();
    const fs::path d = s_dir->path();
    s_pki = make_pki(d / "pki");
    s_nss = make_nss_db(d, "signer", s_pki.signer_pem, s_pki.signer_key, s_pki.root_pem);
    const fs::path base = make_base_pdf(d, "gs");
    ASSERT_TRUE(pdfsig_sign(s_nss, "signer", base, d / "signed.pdf", "First"));
    ASSERT_TRUE(pdfsig_sign(s_nss, "signer", d / "signed.pdf", d / "signed-twice.pdf", "Second"));
    s_root = load_cert(s_pki.root_pem);
    s_root_key = load_key(s_pki.root_key);
    s_signer = load_cert(s_pki.signer_pem);
  }
  static void TearDownTestSuite() {
    s_root.reset();
    s_root_key.reset();
    s_signer.reset();
    s_dir.reset();
  }

  static fs::path path(const std::string& name) { return s_dir->path() / name; }

  // Trusts the test root; revocation answered "good, as of now" by the root itself.
  static VerifyOptions trusting_options(int status = V_OCSP_CERTSTATUS_GOOD, std::time_t revoked_at = 0) {
    VerifyOptions o;
    X509_up_ref(s_root.get());
    o.trusted_roots.emplace_back(s_root.get());
    o.ocsp_lookup = [status, revoked_at](const X509* cert, const X509* issuer) -> std::optional<crypto::Bytes> {
      if (X509_cmp(issuer, s_root.get()) != 0) return std::nullopt;
      return make_ocsp_response(const_cast<X509*>(cert), s_root.get(), s_root_key.get(), status, std::time(nullptr),
                                revoked_at, status == V_OCSP_CERTSTATUS_REVOKED ? 1 : -1);
    };
    return o;
  }

  static VerificationReport verify_ok(const fs::path& pdf, const VerifyOptions& o) {
    auto bytes = read_bytes(pdf);
    auto r = signing::verify_pdf(bytes, o);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? std::move(*r) : VerificationReport{};
  }

  static core::Error verify_error(const crypto::Bytes& bytes, const VerifyOptions& o = {}) {
    auto r = signing::verify_pdf(bytes, o);
    EXPECT_FALSE(r) << "expected an error";
    return r ? core::Error{} : r.error();
  }

  static inline std::unique_ptr<cartorio::testing::TempDir> s_dir;
  static inline TestPki s_pki;
  static inline fs::path s_nss;
  static inline crypto::X509Ptr s_root, s_signer;
  static inline crypto::PKey s_root_key;
};

TEST_F(PdfVerify, Valid_OneSignatureTrustedAndGood) {
  auto r = verify_ok(path("signed.pdf"), trusting_options());
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(r.status(), DocumentStatus::valid) << findings_of(r);
  EXPECT_EQ(s.status(), SignatureStatus::valid);
  EXPECT_EQ(s.field_name, "First");
  EXPECT_EQ(s.sub_filter, "adbe.pkcs7.detached");
  EXPECT_EQ(s.kind, signing::SignatureKind::signature);
  ASSERT_TRUE(s.claimed_time);
  EXPECT_LT(std::abs(*s.claimed_time - std::time(nullptr)), 3600);
  ASSERT_TRUE(s.signer);
  EXPECT_EQ(s.signer->subject, "O=Cartorio Tests,CN=Test Signer");
  EXPECT_EQ(s.signer->issuer, "O=Cartorio Tests,CN=Verify Test Root");
  EXPECT_EQ(s.signer->serial, crypto::serial_hex(s_signer.get()));
  EXPECT_TRUE(s.integrity.byte_range_ok);
  EXPECT_EQ(s.integrity.digest_algorithm, "sha256");
  EXPECT_TRUE(s.integrity.digest_ok);
  EXPECT_TRUE(s.integrity.signature_ok);
  EXPECT_TRUE(s.chain.trusted);
  EXPECT_EQ(s.chain.time_source, "claimed");
  ASSERT_EQ(s.chain.certificates.size(), 2u);
  EXPECT_EQ(s.revocation.status, RevocationStatus::good);
  EXPECT_EQ(s.revocation.source, "live_ocsp");
  EXPECT_FALSE(s.timestamp.present);
  EXPECT_TRUE(s.coverage.covers_whole_file);
  EXPECT_EQ(s.coverage.revision, 2);
  EXPECT_TRUE(s.coverage.later_revisions.empty());
  EXPECT_EQ(r.revisions, 2);
  // pdfsig agrees.
  const auto opinion = pdfsig_verify(s_dir->path(), path("signed.pdf"), s_pki.root_pem);
  cartorio::testing::expect_contains(opinion, "Signature is Valid.");
  cartorio::testing::expect_contains(opinion, "Certificate is Trusted.");
}

TEST_F(PdfVerify, Json_CarriesStableFields) {
  auto r = verify_ok(path("signed.pdf"), trusting_options());
  const auto j = signing::to_json(r);
  EXPECT_EQ(j["status"], "valid");
  EXPECT_EQ(j["file"]["revisions"], 2);
  ASSERT_EQ(j["signatures"].size(), 1u);
  const auto& s = j["signatures"][0];
  EXPECT_EQ(s["field"], "First");
  EXPECT_EQ(s["kind"], "signature");
  EXPECT_EQ(s["status"], "valid");
  EXPECT_EQ(s["integrity"]["digest_ok"], true);
  EXPECT_EQ(s["revocation"]["status"], "good");
  EXPECT_EQ(s["coverage"]["covers_whole_file"], true);
  EXPECT_TRUE(s["claimed_signing_time"].is_string());
  EXPECT_EQ(s["claimed_signing_time"].get<std::string>().back(), 'Z');
  for (const auto& f : s["findings"]) {
    EXPECT_TRUE(f["code"].is_string());
    EXPECT_TRUE(f["message"].is_string());
  }
}

TEST_F(PdfVerify, Indeterminate_WithoutRevocationInformation) {
  auto o = trusting_options();
  o.ocsp_lookup = nullptr;
  auto r = verify_ok(path("signed.pdf"), o);
  ASSERT_EQ(r.signatures.size(), 1u);
  EXPECT_EQ(r.signatures[0].status(), SignatureStatus::indeterminate);
  EXPECT_TRUE(has_finding(r.signatures[0], "revocation_unknown")) << findings_of(r);
  EXPECT_EQ(r.signatures[0].revocation.status, RevocationStatus::unknown);
  EXPECT_TRUE(r.signatures[0].chain.trusted);
}

TEST_F(PdfVerify, Indeterminate_UntrustedRoot) {
  VerifyOptions o;
  o.trusted_roots.push_back(load_cert(s_pki.other_root_pem));
  auto r = verify_ok(path("signed.pdf"), o);
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.status(), SignatureStatus::indeterminate);
  EXPECT_FALSE(s.chain.trusted);
  EXPECT_TRUE(has_finding(s, "chain_untrusted")) << findings_of(r);
  EXPECT_TRUE(s.integrity.digest_ok);  // the bytes are fine; whom to believe is not
  EXPECT_EQ(r.status(), DocumentStatus::indeterminate);
}

TEST_F(PdfVerify, SignedTwice_FirstCoversItsRevisionAndTheNextIsASignature) {
  auto r = verify_ok(path("signed-twice.pdf"), trusting_options());
  ASSERT_EQ(r.signatures.size(), 2u);
  EXPECT_EQ(r.revisions, 3);
  const auto& first = r.signatures[0].field_name == "First" ? r.signatures[0] : r.signatures[1];
  const auto& second = r.signatures[0].field_name == "First" ? r.signatures[1] : r.signatures[0];
  EXPECT_EQ(first.status(), SignatureStatus::valid) << findings_of(r);
  EXPECT_EQ(second.status(), SignatureStatus::valid) << findings_of(r);
  EXPECT_FALSE(first.coverage.covers_whole_file);
  EXPECT_EQ(first.coverage.revision, 2);
  ASSERT_EQ(first.coverage.later_revisions.size(), 1u);
  const auto& later = first.coverage.later_revisions[0];
  EXPECT_EQ(later.revision, 3);
  EXPECT_EQ(later.kind, "signature");
  EXPECT_TRUE(later.unexpected_objects.empty());
  EXPECT_FALSE(later.added_objects.empty());
  EXPECT_TRUE(second.coverage.covers_whole_file);
  EXPECT_TRUE(second.coverage.later_revisions.empty());
  EXPECT_EQ(r.status(), DocumentStatus::valid);
}

TEST_F(PdfVerify, Invalid_ByteFlippedInsideSignedRange) {
  std::string pdf = read_text(path("signed.pdf"));
  const auto pos = pdf.find("Invocation");  // ghostscript's comment line: still a readable PDF
  ASSERT_NE(pos, std::string::npos);
  pdf[pos + 2] = 'V';
  write_bytes(path("flipped.pdf"), pdf);
  auto r = verify_ok(path("flipped.pdf"), trusting_options());
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.status(), SignatureStatus::invalid);
  EXPECT_FALSE(s.integrity.digest_ok);
  EXPECT_TRUE(has_finding(s, "digest_mismatch")) << findings_of(r);
  EXPECT_EQ(r.status(), DocumentStatus::invalid);
  cartorio::testing::expect_contains(pdfsig_verify(s_dir->path(), path("flipped.pdf"), s_pki.root_pem),
                                     "Digest Mismatch");
}

TEST_F(PdfVerify, Invalid_ContentsSwappedForAnotherSignature) {
  // The second signature's CMS put into the first one's hole: the hole is still its
  // /Contents, but it signs other bytes.
  const std::string once = read_text(path("signed.pdf"));
  const std::string twice = read_text(path("signed-twice.pdf"));
  const auto a1 = once.find("/Contents <") + 10, b1 = once.find('>', a1);
  const auto a2 = twice.rfind("/Contents <") + 10, b2 = twice.find('>', a2);
  ASSERT_EQ(b1 - a1, b2 - a2);
  std::string swapped = once;
  swapped.replace(a1, b1 - a1, twice.substr(a2, b2 - a2));
  write_bytes(path("swapped.pdf"), swapped);
  auto r = verify_ok(path("swapped.pdf"), trusting_options());
  ASSERT_EQ(r.signatures.size(), 1u);
  EXPECT_EQ(r.signatures[0].status(), SignatureStatus::invalid) << findings_of(r);
  EXPECT_TRUE(has_finding(r.signatures[0], "digest_mismatch"));
}

TEST_F(PdfVerify, Reported_PageContentChangedInLaterUpdate) {
  const std::string signed_pdf = read_text(path("signed.pdf"));
  // The page's content stream, replaced by a blank one in a new revision.
  auto m = signed_pdf.find("/Contents ");
  int content = 0;
  while (m != std::string::npos && content == 0) {
    const auto end = signed_pdf.find(" 0 R", m);
    const std::string num = signed_pdf.substr(m + 10, end - m - 10);
    if (!num.empty() && std::all_of(num.begin(), num.end(), ::isdigit)) content = std::stoi(num);
    m = signed_pdf.find("/Contents ", m + 1);
  }
  ASSERT_GT(content, 0);
  const std::string body = "0 1 0 rg 72 500 200 50 re f";
  auto changed = append_update(signed_pdf, {{content, "<< /Length " + std::to_string(body.size()) + " >>\nstream\n" +
                                                          body + "\nendstream"}});
  write_bytes(path("changed.pdf"), changed);
  auto r = verify_ok(path("changed.pdf"), trusting_options());
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_TRUE(s.integrity.digest_ok);
  EXPECT_TRUE(s.integrity.signature_ok);
  EXPECT_FALSE(s.coverage.covers_whole_file);
  ASSERT_EQ(s.coverage.later_revisions.size(), 1u);
  EXPECT_EQ(s.coverage.later_revisions[0].kind, "other");
  EXPECT_EQ(s.coverage.later_revisions[0].unexpected_objects, std::vector<int>{content});
  EXPECT_TRUE(has_finding(s, "changed_after_signing")) << findings_of(r);
  EXPECT_EQ(s.status(), SignatureStatus::indeterminate);
}

TEST_F(PdfVerify, Valid_RevocationFromDssInLaterRevision) {
  const std::string signed_pdf = read_text(path("signed.pdf"));
  const int root = root_object_number(signed_pdf);
  const int n = next_object_number(signed_pdf);
  const auto ocsp = make_ocsp_response(s_signer.get(), s_root.get(), s_root_key.get(), V_OCSP_CERTSTATUS_GOOD,
                                       std::time(nullptr));
  const auto cert_der = crypto::to_der(s_signer.get());
  std::string catalog = show_object(path("signed.pdf"), root);
  ASSERT_EQ(catalog.substr(catalog.size() - 2), ">>");
  catalog.insert(catalog.size() - 2, " /DSS " + std::to_string(n) + " 0 R ");
  auto stream = [](const crypto::Bytes& b) {
    return "<< /Length " + std::to_string(b.size()) + " >>\nstream\n" + crypto::to_string(b) + "\nendstream";
  };
  auto with_dss = append_update(
      signed_pdf, {{root, catalog},
                   {n, "<< /OCSPs [" + std::to_string(n + 1) + " 0 R] /Certs [" + std::to_string(n + 2) + " 0 R] >>"},
                   {n + 1, stream(ocsp)},
                   {n + 2, stream(cert_der)}});
  write_bytes(path("dss.pdf"), with_dss);
  auto o = trusting_options();
  o.ocsp_lookup = nullptr;  // the DSS must be enough
  auto r = verify_ok(path("dss.pdf"), o);
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.revocation.status, RevocationStatus::good) << findings_of(r);
  EXPECT_EQ(s.revocation.source, "dss_ocsp");
  ASSERT_EQ(s.coverage.later_revisions.size(), 1u);
  EXPECT_EQ(s.coverage.later_revisions[0].kind, "dss");
  EXPECT_EQ(s.status(), SignatureStatus::valid) << findings_of(r);
}

TEST_F(PdfVerify, Invalid_RevokedBeforeSigning) {
  auto r = verify_ok(path("signed.pdf"), trusting_options(V_OCSP_CERTSTATUS_REVOKED, std::time(nullptr) - 86400 * 2));
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.revocation.status, RevocationStatus::revoked);
  EXPECT_TRUE(s.revocation.revoked_before_signing);
  EXPECT_EQ(s.revocation.revocation_reason, "keyCompromise");
  EXPECT_TRUE(has_finding(s, "revoked_before_signing")) << findings_of(r);
  EXPECT_EQ(s.status(), SignatureStatus::invalid);
}

TEST_F(PdfVerify, Indeterminate_RevokedAfterAClaimedTime) {
  // Only a timestamp proves the signature predates the revocation (see the B-T case).
  auto r = verify_ok(path("signed.pdf"), trusting_options(V_OCSP_CERTSTATUS_REVOKED, std::time(nullptr) + 600));
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.revocation.status, RevocationStatus::revoked);
  EXPECT_FALSE(s.revocation.revoked_before_signing);
  EXPECT_TRUE(has_finding(s, "revoked_no_proof_of_time")) << findings_of(r);
  EXPECT_EQ(s.status(), SignatureStatus::indeterminate);
}

TEST_F(PdfVerify, Valid_ExpiredCertificateCheckedAtSigningTime) {
  // A month later the one-day signing certificate has expired; the signature stands.
  core::ManualClock later(std::chrono::system_clock::now() + std::chrono::hours(24 * 30));
  auto o = trusting_options();
  o.clock = &later;
  auto r = verify_ok(path("signed.pdf"), o);
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.status(), SignatureStatus::valid) << findings_of(r);
  EXPECT_TRUE(s.chain.trusted);
  EXPECT_TRUE(s.chain.signer_expired_now);
  EXPECT_TRUE(has_finding(s, "certificate_expired_since"));
}

TEST_F(PdfVerify, BaseFormats_ObjectStreamsAndCairo) {
  for (const std::string kind : {"objstm", "cairo"}) {
    SCOPED_TRACE(kind);
    const fs::path base = make_base_pdf(s_dir->path(), kind);
    const fs::path out = path("signed-" + kind + ".pdf");
    ASSERT_TRUE(pdfsig_sign(s_nss, "signer", base, out, "Sig"));
    auto r = verify_ok(out, trusting_options());
    ASSERT_EQ(r.signatures.size(), 1u);
    EXPECT_EQ(r.status(), DocumentStatus::valid) << findings_of(r);
    EXPECT_TRUE(r.signatures[0].coverage.covers_whole_file);
    // Signed again: pdfsig writes the update like the input (an xref stream after object
    // streams), and the first signature's later revision is still just a signature.
    const fs::path twice = path("signed-twice-" + kind + ".pdf");
    ASSERT_TRUE(pdfsig_sign(s_nss, "signer", out, twice, "Sig2"));
    r = verify_ok(twice, trusting_options());
    ASSERT_EQ(r.signatures.size(), 2u);
    EXPECT_EQ(r.status(), DocumentStatus::valid) << findings_of(r);
    for (const auto& s : r.signatures)
      if (s.field_name == "Sig") {
        ASSERT_EQ(s.coverage.later_revisions.size(), 1u);
        EXPECT_EQ(s.coverage.later_revisions[0].kind, "signature");
      }
  }
}

TEST_F(PdfVerify, NoSignatures_UnsignedPdf) {
  auto r = verify_ok(make_base_pdf(s_dir->path(), "gs"), trusting_options());
  EXPECT_TRUE(r.signatures.empty());
  EXPECT_EQ(r.status(), DocumentStatus::no_signatures);
}

TEST_F(PdfVerify, Rejects_NotAPdf) {
  EXPECT_EQ(verify_error(crypto::Bytes{'h', 'e', 'l', 'l', 'o'}).code, core::Errc::not_a_pdf);
  EXPECT_EQ(verify_error({}).code, core::Errc::not_a_pdf);
}

TEST_F(PdfVerify, Rejects_GarbageAfterHeader) {
  std::string garbage = "%PDF-1.7\n";
  for (int i = 0; i < 2000; ++i) garbage += static_cast<char>((i * 7919) % 251);
  const auto e = verify_error(crypto::Bytes(garbage.begin(), garbage.end()));
  EXPECT_EQ(e.code, core::Errc::pdf_malformed) << e.to_string();
}

TEST_F(PdfVerify, Rejects_TruncatedFile) {
  const std::string whole = read_text(make_base_pdf(s_dir->path(), "gs"));
  const std::string half = whole.substr(0, whole.size() / 2);
  auto r = signing::verify_pdf(crypto::as_bytes(half), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::pdf_malformed) << r.error().to_string();
}

TEST_F(PdfVerify, Reports_TruncatedSignedFile) {
  // Cut inside the signed revision's trailer: an earlier revision lets qpdf read the file,
  // but the signature covers bytes that are gone.
  const std::string whole = read_text(path("signed.pdf"));
  const std::string cut = whole.substr(0, whole.size() - 40);
  auto r = signing::verify_pdf(crypto::as_bytes(cut), trusting_options());
  if (!r) {
    EXPECT_EQ(r.error().code, core::Errc::pdf_malformed) << r.error().to_string();
    return;
  }
  for (const auto& s : r->signatures) EXPECT_EQ(s.status(), SignatureStatus::invalid) << findings_of(*r);
  EXPECT_NE(r->status(), DocumentStatus::valid);
}

TEST_F(PdfVerify, Rejects_EncryptedPdf) {
  const fs::path base = make_base_pdf(s_dir->path(), "gs");
  ASSERT_TRUE(sh("qpdf --encrypt u o 256 -- " + base.string() + " " + path("enc.pdf").string()));
  EXPECT_EQ(verify_error(read_bytes(path("enc.pdf"))).code, core::Errc::pdf_encrypted);
  // An empty user password opens without asking: still refused.
  ASSERT_TRUE(sh("qpdf --encrypt '' o 256 -- " + base.string() + " " + path("enc-open.pdf").string()));
  EXPECT_EQ(verify_error(read_bytes(path("enc-open.pdf"))).code, core::Errc::pdf_encrypted);
}

TEST_F(PdfVerify, Rejects_LargerThanLimit) {
  VerifyOptions o;
  o.max_file_size = 1000;
  EXPECT_EQ(verify_error(read_bytes(path("signed.pdf")), o).code, core::Errc::pdf_too_large);
}

// B-T: pdfsig cannot timestamp, and sizes /Contents to its own CMS. So pdfsig prepares and
// signs the PDF, and its CMS is replaced by one OpenSSL's CMS_sign makes over the same
// bytes with the same key (CAdES attributes, one certificate: smaller), carrying a
// signature-time-stamp token from `openssl ts` as an unsigned attribute.
class PdfVerifyTimestamp : public PdfVerify {
 protected:
  static fs::path signed_with_timestamp(const std::string& name, bool stamp_wrong_data) {
    const fs::path plain = path(name + "-plain.pdf"), out = path(name + ".pdf");
    EXPECT_TRUE(pdfsig_sign(s_nss, "signer", make_base_pdf(s_dir->path(), "gs"), plain, "Stamped"));
    std::string pdf = read_text(plain);
    const auto br_at = pdf.find("/ByteRange [");
    std::size_t range[4] = {};
    EXPECT_EQ(std::sscanf(pdf.c_str() + br_at, "/ByteRange [%zu %zu %zu %zu", &range[0], &range[1], &range[2], &range[3]), 4);
    const std::string covered = pdf.substr(0, range[1]) + pdf.substr(range[2], range[3]);
    crypto::Bio bio(BIO_new_mem_buf(covered.data(), static_cast<int>(covered.size())));
    auto key = load_key(s_pki.signer_key);
    crypto::CmsContentInfo cms(CMS_sign(s_signer.get(), key.get(), nullptr, bio.get(),
                                        CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES));
    EXPECT_TRUE(cms);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
    const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
    crypto::Bytes value(sig->data, sig->data + sig->length);
    if (stamp_wrong_data) value[0] ^= 1;
    const auto token = make_timestamp_token(s_pki, value, false);
    EXPECT_EQ(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token.data(),
                                            static_cast<int>(token.size())),
              1);
    unsigned char* der = nullptr;
    const int len = i2d_CMS_ContentInfo(cms.get(), &der);
    std::string hex = crypto::to_hex(crypto::ByteView(der, static_cast<std::size_t>(len)));
    OPENSSL_free(der);
    const std::size_t hole = range[2] - range[1] - 2;
    EXPECT_LE(hex.size(), hole) << "the CMS does not fit in the reserved /Contents";
    hex.resize(hole, '0');
    pdf.replace(range[1] + 1, hole, hex);
    write_bytes(out, pdf);
    return out;
  }
  // The TSA certificate is not in the token: given as an intermediate.
  static VerifyOptions with_tsa(VerifyOptions o) {
    o.intermediates.push_back(load_cert(s_pki.tsa_pem));
    return o;
  }
};

TEST_F(PdfVerifyTimestamp, Valid_SigningTimeFromTimestamp) {
  const auto pdf = signed_with_timestamp("bt", false);
  auto r = verify_ok(pdf, with_tsa(trusting_options()));
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.status(), SignatureStatus::valid) << findings_of(r);
  EXPECT_TRUE(s.timestamp.present);
  EXPECT_TRUE(s.timestamp.valid) << findings_of(r);
  EXPECT_TRUE(s.timestamp.imprint_ok);
  EXPECT_TRUE(s.timestamp.chain_trusted);
  ASSERT_TRUE(s.timestamp.gen_time);
  EXPECT_LT(std::abs(*s.timestamp.gen_time - std::time(nullptr)), 3600);
  EXPECT_EQ(s.timestamp.tsa, "O=Cartorio Tests,CN=Test TSA");
  EXPECT_EQ(s.chain.time_source, "timestamp");
  EXPECT_EQ(*s.chain.validation_time, *s.timestamp.gen_time);
  cartorio::testing::expect_contains(pdfsig_verify(s_dir->path(), pdf, s_pki.root_pem), "Signature is Valid.");
}

TEST_F(PdfVerifyTimestamp, Valid_RevokedAfterTheTimestampedTime) {
  auto r = verify_ok(signed_with_timestamp("bt-revoked", false),
                     with_tsa(trusting_options(V_OCSP_CERTSTATUS_REVOKED, std::time(nullptr) + 600)));
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_EQ(s.revocation.status, RevocationStatus::revoked);
  EXPECT_TRUE(has_finding(s, "revoked_after_signing")) << findings_of(r);
  EXPECT_EQ(s.status(), SignatureStatus::valid) << findings_of(r);
}

// A notary's revocation of a per-document certificate withdraws the signature, even after a
// proven signing time (which alone would let it stand, as above).
TEST_F(PdfVerifyTimestamp, WithdrawnByTheIssuerIsInvalid) {
  const auto pdf = signed_with_timestamp("bt-withdrawn", false);
  auto options = with_tsa(trusting_options());
  std::vector<std::string> asked;
  options.withdrawal_lookup = [&](const X509* signer) -> std::optional<signing::Withdrawal> {
    asked.push_back(crypto::serial_hex(signer));
    return signing::Withdrawal{1'800'000'000, "cessationOfOperation"};
  };
  auto r = verify_ok(pdf, options);
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_TRUE(has_finding(s, "withdrawn_by_issuer")) << findings_of(r);
  EXPECT_EQ(s.status(), SignatureStatus::invalid);
  EXPECT_EQ(r.status(), DocumentStatus::invalid);
  ASSERT_EQ(asked.size(), 1u) << "asked about the signer only (not the TSA)";
  ASSERT_TRUE(s.signer);
  EXPECT_EQ(asked[0], s.signer->serial);

  options.withdrawal_lookup = [](const X509*) { return std::optional<signing::Withdrawal>{}; };
  auto still = verify_ok(pdf, options);
  EXPECT_EQ(still.signatures.at(0).status(), SignatureStatus::valid) << findings_of(still);
}

TEST_F(PdfVerifyTimestamp, TimestampOverOtherDataFallsBackToClaimedTime) {
  auto r = verify_ok(signed_with_timestamp("bt-wrong", true), with_tsa(trusting_options()));
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& s = r.signatures[0];
  EXPECT_TRUE(s.timestamp.present);
  EXPECT_FALSE(s.timestamp.imprint_ok);
  EXPECT_FALSE(s.timestamp.valid);
  EXPECT_TRUE(has_finding(s, "timestamp_invalid")) << findings_of(r);
  EXPECT_EQ(s.chain.time_source, "claimed");
  EXPECT_EQ(s.status(), SignatureStatus::valid);  // the signature itself is fine
}

TEST_F(PdfVerifyTimestamp, TokenCheck_ImprintSignatureAndChain) {
  const crypto::Bytes data{'d', 'a', 't', 'a'};
  const auto token = make_timestamp_token(s_pki, data, true);
  signing::detail::CertPool pool;
  std::vector<X509*> anchors{s_root.get()};
  const crypto::ByteView parts[] = {crypto::ByteView(data).first(2), crypto::ByteView(data).subspan(2)};
  auto ok = signing::detail::check_timestamp_token(token, parts, pool, anchors);
  EXPECT_TRUE(ok.parse_error.empty()) << ok.parse_error;
  EXPECT_TRUE(ok.info.imprint_ok);
  EXPECT_TRUE(ok.info.signature_ok);
  EXPECT_TRUE(ok.info.chain_trusted) << ok.chain.error;
  EXPECT_TRUE(ok.info.valid) << ok.verify_error;

  const crypto::Bytes other{'o', 't', 'h', 'e', 'r'};
  const crypto::ByteView other_parts[] = {other};
  auto wrong = signing::detail::check_timestamp_token(token, other_parts, pool, anchors);
  EXPECT_FALSE(wrong.info.imprint_ok);
  EXPECT_FALSE(wrong.info.valid);

  auto untrusted = signing::detail::check_timestamp_token(token, parts, pool, {});
  EXPECT_FALSE(untrusted.info.chain_trusted);
  EXPECT_FALSE(untrusted.info.valid);

  crypto::Bytes garbage = token;
  garbage.resize(garbage.size() / 2);
  auto broken = signing::detail::check_timestamp_token(garbage, parts, pool, anchors);
  EXPECT_FALSE(broken.parse_error.empty());
}

}  // namespace
