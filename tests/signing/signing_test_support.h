// A real hierarchy (the OCSP tests' fixture: the Ceremony with EC keys, SQLite, software
// keys) plus per-document signers and the checks independent tools make on signed PDFs.
#pragma once

#include "../ocsp/ocsp_test_support.h"
#include "sample_pdfs.h"
#include "signing/pdf_signer.h"

#include <regex>

namespace cartorio::signing::test {

struct DocumentSigner {
  crypto::PKey key;
  crypto::X509Ptr cert;
  CmsSigner signer() const { return {key.get(), cert.get(), chain}; }
  std::vector<X509*> chain;
};

class SigningFixture : public ocsp::test::OcspFixture {
 protected:
  void SetUp() override {
    ocsp::test::OcspFixture::SetUp();
    if (HasFatalFailure()) return;
    cartorio::testing::write_file(m_dir / "root.pem", crypto::to_pem(ca("root")));
    cartorio::testing::write_file(m_dir / "chain.pem", crypto::to_pem(ca("document")) + crypto::to_pem(ca("root")));
    m_nss = make_nss_db(m_dir / "nss", m_dir / "root.pem");
    m_samples = make_sample_pdfs(m_dir / "samples");
  }

  // A fresh key and a document-signing certificate for it, recorded in the store.
  DocumentSigner document_signer(const std::string& name = "Alice Tabeliã") {
    DocumentSigner s;
    s.key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256).value();
    pki::CertificateIssuer issuer(*m_hierarchy, *m_keys, *m_store, m_clock, pki::make_urls("http://pki.test.example"));
    auto csr = pki::test::csr_der({.key = s.key.get(), .subject = {{"CN", name}}, .sans = {pki::test::email("alice@cartorio.test")}});
    pki::IssueRequest req;
    req.profile = "document-signing";
    req.csr = csr;
    req.requester = "test";
    auto issued = issuer.issue(req);
    EXPECT_TRUE(issued) << issued.error().to_string();
    s.cert = crypto::parse_certificate(crypto::as_bytes(issued->record.pem)).value();
    s.chain = {ca("document"), ca("root")};
    return s;
  }

  // pdfsig's verdict on every signature: {valid signature, trusted certificate} per signature.
  struct PdfsigResult {
    int signatures = 0;
    int valid = 0;
    int trusted = 0;
    std::string output;
  };
  PdfsigResult pdfsig(const std::filesystem::path& pdf) {
    auto r = cartorio::testing::run("pdfsig -nssdir " + m_nss + " -no-ocsp " + pdf.string());
    PdfsigResult out;
    out.output = r.out + r.err;
    const std::regex sig("Signature #[0-9]+:");
    out.signatures = static_cast<int>(std::distance(std::sregex_iterator(out.output.begin(), out.output.end(), sig),
                                                     std::sregex_iterator()));
    for (std::size_t at = 0; (at = out.output.find("Signature is Valid.", at)) != std::string::npos; ++at) ++out.valid;
    for (std::size_t at = 0; (at = out.output.find("Certificate is Trusted.", at)) != std::string::npos; ++at)
      ++out.trusted;
    return out;
  }

  std::filesystem::path sample(const std::string& producer) const {
    for (const auto& s : m_samples)
      if (s.producer == producer) return s.path;
    return {};
  }

  std::string m_nss;
  std::vector<SamplePdf> m_samples;
};

}  // namespace cartorio::signing::test
