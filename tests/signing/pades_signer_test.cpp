// PAdES signing checked by independent tools: pdfsig (poppler + NSS) and openssl cms, on
// PDFs written by ghostscript, cairo and qpdf (object and cross-reference streams).
#include "signing/pdf_signer.h"

#include "signing_test_support.h"

namespace cartorio::signing {
namespace {


class PadesSignerTest : public test::SigningFixture {
 protected:
  core::Result<SignedPdf> sign(const std::string& pdf, PadesLevel level, const test::DocumentSigner& s,
                               std::optional<SignatureAppearance> appearance = std::nullopt) {
    PadesRequest r;
    r.pdf = pdf;
    r.level = level;
    r.signer = s.signer();
    r.signing_time = m_clock.now();
    r.name = "Alice Tabeliã";
    r.reason = "Documento assinado pelo Cartório Digital";
    r.appearance = std::move(appearance);
    return sign_pades(r, m_services);
  }

  PadesServices m_services;
};

TEST_F(PadesSignerTest, BasicSignatureOnForeignPdfsIsValidForPdfsigAndOpensslCms) {
  auto signer = document_signer();
  for (const auto& sample : m_samples) {
    SCOPED_TRACE(sample.producer);
    const std::string original = cartorio::testing::read_file(sample.path);
    auto signed_pdf = sign(original, PadesLevel::b_b, signer);
    ASSERT_TRUE(signed_pdf) << signed_pdf.error().to_string();
    // An incremental update: the original bytes are untouched.
    ASSERT_EQ(signed_pdf->pdf.compare(0, original.size(), original), 0);
    const auto out = m_dir / (sample.producer + "-signed.pdf");
    cartorio::testing::write_file(out, signed_pdf->pdf);
    auto verdict = pdfsig(out);
    EXPECT_EQ(verdict.signatures, 1) << verdict.output;
    EXPECT_EQ(verdict.valid, 1) << verdict.output;
    EXPECT_EQ(verdict.trusted, 1) << verdict.output;
    cartorio::testing::expect_contains(verdict.output, "ETSI.CAdES.detached");
    // qpdf still reads the whole file without complaint.
    auto check = cartorio::testing::run("qpdf --check " + out.string());
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

    const auto sig = test::signatures_of(signed_pdf->pdf).back();
    EXPECT_EQ(sig.range[2] + sig.range[3], signed_pdf->pdf.size());
    cartorio::testing::write_file(m_dir / "sig.der", sig.contents);
    cartorio::testing::write_file(m_dir / "covered.bin", sig.covered);
    auto cms = cartorio::testing::run("openssl cms -verify -binary -inform DER -in " + (m_dir / "sig.der").string() +
                                      " -content " + (m_dir / "covered.bin").string() + " -CAfile " +
                                      (m_dir / "root.pem").string() + " -out /dev/null");
    EXPECT_EQ(cms.exit_code, 0) << cms.out << cms.err;
    cartorio::testing::expect_contains(cms.err, "Verification successful");
    // PAdES baseline: signing-certificate-v2, no signing-time.
    auto printed = cartorio::testing::run("openssl cms -cmsout -print -inform DER -in " + (m_dir / "sig.der").string());
    cartorio::testing::expect_contains(printed.out, "id-smime-aa-signingCertificateV2");
    EXPECT_EQ(printed.out.find("signingTime"), std::string::npos);
  }
}

TEST_F(PadesSignerTest, SignedTwiceBothSignaturesStayValid) {
  auto alice = document_signer("Alice");
  auto bob = document_signer("Bob");
  for (const auto& sample : m_samples) {
    SCOPED_TRACE(sample.producer);
    auto first = sign(cartorio::testing::read_file(sample.path), PadesLevel::b_b, alice);
    ASSERT_TRUE(first) << first.error().to_string();
    auto second = sign(first->pdf, PadesLevel::b_b, bob);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(first->field_name, "Signature1");
    EXPECT_EQ(second->field_name, "Signature2");
    ASSERT_EQ(second->pdf.compare(0, first->pdf.size(), first->pdf), 0);
    const auto out = m_dir / "twice.pdf";
    cartorio::testing::write_file(out, second->pdf);
    auto verdict = pdfsig(out);
    EXPECT_EQ(verdict.signatures, 2) << verdict.output;
    EXPECT_EQ(verdict.valid, 2) << verdict.output;
    EXPECT_EQ(verdict.trusted, 2) << verdict.output;
  }
}

TEST_F(PadesSignerTest, OneChangedByteInsideTheSignedRangeIsInvalid) {
  auto signer = document_signer();
  auto signed_pdf = sign(cartorio::testing::read_file(sample("ghostscript")), PadesLevel::b_b, signer);
  ASSERT_TRUE(signed_pdf);
  std::string tampered = signed_pdf->pdf;
  const std::size_t at = tampered.find("pagina");  // inside the first range
  if (at != std::string::npos) {
    tampered[at] = 'P';
  } else {
    tampered[200] ^= 0x01;
  }
  const auto out = m_dir / "tampered.pdf";
  cartorio::testing::write_file(out, tampered);
  auto verdict = pdfsig(out);
  EXPECT_EQ(verdict.signatures, 1) << verdict.output;
  EXPECT_EQ(verdict.valid, 0) << verdict.output;
}

TEST_F(PadesSignerTest, VisibleStampIsDrawnOnTheChosenPage) {
  auto signer = document_signer();
  const std::string original = cartorio::testing::read_file(sample("cairo"));
  auto info = inspect_pdf(original, 1 << 20);
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->pages, 2);
  SignatureAppearance a;
  a.page = 2;
  a.rect = {300, 40, 560, 120};
  a.content = "q 0 0 1 rg 0 0 260 80 re f Q BT /F1 10 Tf 10 40 Td (Assinado) Tj ET";
  auto signed_pdf = sign(original, PadesLevel::b_b, signer, a);
  ASSERT_TRUE(signed_pdf) << signed_pdf.error().to_string();
  const auto out = m_dir / "visible.pdf";
  cartorio::testing::write_file(out, signed_pdf->pdf);
  auto verdict = pdfsig(out);
  EXPECT_EQ(verdict.valid, 1) << verdict.output;
  // The stamp renders: page 2 has blue pixels (the stamp's fill), page 1 none.
  auto render = cartorio::testing::run("pdftoppm -r 18 " + out.string() + " " + (m_dir / "page").string());
  ASSERT_EQ(render.exit_code, 0) << render.err;
  auto blue_pixels = [](const std::string& ppm) {
    // P6 <w> <h> <max>\n then RGB triples.
    std::size_t at = 0;
    for (int fields = 0; fields < 4; ++fields) {
      while (std::isspace(static_cast<unsigned char>(ppm[at]))) ++at;
      while (!std::isspace(static_cast<unsigned char>(ppm[at]))) ++at;
    }
    ++at;
    int n = 0;
    for (; at + 2 < ppm.size(); at += 3)
      if (static_cast<unsigned char>(ppm[at]) < 40 && static_cast<unsigned char>(ppm[at + 1]) < 40 &&
          static_cast<unsigned char>(ppm[at + 2]) > 200)
        ++n;
    return n;
  };
  EXPECT_EQ(blue_pixels(cartorio::testing::read_file(m_dir / "page-1.ppm")), 0);
  EXPECT_GT(blue_pixels(cartorio::testing::read_file(m_dir / "page-2.ppm")), 50);
}

TEST_F(PadesSignerTest, BadInputIsRefusedWithItsCode) {
  auto signer = document_signer();
  const std::string good = cartorio::testing::read_file(sample("ghostscript"));
  auto code_of = [&](const std::string& pdf, std::size_t max = 1 << 20) {
    PadesRequest r;
    r.pdf = pdf;
    r.level = PadesLevel::b_b;
    r.signer = signer.signer();
    r.signing_time = m_clock.now();
    r.max_bytes = max;
    auto res = sign_pades(r, m_services);
    return res ? core::Errc::internal : res.error().code;
  };
  EXPECT_EQ(code_of("hello, not a PDF"), core::Errc::not_a_pdf);
  EXPECT_EQ(code_of(""), core::Errc::not_a_pdf);
  EXPECT_EQ(code_of(good.substr(0, good.size() / 2)), core::Errc::pdf_malformed);
  EXPECT_EQ(code_of(good, 100), core::Errc::pdf_too_large);
  std::string broken_xref = good;
  const std::size_t sx = broken_xref.rfind("startxref");
  broken_xref.replace(sx + 10, 3, "999");
  EXPECT_EQ(code_of(broken_xref), core::Errc::pdf_malformed);
  auto enc = cartorio::testing::run("qpdf --encrypt user owner 256 -- " + sample("ghostscript").string() + " " +
                                    (m_dir / "enc.pdf").string());
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  EXPECT_EQ(code_of(cartorio::testing::read_file(m_dir / "enc.pdf")), core::Errc::pdf_encrypted);
  auto enc_empty = cartorio::testing::run("qpdf --encrypt '' owner 256 -- " + sample("ghostscript").string() + " " +
                                          (m_dir / "enc2.pdf").string());
  ASSERT_EQ(enc_empty.exit_code, 0) << enc_empty.err;
  EXPECT_EQ(code_of(cartorio::testing::read_file(m_dir / "enc2.pdf")), core::Errc::pdf_encrypted);
}

}  // namespace
}  // namespace cartorio::signing
