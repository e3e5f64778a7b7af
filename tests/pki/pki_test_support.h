// Keys and PKCS#10 requests built in-test with the OpenSSL API, for the pki/ and crl/ unit tests.
#pragma once

#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cartorio::pki::test {

// Keys are slow to make (RSA); each kind is generated once per process.
enum class TestKey { rsa1024, rsa2048, rsa2048_e3, rsa2048_other, p256, p256_other, p384, p521, ed25519 };

inline crypto::PKey generate_test_key(TestKey k) {
  switch (k) {
    case TestKey::rsa1024: return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
    case TestKey::rsa2048:
    case TestKey::rsa2048_other: return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    case TestKey::rsa2048_e3: {
      crypto::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
      crypto::Bignum e(BN_new());
      BN_set_word(e.get(), 3);
      EVP_PKEY* out = nullptr;
      if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) != 1 ||
          EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &out) != 1)
        return {};
      return crypto::PKey(out);
    }
    case TestKey::p256:
    case TestKey::p256_other: return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    case TestKey::p384: return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    case TestKey::p521: return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
    case TestKey::ed25519: return crypto::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  }
  return {};
}

inline EVP_PKEY* key(TestKey k) {
  static std::map<TestKey, crypto::PKey> cache;
  auto it = cache.find(k);
  if (it == cache.end()) it = cache.emplace(k, generate_test_key(k)).first;
  if (!it->second) ADD_FAILURE() << "test key generation failed: " << crypto::openssl_errors();
  return it->second.get();
}

// One GeneralName: type is GEN_DNS, GEN_EMAIL, GEN_URI (value is the string), GEN_IPADD (value is
// the raw address bytes) or GEN_RID (value is a dotted OID).
struct Gn {
  int type;
  std::string value;
};
inline Gn dns(std::string v) { return {GEN_DNS, std::move(v)}; }
inline Gn email(std::string v) { return {GEN_EMAIL, std::move(v)}; }
inline Gn uri(std::string v) { return {GEN_URI, std::move(v)}; }
inline Gn ip(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return {GEN_IPADD, std::string(reinterpret_cast<char*>(buf), 4)};
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return {GEN_IPADD, std::string(reinterpret_cast<char*>(buf), 16)};
  ADD_FAILURE() << "bad IP in test: " << text;
  return {GEN_IPADD, ""};
}
inline Gn raw_ip(std::string bytes) { return {GEN_IPADD, std::move(bytes)}; }
inline Gn rid(std::string oid) { return {GEN_RID, std::move(oid)}; }

inline GENERAL_NAMES* make_general_names(const std::vector<Gn>& names) {
  GENERAL_NAMES* gens = sk_GENERAL_NAME_new_null();
  for (const auto& n : names) {
    GENERAL_NAME* g = GENERAL_NAME_new();
    if (n.type == GEN_RID) {
      GENERAL_NAME_set0_value(g, GEN_RID, OBJ_txt2obj(n.value.c_str(), 1));
    } else if (n.type == GEN_IPADD) {
      ASN1_OCTET_STRING* o = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(o, reinterpret_cast<const unsigned char*>(n.value.data()), static_cast<int>(n.value.size()));
      GENERAL_NAME_set0_value(g, GEN_IPADD, o);
    } else {
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, n.value.data(), static_cast<int>(n.value.size()));
      GENERAL_NAME_set0_value(g, n.type, s);
    }
    sk_GENERAL_NAME_push(gens, g);
  }
  return gens;
}

struct CsrSpec {
  EVP_PKEY* key = nullptr;     // the public key in the request
  EVP_PKEY* signer = nullptr;  // signs the request; defaults to `key`
  std::vector<std::pair<std::string, std::string>> subject = {{"CN", "test.example.com"}};
  std::vector<Gn> sans;
  std::vector<std::vector<Gn>> extra_san_extensions;  // further subjectAltName extensions (malformed CSRs)
};

inline crypto::X509Req make_csr(const CsrSpec& spec) {
  crypto::X509Req req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  crypto::X509Name name(X509_NAME_new());
  for (const auto& [field, value] : spec.subject)
    EXPECT_EQ(X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(value.data()),
                                         static_cast<int>(value.size()), -1, 0),
              1)
        << field << "=" << value;
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), spec.key);
  if (!spec.sans.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    std::vector<std::vector<Gn>> all = {spec.sans};
    all.insert(all.end(), spec.extra_san_extensions.begin(), spec.extra_san_extensions.end());
    for (const auto& names : all) {
      GENERAL_NAMES* gens = make_general_names(names);
      X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
      GENERAL_NAMES_free(gens);
      sk_X509_EXTENSION_push(exts, ext);
    }
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  EVP_PKEY* signer = spec.signer ? spec.signer : spec.key;
  const EVP_MD* md = EVP_PKEY_is_a(signer, "ED25519") ? nullptr : EVP_sha256();
  EXPECT_GT(X509_REQ_sign(req.get(), signer, md), 0) << crypto::openssl_errors();
  return req;
}

inline crypto::Bytes to_der(const X509_REQ* req) {
  unsigned char* buf = nullptr;
  int len = i2d_X509_REQ(req, &buf);
  crypto::Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

inline std::string to_pem(X509_REQ* req) {
  crypto::Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(len)};
}

inline crypto::Bytes csr_der(const CsrSpec& spec) { return to_der(make_csr(spec).get()); }

// subjectAltName of a certificate as Gn values (IP as raw bytes), in order.
inline std::vector<Gn> sans_of(const X509* cert, int* critical = nullptr) {
  std::vector<Gn> out;
  int crit = -1;
  auto* gens = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr));
  if (critical) *critical = crit;
  if (!gens) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    const ASN1_STRING* s = nullptr;
    switch (g->type) {
      case GEN_DNS: s = g->d.dNSName; break;
      case GEN_EMAIL: s = g->d.rfc822Name; break;
      case GEN_URI: s = g->d.uniformResourceIdentifier; break;
      case GEN_IPADD: s = g->d.iPAddress; break;
      default: break;
    }
    out.push_back({g->type, s ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            static_cast<std::size_t>(ASN1_STRING_length(s)))
                              : std::string()});
  }
  GENERAL_NAMES_free(gens);
  return out;
}

inline bool operator==(const Gn& a, const Gn& b) { return a.type == b.type && a.value == b.value; }
inline std::ostream& operator<<(std::ostream& os, const Gn& g) { return os << g.type << ":" << g.value; }

}  // namespace cartorio::pki::test
