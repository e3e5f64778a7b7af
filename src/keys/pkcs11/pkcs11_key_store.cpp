#include "keys/pkcs11/pkcs11_key_store.h"

#include "crypto/primitives.h"
#include "keys/detail/key_label.h"
#include "keys/pkcs11/detail/pkcs11_module.h"
#include "keys/pkcs11/detail/pkcs11_session.h"
#include "keys/pkcs11/detail/pkcs11_uri.h"
#include "keys/pkcs11/detail/token_pkey.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <mutex>
#include <optional>

namespace cartorio::keys {

using core::Errc;
using detail::AttributeTemplate;
using detail::Pkcs11Module;
using detail::Pkcs11Session;

namespace {

constexpr std::size_t kIdBytes = 16;
// DER of the namedCurve OIDs, the CKA_EC_PARAMS of our curves.
const crypto::Bytes kP256Params{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};  // 1.2.840.10045.3.1.7
const crypto::Bytes kP384Params{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};                    // 1.3.132.0.34

class Pkcs11Signer final : public Signer {
 public:
  Pkcs11Signer(KeyRef ref, crypto::PKey key) : m_ref(std::move(ref)), m_key(std::move(key)) {}
  const KeyRef& ref() const override { return m_ref; }
  EVP_PKEY* pkey() const override { return m_key.get(); }

 private:
  KeyRef m_ref;
  crypto::PKey m_key;  // its token context (session, object handle) is freed with it
};

std::optional<crypto::KeyAlgorithm> rsa_algorithm(const crypto::Bytes& modulus) {
  std::size_t len = modulus.size();
  for (auto b : modulus) {
    if (b != 0) break;
    --len;
  }
  switch (len * 8) {
    case 2048: return crypto::KeyAlgorithm::rsa2048;
    case 3072: return crypto::KeyAlgorithm::rsa3072;
    case 4096: return crypto::KeyAlgorithm::rsa4096;
    default: return std::nullopt;
  }
}

std::optional<crypto::KeyAlgorithm> ec_algorithm(const crypto::Bytes& params) {
  if (params == kP256Params) return crypto::KeyAlgorithm::ec_p256;
  if (params == kP384Params) return crypto::KeyAlgorithm::ec_p384;
  return std::nullopt;
}

// CKA_EC_POINT is a DER OCTET STRING wrapping the point (PKCS#11 2.20+); some modules return
// the bare point. A bare uncompressed point is exactly 1 + 2 * field bytes, a wrapped one is
// longer, so the two cannot be confused.
crypto::Bytes unwrap_ec_point(const crypto::Bytes& attr, std::size_t field_bytes) {
  if (attr.size() == 1 + 2 * field_bytes && attr[0] == 0x04) return attr;
  const unsigned char* p = attr.data();
  crypto::Asn1OctetString os(d2i_ASN1_OCTET_STRING(nullptr, &p, static_cast<long>(attr.size())));
  if (!os || p != attr.data() + attr.size()) return attr;
  const unsigned char* data = ASN1_STRING_get0_data(os.get());
  return crypto::Bytes(data, data + ASN1_STRING_length(os.get()));
}

core::Result<crypto::PKey> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  crypto::Params params(OSSL_PARAM_BLD_to_param(bld));
  crypto::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return {Errc::key_backend, std::string("cannot build the ") + type + " public key: " + crypto::openssl_errors()};
  return crypto::PKey(raw);
}

}  // namespace

struct Pkcs11KeyStore::Impl {
  Impl(std::string token, crypto::SecretBytes user_pin, std::shared_ptr<Pkcs11Module> mod, CK_SLOT_ID slot_id,
       Pkcs11Session s)
      : token_label(std::move(token)), pin(std::move(user_pin)), module(std::move(mod)), slot(slot_id),
        session(std::move(s)) {}

  std::string token_label;
  crypto::SecretBytes pin;
  std::shared_ptr<Pkcs11Module> module;
  CK_SLOT_ID slot;
  std::mutex mutex;        // guards `session`: a session is not for concurrent use
  Pkcs11Session session;   // management calls: generate, find, read, destroy

  struct Found {
    CK_OBJECT_HANDLE handle;
    crypto::Bytes id;
  };

  std::string uri_for(const crypto::Bytes& id, std::string_view label) const {
    return detail::format_pkcs11_uri(token_label, id, label);
  }

  core::Result<std::vector<CK_OBJECT_HANDLE>> find(CK_OBJECT_CLASS cls, const crypto::Bytes* id,
                                                   const std::string* label) {
    AttributeTemplate t;
    t.add_ulong(CKA_CLASS, cls);
    if (id) t.add_bytes(CKA_ID, *id);
    if (label) t.add_string(CKA_LABEL, *label);
    return session.find_objects(t);
  }

  // The private key a ref names. Errc::key_not_found, Errc::key_backend.
  core::Result<Found> find_private(const KeyRef& ref) {
    auto uri = detail::parse_pkcs11_uri(ref.uri);
    if (!uri) return {Errc::key_not_found, "not a PKCS#11 key reference: '" + ref.uri + "'"};
    if (uri->token && *uri->token != token_label)
      return {Errc::key_not_found, "key reference names token '" + *uri->token + "', this store uses '" + token_label + "'"};
    if (!uri->id && !uri->object)
      return {Errc::key_not_found, "PKCS#11 key reference has neither id nor object: '" + ref.uri + "'"};
    CARTORIO_TRY(std::vector<CK_OBJECT_HANDLE> found,
                 find(CKO_PRIVATE_KEY, uri->id ? &*uri->id : nullptr, uri->object ? &*uri->object : nullptr));
    if (found.empty()) return {Errc::key_not_found, "no private key for " + ref.uri};
    if (found.size() > 1) return {Errc::key_backend, "more than one private key matches " + ref.uri};
    if (uri->id) return Found{found[0], *uri->id};
    CARTORIO_TRY(crypto::Bytes id, session.get_bytes(found[0], CKA_ID));
    return Found{found[0], std::move(id)};
  }

  core::Result<crypto::KeyAlgorithm> algorithm_of(CK_OBJECT_HANDLE key) {
    CARTORIO_TRY(CK_ULONG type, session.get_ulong(key, CKA_KEY_TYPE));
    std::optional<crypto::KeyAlgorithm> alg;
    if (type == CKK_RSA) {
      CARTORIO_TRY(crypto::Bytes modulus, session.get_bytes(key, CKA_MODULUS));
      alg = rsa_algorithm(modulus);
    } else if (type == CKK_EC) {
      CARTORIO_TRY(crypto::Bytes params, session.get_bytes(key, CKA_EC_PARAMS));
      alg = ec_algorithm(params);
    }
    if (!alg) return {Errc::unsupported_key_type, "token key is not RSA 2048/3072/4096 or EC P-256/P-384"};
    return *alg;
  }

  core::Result<KeyInfo> info_of(CK_OBJECT_HANDLE key) {
    CARTORIO_TRY(crypto::Bytes id, session.get_bytes(key, CKA_ID));
    if (id.empty()) return {Errc::unsupported_key_type, "token key has no CKA_ID, so no KeyRef can name it"};
    CARTORIO_TRY(crypto::Bytes label_bytes, session.get_bytes(key, CKA_LABEL));
    CARTORIO_TRY(crypto::KeyAlgorithm alg, algorithm_of(key));
    std::string label = crypto::to_string(label_bytes);
    return KeyInfo{KeyRef{uri_for(id, label)}, label, alg, "pkcs11"};
  }

  // The public key of the pair with CKA_ID `id`, as a provider EVP_PKEY.
  core::Result<crypto::PKey> public_key_of(const crypto::Bytes& id) {
    CARTORIO_TRY(std::vector<CK_OBJECT_HANDLE> pubs, find(CKO_PUBLIC_KEY, &id, nullptr));
    if (pubs.empty()) return {Errc::key_backend, "the token holds no public key object for this key"};
    const CK_OBJECT_HANDLE pub = pubs[0];
    CARTORIO_TRY(CK_ULONG type, session.get_ulong(pub, CKA_KEY_TYPE));
    crypto::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld) return {Errc::key_backend, "out of memory"};
    if (type == CKK_RSA) {
      CARTORIO_TRY(crypto::Bytes n_bytes, session.get_bytes(pub, CKA_MODULUS));
      CARTORIO_TRY(crypto::Bytes e_bytes, session.get_bytes(pub, CKA_PUBLIC_EXPONENT));
      crypto::Bignum n(BN_bin2bn(n_bytes.data(), static_cast<int>(n_bytes.size()), nullptr));
      crypto::Bignum e(BN_bin2bn(e_bytes.data(), static_cast<int>(e_bytes.size()), nullptr));
      if (!n || !e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
        return {Errc::key_backend, "cannot read the RSA public key: " + crypto::openssl_errors()};
      return pkey_from_params("RSA", bld.get());  // copies the BIGNUMs before they are freed
    }
    if (type == CKK_EC) {
      CARTORIO_TRY(crypto::Bytes params, session.get_bytes(pub, CKA_EC_PARAMS));
      CARTORIO_TRY(crypto::Bytes point_attr, session.get_bytes(pub, CKA_EC_POINT));
      auto alg = ec_algorithm(params);
      if (!alg) return {Errc::unsupported_key_type, "token EC key is not on P-256 or P-384"};
      const bool p256 = *alg == crypto::KeyAlgorithm::ec_p256;
      crypto::Bytes point = unwrap_ec_point(point_attr, p256 ? 32 : 48);
      if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, p256 ? "prime256v1" : "secp384r1", 0) != 1 ||
          OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
        return {Errc::key_backend, "cannot read the EC public key: " + crypto::openssl_errors()};
      return pkey_from_params("EC", bld.get());
    }
    return {Errc::unsupported_key_type, "token keys must be RSA or EC"};
  }

  core::Result<bool> label_taken(const std::string& label) {
    for (CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
      CARTORIO_TRY(std::vector<CK_OBJECT_HANDLE> found, find(cls, nullptr, &label));
      if (!found.empty()) return true;
    }
    return false;
  }
};

Pkcs11KeyStore::Pkcs11KeyStore(Passkey, std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Pkcs11KeyStore::~Pkcs11KeyStore() = default;

core::Result<std::unique_ptr<Pkcs11KeyStore>> Pkcs11KeyStore::open(Pkcs11KeyStoreOptions options) {
  if (options.module_path.empty()) return {Errc::config_invalid, "PKCS#11 key store: module path is not set"};
  if (options.token_label.empty()) return {Errc::config_invalid, "PKCS#11 key store: token label is not set"};
  if (options.pin.empty()) return {Errc::config_invalid, "PKCS#11 key store: user PIN is not set"};
  CARTORIO_TRY(std::shared_ptr<Pkcs11Module> module, Pkcs11Module::acquire(options.module_path));
  CARTORIO_TRY(CK_SLOT_ID slot, module->find_token(options.token_label));
  CARTORIO_TRY(Pkcs11Session session, Pkcs11Session::open(module, slot));
  CARTORIO_TRY_VOID(session.login(options.pin));
  auto impl = std::make_unique<Impl>(std::move(options.token_label), std::move(options.pin), std::move(module), slot,
                                     std::move(session));
  return std::make_unique<Pkcs11KeyStore>(Passkey{}, std::move(impl));
}

Capabilities Pkcs11KeyStore::capabilities() const {
  return Capabilities{.hardware_backed = true, .exportable = false, .deletes_keys = true};
}

core::Result<KeyInfo> Pkcs11KeyStore::create_key(const CreateKeyRequest& req) {
  CARTORIO_TRY_VOID(detail::validate_key_label(req.label));
  Impl& m = *m_impl;
  std::lock_guard guard(m.mutex);
  CARTORIO_TRY(bool taken, m.label_taken(req.label));
  if (taken) return {Errc::already_exists, "a key labelled '" + req.label + "' already exists on token '" + m.token_label + "'"};

  const crypto::Bytes id = crypto::random_bytes(kIdBytes);
  const CK_KEY_TYPE key_type = crypto::is_rsa(req.algorithm) ? CKK_RSA : CKK_EC;
  AttributeTemplate pub;
  pub.add_ulong(CKA_CLASS, CKO_PUBLIC_KEY)
      .add_ulong(CKA_KEY_TYPE, key_type)
      .add_bool(CKA_TOKEN, true)
      .add_bool(CKA_PRIVATE, false)
      .add_bool(CKA_VERIFY, true)
      .add_bytes(CKA_ID, id)
      .add_string(CKA_LABEL, req.label);
  AttributeTemplate priv;
  priv.add_ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .add_ulong(CKA_KEY_TYPE, key_type)
      .add_bool(CKA_TOKEN, true)
      .add_bool(CKA_PRIVATE, true)
      .add_bool(CKA_SENSITIVE, true)
      .add_bool(CKA_EXTRACTABLE, false)
      .add_bool(CKA_SIGN, true)
      .add_bool(CKA_DECRYPT, false)
      .add_bytes(CKA_ID, id)
      .add_string(CKA_LABEL, req.label);
  CK_MECHANISM mech{};
  if (key_type == CKK_RSA) {
    mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
    pub.add_ulong(CKA_MODULUS_BITS, crypto::rsa_bits(req.algorithm));
    pub.add_bytes(CKA_PUBLIC_EXPONENT, crypto::Bytes{0x01, 0x00, 0x01});  // 65537
  } else {
    mech.mechanism = CKM_EC_KEY_PAIR_GEN;
    pub.add_bytes(CKA_EC_PARAMS, req.algorithm == crypto::KeyAlgorithm::ec_p384 ? kP384Params : kP256Params);
  }
  CK_OBJECT_HANDLE pub_handle = CK_INVALID_HANDLE, priv_handle = CK_INVALID_HANDLE;
  CK_RV rv = m.session.fn()->C_GenerateKeyPair(m.session.handle(), &mech, pub.data(), pub.size(), priv.data(),
                                               priv.size(), &pub_handle, &priv_handle);
  if (rv != CKR_OK) return detail::ck_error(Errc::key_backend, "C_GenerateKeyPair", rv);
  return KeyInfo{KeyRef{m.uri_for(id, req.label)}, req.label, req.algorithm, "pkcs11"};
}

core::Result<crypto::PKey> Pkcs11KeyStore::public_key(const KeyRef& ref) {
  Impl& m = *m_impl;
  std::lock_guard guard(m.mutex);
  CARTORIO_TRY(Impl::Found key, m.find_private(ref));
  return m.public_key_of(key.id);
}

core::Result<std::unique_ptr<Signer>> Pkcs11KeyStore::signer(const KeyRef& ref, const KeyUse& /*use*/) {
  Impl& m = *m_impl;
  std::unique_lock guard(m.mutex);
  CARTORIO_TRY(Impl::Found key, m.find_private(ref));
  CARTORIO_TRY(crypto::PKey pub, m.public_key_of(key.id));
  CARTORIO_TRY(Pkcs11Session session, Pkcs11Session::open(m.module, m.slot));
  CARTORIO_TRY_VOID(session.login(m.pin));  // counted: normally no C_Login call, just a count
  CARTORIO_TRY(crypto::Bytes label, m.session.get_bytes(key.handle, CKA_LABEL));
  guard.unlock();
  KeyRef canonical{m.uri_for(key.id, crypto::to_string(label))};
  // Object handles of token objects are valid in every session of the application.
  auto token_key = std::make_unique<detail::TokenKey>(std::move(session), key.handle);
  CARTORIO_TRY(crypto::PKey pkey, detail::make_token_pkey(std::move(token_key), pub.get()));
  return std::unique_ptr<Signer>(std::make_unique<Pkcs11Signer>(std::move(canonical), std::move(pkey)));
}

core::Result<std::vector<KeyInfo>> Pkcs11KeyStore::list_keys() {
  Impl& m = *m_impl;
  std::lock_guard guard(m.mutex);
  CARTORIO_TRY(std::vector<CK_OBJECT_HANDLE> keys, m.find(CKO_PRIVATE_KEY, nullptr, nullptr));
  std::vector<KeyInfo> out;
  for (CK_OBJECT_HANDLE key : keys) {
    auto info = m.info_of(key);
    if (!info) {
      // Keys of other algorithms, or without a CKA_ID, are not ours to list; real failures are.
      if (info.error().code == Errc::unsupported_key_type) continue;
      return std::move(info).error();
    }
    out.push_back(std::move(info).value());
  }
  return out;
}

core::Result<void> Pkcs11KeyStore::destroy_key(const KeyRef& ref) {
  Impl& m = *m_impl;
  std::lock_guard guard(m.mutex);
  CARTORIO_TRY(Impl::Found key, m.find_private(ref));
  CARTORIO_TRY(std::vector<CK_OBJECT_HANDLE> pubs, m.find(CKO_PUBLIC_KEY, &key.id, nullptr));
  // Private half first: once it is gone the key cannot sign, whatever happens next.
  if (CK_RV rv = m.session.fn()->C_DestroyObject(m.session.handle(), key.handle); rv != CKR_OK)
    return detail::ck_error(Errc::key_backend, "C_DestroyObject", rv);
  for (CK_OBJECT_HANDLE pub : pubs) {
    if (CK_RV rv = m.session.fn()->C_DestroyObject(m.session.handle(), pub); rv != CKR_OK)
      return detail::ck_error(Errc::key_backend, "C_DestroyObject (public key)", rv);
  }
  return core::ok();
}

core::Result<void> Pkcs11KeyStore::check() {
  Impl& m = *m_impl;
  std::lock_guard guard(m.mutex);
  CK_TOKEN_INFO token{};
  if (CK_RV rv = m.session.fn()->C_GetTokenInfo(m.slot, &token); rv != CKR_OK)
    return detail::ck_error(Errc::key_backend, "C_GetTokenInfo", rv);
  CK_SESSION_INFO info{};
  if (CK_RV rv = m.session.fn()->C_GetSessionInfo(m.session.handle(), &info); rv != CKR_OK)
    return detail::ck_error(Errc::key_backend, "C_GetSessionInfo", rv);
  if (info.state != CKS_RW_USER_FUNCTIONS)
    return {Errc::key_backend, "PKCS#11 session on token '" + m.token_label + "' is not logged in"};
  return core::ok();
}

}  // namespace cartorio::keys
