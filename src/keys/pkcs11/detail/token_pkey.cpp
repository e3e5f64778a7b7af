// The RSA_METHOD / EC_KEY_METHOD APIs are deprecated in OpenSSL 3 but remain the way to plug
// an external signer under an EVP_PKEY without writing a provider; they are confined to this
// file.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "keys/pkcs11/detail/token_pkey.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include <cstring>
#include <string>

namespace cartorio::keys::detail {

using core::Errc;

namespace {

// ex_data holds a Holder; shared so that a duplicated RSA/EC_KEY (EVP_PKEY_dup) keeps the
// context alive without a double free.
struct Holder {
  std::shared_ptr<TokenKey> key;
};

void free_holder(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/, void* /*argp*/) {
  std::unique_ptr<Holder> adopt(static_cast<Holder*>(ptr));  // frees it (nullptr is fine)
}

int dup_holder(CRYPTO_EX_DATA* /*to*/, const CRYPTO_EX_DATA* /*from*/, void** from_d, int /*idx*/,
               long /*argl*/, void* /*argp*/) {
  auto* from = static_cast<Holder*>(*from_d);
  if (from == nullptr) return 1;
  try {
    *from_d = std::make_unique<Holder>(*from).release();
    return 1;
  } catch (...) {
    *from_d = nullptr;
    return 0;
  }
}

int rsa_index() {
  static const int index = RSA_get_ex_new_index(0, nullptr, nullptr, dup_holder, free_holder);
  return index;
}

int ec_index() {
  static const int index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, dup_holder, free_holder);
  return index;
}

void raise_error(const char* what) { ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "PKCS#11: %s", what); }

// ---- RSA -------------------------------------------------------------------------------

int rsa_priv_enc(int flen, const unsigned char* from, unsigned char* to, RSA* rsa, int padding) noexcept {
  try {
    auto* holder = static_cast<Holder*>(RSA_get_ex_data(rsa, rsa_index()));
    if (holder == nullptr || !holder->key) {
      raise_error("RSA key has no token context");
      return -1;
    }
    CK_MECHANISM_TYPE mechanism = 0;
    if (padding == RSA_PKCS1_PADDING) mechanism = CKM_RSA_PKCS;       // input is the DigestInfo
    else if (padding == RSA_NO_PADDING) mechanism = CKM_RSA_X_509;   // PSS: padded by OpenSSL
    else {
      raise_error("unsupported RSA padding for a token key");
      return -1;
    }
    const auto size = static_cast<std::size_t>(RSA_size(rsa));
    TokenKey& key = *holder->key;
    std::lock_guard lock(key.mutex);
    auto sig = key.session.sign(key.handle, mechanism, crypto::ByteView(from, static_cast<std::size_t>(flen)), size);
    if (!sig) {
      raise_error(sig.error().message.c_str());
      return -1;
    }
    if (sig->size() > size) {
      raise_error("token returned an oversized RSA signature");
      return -1;
    }
    // Left-pad: the result is an integer as wide as the modulus.
    std::memset(to, 0, size - sig->size());
    std::memcpy(to + (size - sig->size()), sig->data(), sig->size());
    return static_cast<int>(size);
  } catch (...) {
    raise_error("internal error in RSA token signing");
    return -1;
  }
}

int rsa_priv_dec(int, const unsigned char*, unsigned char*, RSA*, int) noexcept {
  raise_error("decryption with a token key is not supported");
  return -1;
}

struct RsaMethodDeleter {
  void operator()(RSA_METHOD* m) const noexcept { RSA_meth_free(m); }
};
struct RsaDeleter {
  void operator()(RSA* r) const noexcept { RSA_free(r); }
};

const RSA_METHOD* token_rsa_method() {
  static const std::unique_ptr<RSA_METHOD, RsaMethodDeleter> method = [] {
    std::unique_ptr<RSA_METHOD, RsaMethodDeleter> m(RSA_meth_dup(RSA_PKCS1_OpenSSL()));
    if (m) {
      RSA_meth_set1_name(m.get(), "cartorio PKCS#11 RSA");
      RSA_meth_set_priv_enc(m.get(), rsa_priv_enc);
      RSA_meth_set_priv_dec(m.get(), rsa_priv_dec);
    }
    return m;
  }();
  return method.get();
}

core::Result<crypto::PKey> make_rsa(std::unique_ptr<Holder> holder, const EVP_PKEY* pub) {
  BIGNUM* n_raw = nullptr;
  BIGNUM* e_raw = nullptr;
  EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n_raw);
  crypto::Bignum n(n_raw);
  EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e_raw);
  crypto::Bignum e(e_raw);
  if (!n || !e) return {Errc::key_backend, "cannot read the RSA public key: " + crypto::openssl_errors()};

  const RSA_METHOD* method = token_rsa_method();
  std::unique_ptr<RSA, RsaDeleter> rsa(RSA_new());
  if (!method || !rsa || RSA_set_method(rsa.get(), method) != 1)
    return {Errc::key_backend, "cannot make an RSA key: " + crypto::openssl_errors()};
  if (RSA_set0_key(rsa.get(), n.get(), e.get(), nullptr) != 1)
    return {Errc::key_backend, "cannot set the RSA public key: " + crypto::openssl_errors()};
  // OpenSSL's set0/assign calls take ownership only when they succeed: released after.
  (void)n.release();  // owned by rsa now
  (void)e.release();
  if (RSA_set_ex_data(rsa.get(), rsa_index(), holder.get()) != 1)
    return {Errc::key_backend, "cannot attach the token context: " + crypto::openssl_errors()};
  (void)holder.release();  // owned by rsa now, freed by free_holder

  // Method set before the key is assigned: EVP_PKEY_assign marks it foreign (legacy path) then.
  crypto::PKey pkey(EVP_PKEY_new());
  if (!pkey || EVP_PKEY_assign_RSA(pkey.get(), rsa.get()) != 1)
    return {Errc::key_backend, "cannot wrap the RSA key: " + crypto::openssl_errors()};
  (void)rsa.release();  // owned by pkey now
  return pkey;
}

// ---- EC --------------------------------------------------------------------------------

struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
struct EcKeyDeleter {
  void operator()(EC_KEY* k) const noexcept { EC_KEY_free(k); }
};
struct EcMethodDeleter {
  void operator()(EC_KEY_METHOD* m) const noexcept { EC_KEY_METHOD_free(m); }
};

ECDSA_SIG* ec_sign_sig(const unsigned char* dgst, int dlen, const BIGNUM* /*kinv*/, const BIGNUM* /*r*/,
                       EC_KEY* ec) noexcept {
  try {
    auto* holder = static_cast<Holder*>(EC_KEY_get_ex_data(ec, ec_index()));
    if (holder == nullptr || !holder->key) {
      raise_error("EC key has no token context");
      return nullptr;
    }
    const EC_GROUP* group = EC_KEY_get0_group(ec);
    const auto half = static_cast<std::size_t>((EC_GROUP_order_bits(group) + 7) / 8);
    TokenKey& key = *holder->key;
    std::unique_lock lock(key.mutex);
    auto raw = key.session.sign(key.handle, CKM_ECDSA, crypto::ByteView(dgst, static_cast<std::size_t>(dlen)), 2 * half);
    lock.unlock();
    if (!raw) {
      raise_error(raw.error().message.c_str());
      return nullptr;
    }
    if (raw->size() != 2 * half) {  // PKCS#11 ECDSA output is r || s, each as wide as the order
      raise_error("token returned an ECDSA signature of unexpected length");
      return nullptr;
    }
    crypto::Bignum r(BN_bin2bn(raw->data(), static_cast<int>(half), nullptr));
    crypto::Bignum s(BN_bin2bn(raw->data() + half, static_cast<int>(half), nullptr));
    std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
      raise_error("cannot build ECDSA_SIG");
      return nullptr;
    }
    (void)r.release();  // owned by sig now
    (void)s.release();
    return sig.release();
  } catch (...) {
    raise_error("internal error in ECDSA token signing");
    return nullptr;
  }
}

int ec_sign(int /*type*/, const unsigned char* dgst, int dlen, unsigned char* out, unsigned int* outlen,
            const BIGNUM* kinv, const BIGNUM* r, EC_KEY* ec) noexcept {
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ec_sign_sig(dgst, dlen, kinv, r, ec));
  if (!sig) {
    *outlen = 0;
    return 0;
  }
  // `out` holds ECDSA_size(ec) bytes, the DER size bound OpenSSL sized it with.
  int len = i2d_ECDSA_SIG(sig.get(), &out);
  if (len <= 0) {
    *outlen = 0;
    return 0;
  }
  *outlen = static_cast<unsigned int>(len);
  return 1;
}

const EC_KEY_METHOD* token_ec_method() {
  static const std::unique_ptr<EC_KEY_METHOD, EcMethodDeleter> method = [] {
    std::unique_ptr<EC_KEY_METHOD, EcMethodDeleter> m(EC_KEY_METHOD_new(EC_KEY_OpenSSL()));
    if (m) EC_KEY_METHOD_set_sign(m.get(), ec_sign, nullptr, ec_sign_sig);
    return m;
  }();
  return method.get();
}

core::Result<crypto::PKey> make_ec(std::unique_ptr<Holder> holder, const EVP_PKEY* pub) {
  char group_name[80] = {0};
  std::size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group_name, sizeof group_name, &group_len) != 1)
    return {Errc::key_backend, "cannot read the EC group: " + crypto::openssl_errors()};
  int nid = OBJ_sn2nid(group_name);
  if (nid == NID_undef) nid = EC_curve_nist2nid(group_name);
  if (nid == NID_undef) return {Errc::unsupported_key_type, std::string("unsupported EC group ") + group_name};
  std::size_t point_len = 0;
  if (EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &point_len) != 1)
    return {Errc::key_backend, "cannot read the EC public point: " + crypto::openssl_errors()};
  crypto::Bytes point(point_len);
  if (EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &point_len) != 1)
    return {Errc::key_backend, "cannot read the EC public point: " + crypto::openssl_errors()};

  const EC_KEY_METHOD* method = token_ec_method();
  std::unique_ptr<EC_KEY, EcKeyDeleter> ec(EC_KEY_new_by_curve_name(nid));
  if (!method || !ec || EC_KEY_set_method(ec.get(), method) != 1 ||
      EC_KEY_oct2key(ec.get(), point.data(), point_len, nullptr) != 1)
    return {Errc::key_backend, "cannot make an EC key: " + crypto::openssl_errors()};
  if (EC_KEY_set_ex_data(ec.get(), ec_index(), holder.get()) != 1)
    return {Errc::key_backend, "cannot attach the token context: " + crypto::openssl_errors()};
  (void)holder.release();  // owned by ec now, freed by free_holder

  crypto::PKey pkey(EVP_PKEY_new());
  if (!pkey || EVP_PKEY_assign_EC_KEY(pkey.get(), ec.get()) != 1)
    return {Errc::key_backend, "cannot wrap the EC key: " + crypto::openssl_errors()};
  (void)ec.release();  // owned by pkey now
  return pkey;
}

}  // namespace

core::Result<crypto::PKey> make_token_pkey(std::unique_ptr<TokenKey> key, const EVP_PKEY* public_key) {
  if (!key || !public_key) return {Errc::invalid_argument, "make_token_pkey: missing key"};
  auto holder = std::make_unique<Holder>(Holder{std::shared_ptr<TokenKey>(std::move(key))});
  if (EVP_PKEY_is_a(public_key, "RSA")) return make_rsa(std::move(holder), public_key);
  if (EVP_PKEY_is_a(public_key, "EC")) return make_ec(std::move(holder), public_key);
  return {Errc::unsupported_key_type, "token keys must be RSA or EC"};
}

}  // namespace cartorio::keys::detail
