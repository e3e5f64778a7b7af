#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>
#include <ctime>

namespace cartorio::crypto {

using core::Errc;

namespace {

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

bool looks_like_pem(ByteView b) {
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  return s.find("-----BEGIN") != std::string_view::npos;
}

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

namespace {

// The key bits of an RSA key: SEQUENCE { INTEGER n, INTEGER e } in DER, nothing after it.
// Parsed and re-encoded with the generic ASN.1 codec (no provider decoder): the bytes must
// come back unchanged, which rules out trailing data and non-minimal lengths.
bool canonical_rsa_key_bits(const unsigned char* bits, int len) {
  const unsigned char* p = bits;
  std::unique_ptr<ASN1_SEQUENCE_ANY, decltype([](ASN1_SEQUENCE_ANY* s) { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); })>
      seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, len));
  if (!seq || p != bits + len || sk_ASN1_TYPE_num(seq.get()) != 2) return false;
  // Both positive: a DER INTEGER with its top bit set is negative, which OpenSSL's key
  // decoder would still read as a positive modulus (so a copy would not be what it writes).
  for (int i = 0; i < 2; ++i) {
    const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq.get(), i);
    if (ASN1_TYPE_get(t) != V_ASN1_INTEGER || t->value.integer->type != V_ASN1_INTEGER ||
        ASN1_STRING_length(t->value.integer) == 0 ||
        (ASN1_STRING_length(t->value.integer) == 1 && ASN1_STRING_get0_data(t->value.integer)[0] == 0))
      return false;
  }
  unsigned char* again = nullptr;
  const int again_len = i2d_ASN1_SEQUENCE_ANY(seq.get(), &again);
  const bool same = again_len == len && std::memcmp(again, bits, static_cast<std::size_t>(len)) == 0;
  OPENSSL_free(again);
  return same;
}

}  // namespace

CanonicalSpki canonical_spki(const X509_ALGOR* algorithm, const unsigned char* bits, int bits_len) {
  if (!algorithm || !bits || bits_len <= 0) return CanonicalSpki::none;
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, algorithm);
  switch (OBJ_obj2nid(oid)) {
    case NID_rsaEncryption:
      return param_type == V_ASN1_NULL && canonical_rsa_key_bits(bits, bits_len) ? CanonicalSpki::rsa
                                                                                 : CanonicalSpki::none;
    case NID_X9_62_id_ecPublicKey: {
      const int curve = param_type == V_ASN1_OBJECT ? OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(param)) : NID_undef;
      if (bits[0] != 0x04) return CanonicalSpki::none;
      if (curve == NID_X9_62_prime256v1 && bits_len == 65) return CanonicalSpki::ec_p256;
      if (curve == NID_secp384r1 && bits_len == 97) return CanonicalSpki::ec_p384;
      return CanonicalSpki::none;
    }
    default: return CanonicalSpki::none;
  }
}

bool copy_spki(X509_PUBKEY* to, const X509_ALGOR* algorithm, const unsigned char* bits, int bits_len) {
  if (!to || !algorithm || !bits || bits_len <= 0) return false;
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&oid, &param_type, &param, algorithm);
  if (param_type != V_ASN1_NULL && param_type != V_ASN1_OBJECT && param_type != V_ASN1_UNDEF) return false;
  // set0 takes ownership of fresh copies (the source keeps its own). In OpenSSL 3.0
  // X509_PUBKEY_set0_param fails only before it takes anything, so freeing all on failure is right.
  ASN1_OBJECT* oid_copy = OBJ_dup(oid);
  ASN1_OBJECT* param_copy = param_type == V_ASN1_OBJECT ? OBJ_dup(static_cast<const ASN1_OBJECT*>(param)) : nullptr;
  auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(bits_len)));
  if (!oid_copy || (param_type == V_ASN1_OBJECT && !param_copy) || !bits_copy ||
      X509_PUBKEY_set0_param(to, oid_copy, param_type, param_copy, bits_copy, bits_len) != 1) {
    ASN1_OBJECT_free(oid_copy);
    ASN1_OBJECT_free(param_copy);
    OPENSSL_free(bits_copy);
    return false;
  }
  return true;
}

core::Result<void> copy_public_key_info(X509* cert, const X509_PUBKEY* spki) {
  if (!cert || !spki) return {core::Errc::crypto_error, "no SubjectPublicKeyInfo to copy"};
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* alg = nullptr;
  if (X509_PUBKEY_get0_param(&algorithm, &bits, &bits_len, &alg, spki) != 1 || !alg || !bits || bits_len <= 0)
    return {core::Errc::crypto_error, "no SubjectPublicKeyInfo to copy"};
  if (canonical_spki(alg, bits, bits_len) == CanonicalSpki::none)
    return {core::Errc::not_supported, "not the canonical encoding of an RSA or P-256/P-384 key"};
  if (!copy_spki(X509_get_X509_PUBKEY(cert), alg, bits, bits_len))
    return {core::Errc::crypto_error, "cannot copy the SubjectPublicKeyInfo"};
  return core::ok();
}

core::Result<X509Name> make_name(const std::vector<std::pair<std::string, std::string>>& attributes) {
  X509Name name(X509_NAME_new());
  if (!name) return core::Error{core::Errc::crypto_error, "cannot create an X.509 name"};
  for (const auto& [field, value] : attributes)
    if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()),
                                   -1, 0) != 1)
      return core::Error{core::Errc::invalid_argument, "invalid subject attribute " + field + ": " + openssl_errors()};
  return name;
}

core::Result<Bytes> make_csr_der(EVP_PKEY* key, const CsrSpec& spec) {
  X509Req req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1)
    return core::Error{core::Errc::crypto_error, "cannot create a CSR"};
  CARTORIO_TRY(auto name, make_name(spec.subject));
  if (X509_REQ_set_subject_name(req.get(), name.get()) != 1 || X509_REQ_set_pubkey(req.get(), key) != 1)
    return core::Error{core::Errc::crypto_error, "cannot fill the CSR: " + openssl_errors()};
  if (!spec.uri_sans.empty()) {
    GeneralNames names(sk_GENERAL_NAME_new_null());
    for (const auto& uri : spec.uri_sans) {
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
      if (!gn || !ia5 || ASN1_STRING_set(ia5, uri.data(), static_cast<int>(uri.size())) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(ia5);
        return core::Error{core::Errc::crypto_error, "cannot encode a subjectAltName"};
      }
      GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
      sk_GENERAL_NAME_push(names.get(), gn);
    }
    X509Ext ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    const bool ok = ext && exts && sk_X509_EXTENSION_push(exts, ext.get()) > 0 &&
                    X509_REQ_add_extensions(req.get(), exts) == 1;
    sk_X509_EXTENSION_free(exts);  // the extension itself stays owned by `ext`
    if (!ok) return core::Error{core::Errc::crypto_error, "cannot add the subjectAltName: " + openssl_errors()};
  }
  if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0)
    return core::Error{core::Errc::crypto_error, "cannot sign the CSR: " + openssl_errors()};
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return core::Error{core::Errc::crypto_error, "cannot encode the CSR"};
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace cartorio::crypto
