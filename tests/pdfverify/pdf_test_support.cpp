#include "pdfverify/pdf_test_support.h"

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <cctype>
#include <sstream>

namespace cartorio::testing::pdf {

namespace {

std::string q(const fs::path& p) { return shell_quote(p.string()); }

// The number after the last `key` in `text` ("" when there is none). Not std::regex: over
// half a megabyte of PDF it takes seconds under the sanitizers.
std::string number_after_last(const std::string& text, const std::string& key) {
  for (auto pos = text.rfind(key); pos != std::string::npos; pos = pos == 0 ? std::string::npos : text.rfind(key, pos - 1)) {
    std::size_t i = pos + key.size();
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) return text.substr(i, j - i);
  }
  return "";
}

int unique_id() {
  static std::atomic<int> n{0};
  return ++n;
}

}  // namespace

bool sh(const std::string& cmd) {
  auto r = run(cmd);
  if (r.exit_code != 0) ADD_FAILURE() << "command failed (" << r.exit_code << "): " << cmd << "\n" << r.out << r.err;
  return r.exit_code == 0;
}

std::string read_text(const fs::path& p) { return read_file(p); }

crypto::Bytes read_bytes(const fs::path& p) {
  const std::string s = read_file(p);
  return crypto::Bytes(s.begin(), s.end());
}

void write_bytes(const fs::path& p, const std::string& data) { write_file(p, data); }

fs::path make_base_pdf(const fs::path& dir, const std::string& kind) {
  const fs::path ps = dir / "doc.ps", gs = dir / "base-gs.pdf";
  if (!fs::exists(gs)) {
    write_file(ps, "%!PS\n/Helvetica findfont 24 scalefont setfont\n72 720 moveto (Cartorio verify test) show\n"
                   "0 0 1 setrgbcolor 72 600 200 50 rectfill\nshowpage\n");
    sh("gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile=" + q(gs) + " " + q(ps));
  }
  if (kind == "gs") return gs;
  const fs::path out = dir / ("base-" + kind + ".pdf");
  if (kind == "objstm") sh("qpdf --object-streams=generate " + q(gs) + " " + q(out));
  else if (kind == "cairo") sh("pdftocairo -pdf " + q(gs) + " " + q(out));
  else ADD_FAILURE() << "unknown base PDF kind " << kind;
  return out;
}

TestPki make_pki(const fs::path& dir, int signer_days) {
  TestPki p;
  p.dir = dir;
  fs::create_directories(dir);
  p.root_pem = dir / "root.pem";
  p.root_key = dir / "root.key";
  p.signer_pem = dir / "signer.pem";
  p.signer_key = dir / "signer.key";
  p.tsa_pem = dir / "tsa.pem";
  p.tsa_key = dir / "tsa.key";
  p.other_root_pem = dir / "other-root.pem";
  const std::string ca_ext = " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
  sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + q(p.root_key) + " -out " + q(p.root_pem) +
     " -days 3650 -subj '/CN=Verify Test Root/O=Cartorio Tests'" + ca_ext + " 2>/dev/null");
  sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + q(dir / "other-root.key") + " -out " + q(p.other_root_pem) +
     " -days 3650 -subj '/CN=Unrelated Root/O=Elsewhere'" + ca_ext + " 2>/dev/null");
  write_file(dir / "signer.ext",
             "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n");
  sh("openssl req -newkey rsa:2048 -nodes -keyout " + q(p.signer_key) + " -out " + q(dir / "signer.csr") +
     " -subj '/CN=Test Signer/O=Cartorio Tests' 2>/dev/null");
  sh("openssl x509 -req -in " + q(dir / "signer.csr") + " -CA " + q(p.root_pem) + " -CAkey " + q(p.root_key) +
     " -CAcreateserial -out " + q(p.signer_pem) + " -days " + std::to_string(signer_days) + " -extfile " +
     q(dir / "signer.ext") + " 2>/dev/null");
  write_file(dir / "tsa.ext",
             "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n");
  sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + q(p.tsa_key) + " -out " +
     q(dir / "tsa.csr") + " -subj '/CN=Test TSA/O=Cartorio Tests' 2>/dev/null");
  sh("openssl x509 -req -in " + q(dir / "tsa.csr") + " -CA " + q(p.root_pem) + " -CAkey " + q(p.root_key) +
     " -CAcreateserial -out " + q(p.tsa_pem) + " -days 3650 -extfile " + q(dir / "tsa.ext") + " 2>/dev/null");
  write_file(dir / "tsaserial", "01\n");
  write_file(dir / "ts.cnf", "[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\nserial = " +
                                 (dir / "tsaserial").string() + "\ncrypto_device = builtin\nsigner_cert = " +
                                 p.tsa_pem.string() + "\nsigner_key = " + p.tsa_key.string() +
                                 "\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256, sha384, "
                                 "sha512\naccuracy = secs:1\nordering = yes\ntsa_name = yes\ness_cert_id_chain = no\n"
                                 "ess_cert_id_alg = sha256\n");
  return p;
}

fs::path make_nss_db(const fs::path& dir, const std::string& nick, const fs::path& cert_pem, const fs::path& key_pem,
                     const fs::path& extra_pem) {
  const fs::path db = dir / ("nss-" + nick), p12 = dir / (nick + ".p12");
  fs::create_directories(db);
  sh("openssl pkcs12 -export -inkey " + q(key_pem) + " -in " + q(cert_pem) +
     (extra_pem.empty() ? "" : " -certfile " + q(extra_pem)) + " -name " + shell_quote(nick) + " -out " + q(p12) +
     " -passout pass:");
  sh("certutil -N -d sql:" + q(db) + " --empty-password");
  sh("pk12util -i " + q(p12) + " -d sql:" + q(db) + " -W '' >/dev/null");
  return db;
}

bool pdfsig_sign(const fs::path& nss, const std::string& nick, const fs::path& in, const fs::path& out,
                 const std::string& field) {
  return sh("pdfsig -add-signature -nssdir sql:" + q(nss) + " -nick " + shell_quote(nick) +
            (field.empty() ? "" : " -new-signature-field-name " + shell_quote(field)) + " " + q(in) + " " + q(out));
}

crypto::Bytes make_timestamp_token(const TestPki& pki, const crypto::Bytes& data, bool with_cert) {
  const std::string id = std::to_string(unique_id());
  const fs::path in = pki.dir / ("ts-data-" + id), req = pki.dir / ("ts-" + id + ".tsq"), tok = pki.dir / ("ts-" + id + ".der");
  write_file(in, crypto::to_string(data));
  sh("openssl ts -query -data " + q(in) + " -sha256 -no_nonce" + (with_cert ? " -cert" : "") + " -out " + q(req));
  sh("openssl ts -reply -config " + q(pki.dir / "ts.cnf") + " -queryfile " + q(req) + " -token_out -out " + q(tok) +
     " 2>/dev/null");
  return read_bytes(tok);
}

crypto::Bytes make_ocsp_response(X509* cert, X509* issuer, EVP_PKEY* issuer_key, int status, std::time_t this_update,
                                 std::time_t revoked_at, int reason) {
  crypto::OcspBasicResp basic(OCSP_BASICRESP_new());
  crypto::OcspCertId id(OCSP_cert_to_id(EVP_sha1(), cert, issuer));
  crypto::Asn1Time thisupd(ASN1_TIME_set(nullptr, this_update));
  crypto::Asn1Time nextupd(ASN1_TIME_set(nullptr, this_update + 3600));
  crypto::Asn1Time revtime(status == V_OCSP_CERTSTATUS_REVOKED ? ASN1_TIME_set(nullptr, revoked_at) : nullptr);
  EXPECT_TRUE(OCSP_basic_add1_status(basic.get(), id.get(), status, reason, revtime.get(), thisupd.get(), nextupd.get()));
  EXPECT_EQ(OCSP_basic_sign(basic.get(), issuer, issuer_key, EVP_sha256(), nullptr, 0), 1);
  crypto::OcspResponse resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp.get(), &der);
  EXPECT_GT(len, 0);
  crypto::Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

crypto::X509Ptr load_cert(const fs::path& pem) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(pem.c_str(), "r"), &std::fclose);
  EXPECT_TRUE(f) << pem;
  return crypto::X509Ptr(f ? PEM_read_X509(f.get(), nullptr, nullptr, nullptr) : nullptr);
}

crypto::PKey load_key(const fs::path& pem) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(pem.c_str(), "r"), &std::fclose);
  EXPECT_TRUE(f) << pem;
  return crypto::PKey(f ? PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr) : nullptr);
}

int next_object_number(const std::string& pdf) {
  const std::string size = number_after_last(pdf, "/Size");
  EXPECT_FALSE(size.empty());
  return size.empty() ? 0 : std::stoi(size);
}

int root_object_number(const std::string& pdf) {
  const std::string root = number_after_last(pdf, "/Root");
  EXPECT_FALSE(root.empty());
  return root.empty() ? 0 : std::stoi(root);
}

std::string show_object(const fs::path& pdf, int num) {
  auto r = run("qpdf --show-object=" + std::to_string(num) + " " + q(pdf));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string s = r.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string append_update(const std::string& pdf, const std::map<int, std::string>& objects) {
  const std::string prev = number_after_last(pdf, "startxref");
  EXPECT_FALSE(prev.empty());
  int size = next_object_number(pdf);
  const int root = root_object_number(pdf);
  std::string out = pdf;
  if (!out.empty() && out.back() != '\n') out += "\n";
  std::map<int, std::size_t> offsets;
  for (const auto& [num, body] : objects) {
    offsets[num] = out.size();
    out += std::to_string(num) + " 0 obj\n" + body + "\nendobj\n";
    size = std::max(size, num + 1);
  }
  const std::size_t xref = out.size();
  out += "xref\n0 1\n0000000000 65535 f \n";
  for (const auto& [num, off] : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    out += std::to_string(num) + " 1\n" + line;
  }
  out += "trailer\n<< /Size " + std::to_string(size) + " /Root " + std::to_string(root) + " 0 R /Prev " + prev +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

std::string pdfsig_verify(const fs::path& dir, const fs::path& pdf, const fs::path& root_pem) {
  const fs::path db = dir / "nss-verify";
  if (!fs::exists(db)) {
    fs::create_directories(db);
    sh("certutil -N -d sql:" + q(db) + " --empty-password");
    sh("certutil -A -d sql:" + q(db) + " -n root -t CT,C,C -i " + q(root_pem));
  }
  auto r = run("pdfsig -nssdir sql:" + q(db) + " " + q(pdf));
  return r.out + r.err;
}

}  // namespace cartorio::testing::pdf
