#include "crypto/key_pair.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace cartorio::crypto {

using core::Errc;

std::string_view key_algorithm_name(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::rsa2048: return "rsa2048";
    case KeyAlgorithm::rsa3072: return "rsa3072";
    case KeyAlgorithm::rsa4096: return "rsa4096";
    case KeyAlgorithm::ec_p256: return "ec-p256";
    case KeyAlgorithm::ec_p384: return "ec-p384";
  }
  return "";
}

std::optional<KeyAlgorithm> parse_key_algorithm(std::string_view n) {
  for (auto a : {KeyAlgorithm::rsa2048, KeyAlgorithm::rsa3072, KeyAlgorithm::rsa4096,
                 KeyAlgorithm::ec_p256, KeyAlgorithm::ec_p384})
    if (key_algorithm_name(a) == n) return a;
  return std::nullopt;
}

bool is_rsa(KeyAlgorithm a) { return rsa_bits(a) != 0; }

unsigned rsa_bits(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::rsa2048: return 2048;
    case KeyAlgorithm::rsa3072: return 3072;
    case KeyAlgorithm::rsa4096: return 4096;
    default: return 0;
  }
}

std::string_view ec_curve_name(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::ec_p256: return "P-256";
    case KeyAlgorithm::ec_p384: return "P-384";
    default: return "";
  }
}

core::Result<PKey> generate_key(KeyAlgorithm a) {
  EVP_PKEY* raw = nullptr;
  if (is_rsa(a)) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits(a)));
  } else {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", std::string(ec_curve_name(a)).c_str());
  }
  PKey key(raw);
  if (!key) return {Errc::crypto_error, "key generation failed: " + openssl_errors()};
  return key;
}

KeyDescription describe_key(const EVP_PKEY* key) {
  KeyDescription d;
  if (!key) return d;
  d.bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_is_a(key, "RSA")) {
    d.type = KeyDescription::Type::rsa;
  } else if (EVP_PKEY_is_a(key, "EC")) {
    d.type = KeyDescription::Type::ec;
    char name[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) == 1) {
      std::string n(name, len);
      if (n == "prime256v1" || n == "P-256") d.curve = "P-256";
      else if (n == "secp384r1" || n == "P-384") d.curve = "P-384";
      else d.curve = n;
    }
  }
  return d;
}

std::optional<KeyAlgorithm> key_algorithm_of(const EVP_PKEY* key) {
  auto d = describe_key(key);
  if (d.type == KeyDescription::Type::rsa) {
    if (d.bits == 2048) return KeyAlgorithm::rsa2048;
    if (d.bits == 3072) return KeyAlgorithm::rsa3072;
    if (d.bits == 4096) return KeyAlgorithm::rsa4096;
  } else if (d.type == KeyDescription::Type::ec) {
    if (d.curve == "P-256") return KeyAlgorithm::ec_p256;
    if (d.curve == "P-384") return KeyAlgorithm::ec_p384;
  }
  return std::nullopt;
}

core::Result<SecretBytes> private_key_to_der(const EVP_PKEY* key) {
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> p8(EVP_PKEY2PKCS8(key),
                                                                             PKCS8_PRIV_KEY_INFO_free);
  unsigned char* buf = nullptr;
  int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &buf) : -1;
  if (len <= 0) return {Errc::crypto_error, "cannot encode private key: " + openssl_errors()};
  SecretBytes out(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(len)));
  OPENSSL_clear_free(buf, static_cast<std::size_t>(len));
  return out;
}

core::Result<PKey> private_key_from_der(ByteView der) {
  const unsigned char* p = der.data();
  PKey key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  if (!key) return {Errc::crypto_error, "cannot decode private key: " + openssl_errors()};
  return key;
}

core::Result<Bytes> public_key_to_der(const EVP_PKEY* key) {
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(key, &buf);
  if (len <= 0) return {Errc::crypto_error, "cannot encode public key: " + openssl_errors()};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

core::Result<PKey> public_key_from_der(ByteView der) {
  const unsigned char* p = der.data();
  PKey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) return {Errc::crypto_error, "cannot decode public key: " + openssl_errors()};
  return key;
}

core::Result<std::string> public_key_to_pem(const EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    return {Errc::crypto_error, "cannot write public key: " + openssl_errors()};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

core::Result<std::string> private_key_to_pem(const EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), const_cast<EVP_PKEY*>(key), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1)
    return {Errc::crypto_error, "cannot write private key: " + openssl_errors()};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return pem;
}

bool same_public_key(const EVP_PKEY* a, const EVP_PKEY* b) {
  return a && b && EVP_PKEY_eq(a, b) == 1;
}

const EVP_MD* signing_digest_for(const EVP_PKEY* key) {
  auto d = describe_key(key);
  if (d.type == KeyDescription::Type::ec && d.curve == "P-384") return EVP_sha384();
  return EVP_sha256();
}

core::Result<Bytes> sign_message(EVP_PKEY* key, ByteView data) {
  MdCtx ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, signing_digest_for(key), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1)
    return core::Error(core::Errc::crypto_error, "cannot start signing: " + openssl_errors());
  Bytes signature(len);
  if (EVP_DigestSign(ctx.get(), signature.data(), &len, data.data(), data.size()) != 1)
    return core::Error(core::Errc::crypto_error, "signing failed: " + openssl_errors());
  signature.resize(len);
  return signature;
}

bool verify_message(EVP_PKEY* public_key, ByteView data, ByteView signature) {
  MdCtx ctx(EVP_MD_CTX_new());
  const bool ok = ctx &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, signing_digest_for(public_key), nullptr, public_key) == 1 &&
                  EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) == 1;
  (void)openssl_errors();  // a refused signature leaves errors on the queue
  return ok;
}

namespace {
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
using EcdsaSig = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
}  // namespace

core::Result<Bytes> ecdsa_der_to_raw(ByteView der, std::size_t n) {
  const unsigned char* p = der.data();
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) return {Errc::crypto_error, "ECDSA signature: malformed DER"};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes out(2 * n);
  if (BN_bn2binpad(r, out.data(), static_cast<int>(n)) < 0 || BN_bn2binpad(s, out.data() + n, static_cast<int>(n)) < 0)
    return {Errc::crypto_error, "ECDSA signature: integer longer than the curve size"};
  return out;
}

core::Result<Bytes> ecdsa_raw_to_der(ByteView raw) {
  if (raw.empty() || raw.size() % 2 != 0) return {Errc::crypto_error, "ECDSA signature: odd raw length"};
  const std::size_t n = raw.size() / 2;
  Bignum r(BN_bin2bn(raw.data(), static_cast<int>(n), nullptr));
  Bignum s(BN_bin2bn(raw.data() + n, static_cast<int>(n), nullptr));
  EcdsaSig sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
    return {Errc::crypto_error, "ECDSA signature: cannot build"};
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* buf = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &buf);
  if (len <= 0) return {Errc::crypto_error, "ECDSA signature: cannot encode"};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

}  // namespace cartorio::crypto
