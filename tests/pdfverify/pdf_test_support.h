// Signed PDFs for the verifier's tests, made by independent tools: ghostscript, qpdf and
// pdftocairo write the base PDFs, openssl the keys and certificates, NSS's pk12util and
// poppler's pdfsig the signatures, `openssl ts` the time-stamp tokens. Only incremental
// updates that are not signatures (a DSS, a changed page) are appended by hand.
#pragma once

#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <ctime>
#include <filesystem>
#include <map>
#include <string>

namespace cartorio::testing::pdf {

namespace fs = std::filesystem;

// Runs a shell command; a failure is a test failure (ADD_FAILURE) with its output.
bool sh(const std::string& cmd);

std::string read_text(const fs::path& p);
crypto::Bytes read_bytes(const fs::path& p);
void write_bytes(const fs::path& p, const std::string& data);

// A one-page PDF from a tiny PostScript program: kind "gs" (ghostscript), "objstm"
// (then rewritten by qpdf with object streams and an xref stream) or "cairo" (pdftocairo).
fs::path make_base_pdf(const fs::path& dir, const std::string& kind);

// A test PKI in `dir`: root CA, a signer issued by it (valid `signer_days`), a TSA
// (EC P-256, critical timeStamping EKU) and an unrelated root.
struct TestPki {
  fs::path dir;
  fs::path root_pem, root_key, signer_pem, signer_key, tsa_pem, tsa_key, other_root_pem;
};
TestPki make_pki(const fs::path& dir, int signer_days = 1);

// An NSS database holding `cert_pem` + `key_pem` under nickname `nick` (plus `extra_pem`'s
// certificates, when given, so pdfsig embeds them in the CMS).
fs::path make_nss_db(const fs::path& dir, const std::string& nick, const fs::path& cert_pem, const fs::path& key_pem,
                     const fs::path& extra_pem = {});

// pdfsig -add-signature; returns false (and fails the test) when pdfsig does.
bool pdfsig_sign(const fs::path& nss, const std::string& nick, const fs::path& in, const fs::path& out,
                 const std::string& field = "");

// An RFC 3161 token over `data` from the test TSA (`openssl ts -reply`), with the TSA
// certificate inside when `with_cert`.
crypto::Bytes make_timestamp_token(const TestPki& pki, const crypto::Bytes& data, bool with_cert);

// A DER OCSPResponse about `cert`, signed by `issuer`: status V_OCSP_CERTSTATUS_*.
crypto::Bytes make_ocsp_response(X509* cert, X509* issuer, EVP_PKEY* issuer_key, int status, std::time_t this_update,
                                 std::time_t revoked_at = 0, int reason = -1);

crypto::X509Ptr load_cert(const fs::path& pem);
crypto::PKey load_key(const fs::path& pem);

// Appends an incremental update (xref table, trailer with /Prev) writing `objects`
// (number -> "<< ... >>" or a full "<< /Length n >>\nstream\n...\nendstream" body).
std::string append_update(const std::string& pdf, const std::map<int, std::string>& objects);
// The highest object number in use + 1 (the trailer's /Size of the last revision).
int next_object_number(const std::string& pdf);
// The body of object `num` as `qpdf --show-object` prints it.
std::string show_object(const fs::path& pdf, int num);
int root_object_number(const std::string& pdf);

// pdfsig's verdict lines ("Signature Validation: ...") for `pdf`, trusting `root_pem`.
std::string pdfsig_verify(const fs::path& dir, const fs::path& pdf, const fs::path& root_pem);

}  // namespace cartorio::testing::pdf
