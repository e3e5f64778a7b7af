#include "crypto/x509.h"

#include "crypto/key_pair.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>

namespace cartorio::crypto {

using core::Errc;

namespace {

bool looks_like_pem(ByteView b) {
  static constexpr char kBegin[] = "-----BEGIN";
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  return s.find(kBegin) != std::string_view::npos;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

core::Result<X509Ptr> parse_certificate(ByteView in) {
  if (in.empty()) return {Errc::malformed_input, "certificate: empty input"};
  X509Ptr cert;
  if (looks_like_pem(in)) {
    Bio bio(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = in.data();
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(in.size())));
    if (cert && p != in.data() + in.size())
      return {Errc::malformed_input, "certificate: trailing bytes after the DER structure at offset " +
                                         std::to_string(p - in.data())};
  }
  if (!cert) return {Errc::malformed_input, "certificate: not a valid PEM or DER certificate (" + openssl_errors() + ")"};
  return cert;
}

core::Result<std::vector<X509Ptr>> parse_certificate_chain(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> out;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  openssl_errors();  // the loop ends on a "no start line" error
  if (out.empty()) return {Errc::malformed_input, "certificate chain: no PEM certificate found"};
  return out;
}

core::Result<X509Req> parse_csr(ByteView in) {
  if (in.empty()) return {Errc::malformed_csr, "CSR: empty input"};
  X509Req req;
  if (looks_like_pem(in)) {
    Bio bio(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = in.data();
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(in.size())));
    if (req && p != in.data() + in.size()) {
      return {Errc::malformed_csr, "CSR: trailing bytes after the DER structure at offset " +
                                       std::to_string(p - in.data())};
    }
  }
  if (!req) {
    std::string why = openssl_errors();
    return {Errc::malformed_csr, "CSR: not a valid PKCS#10 request in PEM or DER" + (why.empty() ? "" : " (" + why + ")")};
  }
  return req;
}

core::Result<X509Crl> parse_crl(ByteView in) {
  X509Crl crl;
  if (looks_like_pem(in)) {
    Bio bio(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
    crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = in.data();
    crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(in.size())));
  }
  if (!crl) return {Errc::malformed_input, "CRL: not a valid PEM or DER CRL (" + openssl_errors() + ")"};
  return crl;
}

std::string to_pem(const X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), const_cast<X509*>(cert));
  return bio_to_string(bio.get());
}

Bytes to_der(const X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string crl_to_pem(const X509_CRL* crl) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), const_cast<X509_CRL*>(crl));
  return bio_to_string(bio.get());
}

Bytes crl_to_der(const X509_CRL* crl) {
  unsigned char* buf = nullptr;
  int len = i2d_X509_CRL(crl, &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  Bignum bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  if (BN_is_zero(bn.get())) return "0";
  char* hex = BN_bn2hex(bn.get());
  std::string s(hex);
  OPENSSL_free(hex);
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

std::string serial_hex(const X509* cert) { return serial_hex(X509_get0_serialNumber(cert)); }

core::Result<Asn1Integer> serial_from_hex(std::string_view in) {
  std::string hex;
  if (in.rfind("0x", 0) == 0 || in.rfind("0X", 0) == 0) in.remove_prefix(2);
  for (char ch : in) {
    if (ch == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(ch)))
      return {Errc::invalid_serial, "serial: not a hexadecimal number: \"" + std::string(in) + "\""};
    hex.push_back(ch);
  }
  if (hex.empty()) return {Errc::invalid_serial, "serial: empty"};
  const auto nz = hex.find_first_not_of('0');
  hex = nz == std::string::npos ? "0" : hex.substr(nz);
  if (hex.size() > 40)
    return {Errc::invalid_serial, "serial: must be 1 to 40 hex digits (at most 20 octets)"};
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) return {Errc::invalid_serial, "serial: cannot parse"};
  Bignum bn(raw);
  Asn1Integer out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return {Errc::invalid_serial, "serial: cannot encode"};
  return out;
}

std::string name_to_string(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_to_string(bio.get());
}

long long asn1_time_to_unix(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<long long>(timegm(&tm));
}

core::Result<void> copy_public_key_info(X509* cert, const X509_PUBKEY* spki, const EVP_PKEY* key) {
  if (!cert || !spki || !key) return {core::Errc::crypto_error, "no SubjectPublicKeyInfo to copy"};
  // The canonical encoding of the key (an encoder call, no decoder) against the bytes given.
  CARTORIO_TRY(Bytes canonical, public_key_to_der(key));
  unsigned char* given = nullptr;
  const int given_len = i2d_X509_PUBKEY(spki, &given);
  const bool same = given_len > 0 && static_cast<std::size_t>(given_len) == canonical.size() &&
                    std::memcmp(given, canonical.data(), canonical.size()) == 0;
  OPENSSL_free(given);
  if (!same) return {core::Errc::not_supported, "the SubjectPublicKeyInfo is not the key's canonical encoding"};

  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* alg = nullptr;
  if (X509_PUBKEY_get0_param(&algorithm, &bits, &bits_len, &alg, spki) != 1 || !alg || !bits || bits_len <= 0)
    return {core::Errc::crypto_error, "no SubjectPublicKeyInfo to copy"};
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, alg);
  if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL && param_type != V_ASN1_OBJECT)
    return {core::Errc::not_supported, "public key algorithm parameters of this kind are not copied"};
  // set0 takes ownership of fresh copies (the request keeps its own). In OpenSSL 3.0
  // X509_PUBKEY_set0_param fails only before it takes anything, so freeing all on failure is right.
  ASN1_OBJECT* oid_copy = OBJ_dup(oid);
  ASN1_OBJECT* param_copy = param_type == V_ASN1_OBJECT ? OBJ_dup(static_cast<const ASN1_OBJECT*>(param)) : nullptr;
  auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(bits_len)));
  if (!oid_copy || (param_type == V_ASN1_OBJECT && !param_copy) || !bits_copy ||
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), oid_copy, param_type, param_copy, bits_copy, bits_len) != 1) {
    ASN1_OBJECT_free(oid_copy);
    ASN1_OBJECT_free(param_copy);
    OPENSSL_free(bits_copy);
    return {core::Errc::crypto_error, "cannot copy the SubjectPublicKeyInfo"};
  }
  return core::ok();
}

}  // namespace cartorio::crypto
