// Sample PDFs the project did not write itself: ghostscript (pdfwrite), cairo (pdftocairo)
// and qpdf (object streams + a cross-reference stream), made from a small PostScript page.
#pragma once

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace cartorio::signing::test {

struct SamplePdf {
  std::string producer;  // "ghostscript", "cairo", "qpdf-objstm"
  std::filesystem::path path;
};

// Writes the samples into `dir` (pages: how many pages the PostScript has).
inline std::vector<SamplePdf> make_sample_pdfs(const std::filesystem::path& dir, int pages = 2) {
  std::filesystem::create_directories(dir);
  std::string ps = "%!PS\n/Helvetica findfont 18 scalefont setfont\n";
  for (int p = 1; p <= pages; ++p)
    ps += "72 720 moveto (Cartorio Digital - pagina " + std::to_string(p) +
          ") show 72 690 moveto (Contrato de teste, acentuacao: a e o) show showpage\n";
  cartorio::testing::write_file(dir / "sample.ps", ps);
  const std::string gs = (dir / "gs.pdf").string(), cairo = (dir / "cairo.pdf").string(),
                    objstm = (dir / "objstm.pdf").string();
  auto run = [](const std::string& cmd) {
    auto r = cartorio::testing::run(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.out << r.err;
  };
  run("gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile=" + gs + " " + (dir / "sample.ps").string());
  run("pdftocairo -pdf " + gs + " " + cairo);
  run("qpdf --object-streams=generate " + gs + " " + objstm);
  return {{"ghostscript", gs}, {"cairo", cairo}, {"qpdf-objstm", objstm}};
}

// One signature of a signed PDF, in file order: its /ByteRange, the covered bytes and the
// /Contents value (DER, the zero padding cut at the outer SEQUENCE's length).
struct PdfSignature {
  std::size_t range[4]{};
  std::string covered;
  std::string contents;
};

inline std::vector<PdfSignature> signatures_of(const std::string& pdf) {
  std::vector<PdfSignature> out;
  for (std::size_t at = 0; (at = pdf.find("/ByteRange [", at)) != std::string::npos; ++at) {
    PdfSignature s;
    if (std::sscanf(pdf.c_str() + at + 12, "%zu %zu %zu %zu", &s.range[0], &s.range[1], &s.range[2], &s.range[3]) != 4)
      continue;
    s.covered = pdf.substr(s.range[0], s.range[1]) + pdf.substr(s.range[2], s.range[3]);
    const std::string hex = pdf.substr(s.range[1] + 1, s.range[2] - s.range[1] - 2);
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    if (bytes.size() < 4) continue;
    std::size_t len = static_cast<unsigned char>(bytes[1]), header = 2;
    if (len & 0x80) {
      const std::size_t n = len & 0x7F;
      len = 0;
      for (std::size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(bytes[2 + i]);
      header += n;
    }
    s.contents = bytes.substr(0, header + len);
    out.push_back(std::move(s));
  }
  return out;
}

// An NSS database trusting `root_pem`, for pdfsig.
inline std::string make_nss_db(const std::filesystem::path& dir, const std::filesystem::path& root_pem) {
  std::filesystem::create_directories(dir);
  const std::string db = "sql:" + dir.string();
  auto a = cartorio::testing::run("certutil -N -d " + db + " --empty-password 2>&1");
  EXPECT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = cartorio::testing::run("certutil -A -d " + db + " -n root -t CT,C,C -i " + root_pem.string());
  EXPECT_EQ(b.exit_code, 0) << b.out << b.err;
  return db;
}

}  // namespace cartorio::signing::test
