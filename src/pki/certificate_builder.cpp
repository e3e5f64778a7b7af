#include "pki/certificate_builder.h"

#include "crypto/key_pair.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

namespace cartorio::pki {

using core::Errc;

crypto::Asn1Integer random_serial() {
  crypto::Bytes b = crypto::random_bytes(16);
  b[0] &= 0x7f;  // positive
  b[0] |= 0x40;  // fixed length: never a short serial by chance
  crypto::Bignum bn(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr));
  return crypto::Asn1Integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
}

namespace {

core::Result<void> add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  crypto::X509Ext ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return {Errc::crypto_error, std::string("cannot add extension ") + OBJ_nid2sn(nid) + "=" + value + ": " +
                                    crypto::openssl_errors()};
  return core::ok();
}

core::Result<void> add_sans(X509* cert, const std::vector<SubjectAltName>& sans) {
  if (sans.empty()) return core::ok();
  crypto::GeneralNames names(sk_GENERAL_NAME_new_null());
  for (const auto& s : sans) {
    GENERAL_NAME* g = GENERAL_NAME_new();
    if (s.kind == SanKind::ip) {
      unsigned char buf[16];
      int len = 0;
      if (inet_pton(AF_INET, s.value.c_str(), buf) == 1) len = 4;
      else if (inet_pton(AF_INET6, s.value.c_str(), buf) == 1) len = 16;
      else {
        GENERAL_NAME_free(g);
        return {Errc::invalid_san, "not an IP address: \"" + s.value + "\""};
      }
      ASN1_OCTET_STRING* ip = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(ip, buf, len);
      GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
    } else {
      ASN1_IA5STRING* str = ASN1_IA5STRING_new();
      ASN1_STRING_set(str, s.value.data(), static_cast<int>(s.value.size()));
      int type = s.kind == SanKind::dns ? GEN_DNS : s.kind == SanKind::email ? GEN_EMAIL : GEN_URI;
      GENERAL_NAME_set0_value(g, type, str);
    }
    sk_GENERAL_NAME_push(names.get(), g);
  }
  // RFC 5280 4.2.1.6: critical when the subject is empty.
  const int critical = X509_NAME_entry_count(X509_get_subject_name(cert)) == 0 ? 1 : 0;
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical, X509V3_ADD_DEFAULT) != 1)
    return {Errc::crypto_error, "cannot add subjectAltName: " + crypto::openssl_errors()};
  return core::ok();
}

}  // namespace

core::Result<crypto::X509Ptr> build_certificate(const CertificateSpec& spec, const ASN1_INTEGER* serial,
                                                EVP_PKEY* signing_key) {
  crypto::X509Ptr cert(X509_new());
  crypto::Asn1Time nb(ASN1_TIME_new()), na(ASN1_TIME_new());
  if (!cert || !nb || !na) return {Errc::crypto_error, "out of memory"};
  ASN1_TIME_set(nb.get(), static_cast<time_t>(core::to_unix(spec.not_before)));
  ASN1_TIME_set(na.get(), static_cast<time_t>(core::to_unix(spec.not_after)));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(cert.get(), const_cast<ASN1_INTEGER*>(serial)) != 1 ||
      X509_set_subject_name(cert.get(), spec.subject) != 1 ||
      X509_set_issuer_name(cert.get(), spec.issuer ? X509_get_subject_name(spec.issuer) : spec.subject) != 1 ||
      X509_set1_notBefore(cert.get(), nb.get()) != 1 || X509_set1_notAfter(cert.get(), na.get()) != 1)
    return {Errc::crypto_error, "cannot assemble certificate: " + crypto::openssl_errors()};
  const bool copied = spec.public_key_info && crypto::copy_public_key_info(cert.get(), spec.public_key_info).has_value();
  if (!copied && X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(spec.public_key)) != 1)
    return {Errc::crypto_error, "cannot set the certificate's public key: " + crypto::openssl_errors()};

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, spec.issuer ? const_cast<X509*>(spec.issuer) : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : spec.extensions) CARTORIO_TRY_VOID(add_ext(cert.get(), &ctx, nid, value));
  CARTORIO_TRY_VOID(add_sans(cert.get(), spec.sans));
  CARTORIO_TRY_VOID(add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  // The AKI of a self-signed certificate is its own SKI, which must exist first.
  CARTORIO_TRY_VOID(add_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));

  if (X509_sign(cert.get(), signing_key, crypto::signing_digest_for(signing_key)) <= 0)
    return {Errc::key_backend, "signing the certificate failed: " + crypto::openssl_errors()};
  return cert;
}

}  // namespace cartorio::pki
