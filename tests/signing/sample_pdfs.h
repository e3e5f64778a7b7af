// Sample PDFs the project did not write itself: ghostscript (pdfwrite), cairo (pdftocairo)
// and qpdf (object streams + a cross-reference stream), made from a small PostScript page.
#pragma once

#include "support/test_support.h"

#include <gtest/gtest.h>

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
