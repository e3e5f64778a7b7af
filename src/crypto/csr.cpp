// parse_csr: PKCS#10 requests without OpenSSL 3.0's provider decoder for the public key.
//
// d2i_X509_REQ decodes the SubjectPublicKeyInfo through OSSL_DECODER_CTX_new_for_pkey, which
// builds a decoder chain by walking every provider's decoders on each call: ~0.2 ms, more than
// the CA's RSA-2048 signature of the certificate it leads to. Here the request is read with an
// ASN.1 template that keeps the SubjectPublicKeyInfo as its algorithm and bits, the key is
// imported from those with EVP_PKEY_fromdata, and an X509_REQ is assembled from the parts.
// That path is taken only when the result is beyond doubt the one OpenSSL would read: the
// assembled request encodes back to exactly the input's bytes, and the key is in the one form
// X509_set_pubkey writes (canonical_spki). Anything else — BER, trailing bytes, other key
// types, a point off its curve, any failure — goes through d2i_X509_REQ as before, so what is
// accepted, and every error, is OpenSSL's.
#include "crypto/x509.h"

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace cartorio::crypto {

using core::Errc;

namespace {

// CertificationRequest (RFC 2986) as OpenSSL's X509_REQ template has it, except the key.
struct CsrSpki {
  X509_ALGOR* algorithm;
  ASN1_BIT_STRING* public_key;
};
struct CsrInfo {
  ASN1_INTEGER* version;
  X509_NAME* subject;
  CsrSpki* spki;
  STACK_OF(X509_ATTRIBUTE) * attributes;
};
struct CsrOuter {
  CsrInfo* info;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
};

// NOLINTBEGIN: OpenSSL's template macros (static tables, offsetof, C casts).
ASN1_SEQUENCE(CsrSpki) = {
    ASN1_SIMPLE(CsrSpki, algorithm, X509_ALGOR),
    ASN1_SIMPLE(CsrSpki, public_key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(CsrSpki)

ASN1_SEQUENCE(CsrInfo) = {
    ASN1_SIMPLE(CsrInfo, version, ASN1_INTEGER),
    ASN1_SIMPLE(CsrInfo, subject, X509_NAME),
    ASN1_SIMPLE(CsrInfo, spki, CsrSpki),
    // OPTIONAL as in OpenSSL's template (it is not, but some requests omit it).
    ASN1_IMP_SET_OF_OPT(CsrInfo, attributes, X509_ATTRIBUTE, 0),
} ASN1_SEQUENCE_END(CsrInfo)

ASN1_SEQUENCE(CsrOuter) = {
    ASN1_SIMPLE(CsrOuter, info, CsrInfo),
    ASN1_SIMPLE(CsrOuter, signature_algorithm, X509_ALGOR),
    ASN1_SIMPLE(CsrOuter, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(CsrOuter)
// NOLINTEND

struct CsrOuterFree {
  void operator()(CsrOuter* p) const { ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(p), ASN1_ITEM_rptr(CsrOuter)); }
};
using CsrOuterPtr = std::unique_ptr<CsrOuter, CsrOuterFree>;

core::Error not_a_request() {
  std::string why = openssl_errors();
  return {Errc::malformed_csr, "CSR: not a valid PKCS#10 request in PEM or DER" + (why.empty() ? "" : " (" + why + ")")};
}

Bignum integer_to_bn(const ASN1_TYPE* t) {
  if (ASN1_TYPE_get(t) != V_ASN1_INTEGER) return nullptr;
  return Bignum(ASN1_INTEGER_to_BN(t->value.integer, nullptr));
}

// The key, imported from its parameters: no decoder. nullptr when OpenSSL refuses them (the
// EC import checks that the point is on the curve).
PKey import_key(CanonicalSpki form, const unsigned char* bits, int len) {
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  const char* type = "EC";
  Bignum n, e;  // pushed by reference: must outlive the parameters
  if (form == CanonicalSpki::rsa) {
    type = "RSA";
    const unsigned char* p = bits;
    std::unique_ptr<ASN1_SEQUENCE_ANY, decltype([](ASN1_SEQUENCE_ANY* s) { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); })>
        seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, len));
    if (!seq || sk_ASN1_TYPE_num(seq.get()) != 2) return nullptr;
    n = integer_to_bn(sk_ASN1_TYPE_value(seq.get(), 0));
    e = integer_to_bn(sk_ASN1_TYPE_value(seq.get(), 1));
    if (!n || !e || BN_is_negative(n.get()) || BN_is_negative(e.get()) || BN_is_zero(n.get()) || BN_is_zero(e.get()) ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
      return nullptr;
  } else {
    const char* curve = form == CanonicalSpki::ec_p256 ? "P-256" : "P-384";
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, bits, static_cast<std::size_t>(len)) != 1)
      return nullptr;
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return PKey(key);
}

// The fast path; nullopt sends the input to d2i_X509_REQ.
std::optional<Csr> read_without_decoder(ByteView der) {
  const unsigned char* p = der.data();
  CsrOuterPtr outer(reinterpret_cast<CsrOuter*>(
      ASN1_item_d2i(nullptr, &p, static_cast<long>(der.size()), ASN1_ITEM_rptr(CsrOuter))));
  if (!outer || p != der.data() + der.size()) return std::nullopt;
  const CsrInfo& info = *outer->info;
  const unsigned char* bits = ASN1_STRING_get0_data(info.spki->public_key);
  const int bits_len = ASN1_STRING_length(info.spki->public_key);
  const CanonicalSpki form = canonical_spki(info.spki->algorithm, bits, bits_len);
  if (form == CanonicalSpki::none) return std::nullopt;
  PKey key = import_key(form, bits, bits_len);
  if (!key) return std::nullopt;

  X509Req req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), ASN1_INTEGER_get(info.version)) != 1 ||
      X509_REQ_set_subject_name(req.get(), info.subject) != 1 ||
      !copy_spki(X509_REQ_get_X509_PUBKEY(req.get()), info.spki->algorithm, bits, bits_len))
    return std::nullopt;
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(info.attributes); ++i)
    if (X509_REQ_add1_attr(req.get(), sk_X509_ATTRIBUTE_value(info.attributes, i)) != 1) return std::nullopt;
  if (X509_REQ_set1_signature_algo(req.get(), outer->signature_algorithm) != 1) return std::nullopt;
  X509_REQ_set0_signature(req.get(), outer->signature);
  outer->signature = nullptr;  // now the request's

  // The proof that this is the request d2i_X509_REQ would have read: the same bytes.
  unsigned char* again = nullptr;
  const int again_len = i2d_X509_REQ(req.get(), &again);
  const bool same = again_len == static_cast<int>(der.size()) &&
                    std::memcmp(again, der.data(), der.size()) == 0;
  OPENSSL_free(again);
  if (!same) return std::nullopt;
  return Csr{std::move(req), std::move(key)};
}

// What parse_csr did before the fast path, and still does for what that path leaves. A key
// that cannot be decoded leaves public_key empty (and OpenSSL's reason queued) for
// validate_csr to report.
core::Result<Csr> read_with_openssl(ByteView der, bool allow_trailing_bytes) {
  const unsigned char* p = der.data();
  X509Req req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return not_a_request();
  if (!allow_trailing_bytes && p != der.data() + der.size())
    return {Errc::malformed_csr, "CSR: trailing bytes after the DER structure at offset " + std::to_string(p - der.data())};
  PKey key;
  if (EVP_PKEY* k = X509_REQ_get0_pubkey(req.get()); k && EVP_PKEY_up_ref(k) == 1) key.reset(k);
  return Csr{std::move(req), std::move(key)};
}

// The DER inside the first "CERTIFICATE REQUEST" (or "NEW CERTIFICATE REQUEST") block, as
// PEM_read_bio_X509_REQ reads it.
core::Result<Bytes> pem_body(ByteView in) {
  Bio bio(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
  unsigned char* data = nullptr;
  long len = 0;
  char* name = nullptr;
  const bool read = bio && PEM_bytes_read_bio(&data, &len, &name, PEM_STRING_X509_REQ, bio.get(), nullptr, nullptr) == 1;
  OPENSSL_free(name);
  if (!read) return not_a_request();
  Bytes der(data, data + len);
  OPENSSL_free(data);
  return der;
}

}  // namespace

core::Result<Csr> parse_csr(ByteView in) {
  if (in.empty()) return {Errc::malformed_csr, "CSR: empty input"};
  const bool pem = looks_like_pem(in);
  Bytes from_pem;
  if (pem) {
    CARTORIO_TRY(auto body, pem_body(in));
    from_pem = std::move(body);
  }
  const ByteView der = pem ? ByteView(from_pem) : in;
  // What the fast path queues (its refusals) is dropped; the caller's errors stay.
  ERR_set_mark();
  if (auto fast = read_without_decoder(der)) {
    ERR_pop_to_mark();
    return std::move(*fast);
  }
  ERR_pop_to_mark();
  // OpenSSL's PEM reader ignores bytes after the request inside the block; raw DER may not have any.
  return read_with_openssl(der, /*allow_trailing_bytes=*/pem);
}

}  // namespace cartorio::crypto
