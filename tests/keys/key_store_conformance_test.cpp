// One behaviour suite, every KeyStore backend: the software store (sealed files) and the
// PKCS#11 store on a fresh SoftHSM2 token.
#include "keys/key_store.h"

#include "crypto/key_pair.h"
#include "keys/pkcs11/pkcs11_key_store.h"
#include "keys/software/software_key_store.h"
#include "signing_checks.h"
#include "softhsm_token.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace cartorio::keys {
namespace {

using core::Errc;
using crypto::KeyAlgorithm;
using testing::RsaPadding;

// ---- backends --------------------------------------------------------------------------

class SoftwareBackend {
 public:
  static constexpr bool kHardware = false;
  SoftwareBackend() { m_ready = create_master_key_file(m_dir / "master.key").has_value(); }
  std::string setup_error() const { return m_ready ? "" : "cannot create master key file"; }
  core::Result<std::unique_ptr<KeyStore>> open() {
    SoftwareKeyStoreOptions o;
    o.directory = m_dir / "keys";
    o.master_key_file = m_dir / "master.key";
    CARTORIO_TRY(auto store, SoftwareKeyStore::open(std::move(o)));
    return std::unique_ptr<KeyStore>(std::move(store));
  }
  KeyRef unknown_ref() const { return KeyRef{"soft:00112233445566778899aabbccddeeff"}; }

 private:
  cartorio::testing::TempDir m_dir;
  bool m_ready = false;
};

class SoftHsmBackend {
 public:
  static constexpr bool kHardware = true;
  std::string setup_error() const { return m_token.error(); }
  core::Result<std::unique_ptr<KeyStore>> open() {
    CARTORIO_TRY(auto store, Pkcs11KeyStore::open(m_token.options()));
    return std::unique_ptr<KeyStore>(std::move(store));
  }
  KeyRef unknown_ref() const { return KeyRef{"pkcs11:token=" + m_token.label() + ";id=%de%ad%be%ef;object=nobody"}; }

 private:
  testing::SoftHsmToken m_token;
};

template <class Backend>
class KeyStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(m_backend.setup_error(), "");
    auto s = m_backend.open();
    ASSERT_TRUE(s) << s.error().to_string();
    m_store = std::move(s).value();
  }

  KeyInfo create(const std::string& label, KeyAlgorithm alg) {
    auto info = m_store->create_key(CreateKeyRequest{label, alg});
    EXPECT_TRUE(info) << info.error().to_string();
    return info ? *info : KeyInfo{};
  }

  std::unique_ptr<Signer> signer_for(KeyStore& store, const KeyRef& ref) {
    auto s = store.signer(ref, KeyUse{"test", "test:conformance", ""});
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(s).value() : nullptr;
  }

  // Signs with EVP_DigestSign through the signer and verifies with the public key alone.
  void expect_digest_sign_verifies(KeyStore& store, const KeyRef& ref, RsaPadding padding = RsaPadding::pkcs1) {
    auto pub = store.public_key(ref);
    ASSERT_TRUE(pub) << pub.error().to_string();
    auto signer = signer_for(store, ref);
    ASSERT_NE(signer, nullptr);
    const std::string msg = "documento de teste " + ref.uri;
    std::string why;
    auto sig = testing::digest_sign(signer->pkey(), crypto::as_bytes(msg), padding, why);
    ASSERT_TRUE(sig) << why;
    EXPECT_TRUE(testing::digest_verify(pub->get(), crypto::as_bytes(msg), *sig, padding));
    EXPECT_FALSE(testing::digest_verify(pub->get(), crypto::as_bytes(msg + "!"), *sig, padding));
  }

  void expect_certificate_and_crl_verify(const KeyRef& ref) {
    auto pub = m_store->public_key(ref);
    ASSERT_TRUE(pub) << pub.error().to_string();
    auto signer = signer_for(*m_store, ref);
    ASSERT_NE(signer, nullptr);
    std::string why;
    crypto::X509Ptr cert = testing::self_signed_certificate(pub->get(), signer->pkey(), why);
    ASSERT_TRUE(cert) << why;
    EXPECT_EQ(X509_verify(cert.get(), pub->get()), 1);
    crypto::X509Crl crl = testing::signed_crl(cert.get(), signer->pkey(), why);
    ASSERT_TRUE(crl) << why;
    EXPECT_EQ(X509_CRL_verify(crl.get(), pub->get()), 1);
    EXPECT_EQ(testing::cms_sign_and_verify(cert.get(), signer->pkey(), crypto::as_bytes("%PDF-1.7 bytes")), "");
    EXPECT_EQ(testing::ocsp_sign_and_verify(cert.get(), signer->pkey()), "");
  }

  Backend m_backend;  // declared first: outlives the store (token dir, key dir)
  std::unique_ptr<KeyStore> m_store;
};

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, SoftwareBackend> ? "Software" : "SoftHsm";
  }
};

using Backends = ::testing::Types<SoftwareBackend, SoftHsmBackend>;
TYPED_TEST_SUITE(KeyStoreConformance, Backends, BackendNames);

// ---- behaviour -------------------------------------------------------------------------

TYPED_TEST(KeyStoreConformance, ReportsBackendAndCapabilities) {
  EXPECT_EQ(this->m_store->capabilities().hardware_backed, TypeParam::kHardware);
  EXPECT_FALSE(this->m_store->capabilities().exportable);
  EXPECT_TRUE(this->m_store->capabilities().deletes_keys);
  EXPECT_EQ(this->m_store->backend_name(), TypeParam::kHardware ? "pkcs11" : "software");
  auto ok = this->m_store->check();
  EXPECT_TRUE(ok) << ok.error().to_string();
}

TYPED_TEST(KeyStoreConformance, CreatesEachAlgorithm_PublicKeyMatchesSigner) {
  for (KeyAlgorithm alg : {KeyAlgorithm::rsa2048, KeyAlgorithm::ec_p256, KeyAlgorithm::ec_p384}) {
    const std::string label = "key-" + std::string(crypto::key_algorithm_name(alg));
    SCOPED_TRACE(label);
    KeyInfo info = this->create(label, alg);
    EXPECT_EQ(info.label, label);
    EXPECT_EQ(info.algorithm, alg);
    EXPECT_EQ(info.backend, this->m_store->backend_name());
    auto pub = this->m_store->public_key(info.ref);
    ASSERT_TRUE(pub) << pub.error().to_string();
    EXPECT_EQ(crypto::key_algorithm_of(pub->get()), alg);
    auto signer = this->signer_for(*this->m_store, info.ref);
    ASSERT_NE(signer, nullptr);
    EXPECT_EQ(signer->ref(), info.ref);
    EXPECT_EQ(testing::public_der_hex(signer->pkey()), testing::public_der_hex(pub->get()));
    EXPECT_TRUE(crypto::same_public_key(pub->get(), signer->pkey()));
    EXPECT_EQ(crypto::key_algorithm_of(signer->pkey()), alg);
  }
}

TYPED_TEST(KeyStoreConformance, DigestSign_VerifiesWithPublicKey_Rsa) {
  KeyInfo info = this->create("rsa-sign", KeyAlgorithm::rsa2048);
  this->expect_digest_sign_verifies(*this->m_store, info.ref, RsaPadding::pkcs1);
  this->expect_digest_sign_verifies(*this->m_store, info.ref, RsaPadding::pss);
}

TYPED_TEST(KeyStoreConformance, DigestSign_VerifiesWithPublicKey_Ec) {
  KeyInfo p256 = this->create("ec256-sign", KeyAlgorithm::ec_p256);
  KeyInfo p384 = this->create("ec384-sign", KeyAlgorithm::ec_p384);
  this->expect_digest_sign_verifies(*this->m_store, p256.ref);
  this->expect_digest_sign_verifies(*this->m_store, p384.ref);
}

TYPED_TEST(KeyStoreConformance, CertificateCrlCmsOcsp_VerifyWithPublicKey_Rsa2048) {
  KeyInfo info = this->create("ca-rsa", KeyAlgorithm::rsa2048);
  this->expect_certificate_and_crl_verify(info.ref);
}

TYPED_TEST(KeyStoreConformance, CertificateCrlCmsOcsp_VerifyWithPublicKey_EcP256) {
  KeyInfo info = this->create("ca-ec256", KeyAlgorithm::ec_p256);
  this->expect_certificate_and_crl_verify(info.ref);
}

TYPED_TEST(KeyStoreConformance, CertificateCrlCmsOcsp_VerifyWithPublicKey_EcP384) {
  KeyInfo info = this->create("ca-ec384", KeyAlgorithm::ec_p384);
  this->expect_certificate_and_crl_verify(info.ref);
}

TYPED_TEST(KeyStoreConformance, Rsa4096_SignsCertificate) {  // the root's algorithm; slow on SoftHSM
  KeyInfo info = this->create("root-2026", KeyAlgorithm::rsa4096);
  EXPECT_EQ(info.algorithm, KeyAlgorithm::rsa4096);
  auto pub = this->m_store->public_key(info.ref);
  ASSERT_TRUE(pub) << pub.error().to_string();
  EXPECT_EQ(crypto::key_algorithm_of(pub->get()), KeyAlgorithm::rsa4096);
  auto signer = this->signer_for(*this->m_store, info.ref);
  ASSERT_NE(signer, nullptr);
  std::string why;
  crypto::X509Ptr cert = testing::self_signed_certificate(pub->get(), signer->pkey(), why);
  ASSERT_TRUE(cert) << why;
  EXPECT_EQ(X509_verify(cert.get(), pub->get()), 1);
}

TYPED_TEST(KeyStoreConformance, ListKeys_ShowsLabelsAndAlgorithms) {
  auto empty = this->m_store->list_keys();
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_TRUE(empty->empty());
  KeyInfo a = this->create("tls-ca-2026", KeyAlgorithm::ec_p256);
  KeyInfo b = this->create("document-ca-2026", KeyAlgorithm::rsa2048);
  KeyInfo c = this->create("ocsp responder #1", KeyAlgorithm::ec_p384);  // spaces and '#' survive URIs
  auto keys = this->m_store->list_keys();
  ASSERT_TRUE(keys) << keys.error().to_string();
  ASSERT_EQ(keys->size(), 3u);
  for (const KeyInfo& want : {a, b, c}) {
    auto it = std::find_if(keys->begin(), keys->end(), [&](const KeyInfo& k) { return k.ref == want.ref; });
    ASSERT_NE(it, keys->end()) << want.ref.uri;
    EXPECT_EQ(it->label, want.label);
    EXPECT_EQ(it->algorithm, want.algorithm);
    EXPECT_EQ(it->backend, this->m_store->backend_name());
  }
  this->expect_digest_sign_verifies(*this->m_store, c.ref);
}

TYPED_TEST(KeyStoreConformance, DuplicateLabel_AlreadyExists) {
  this->create("tls-ca", KeyAlgorithm::ec_p256);
  auto again = this->m_store->create_key(CreateKeyRequest{"tls-ca", KeyAlgorithm::ec_p384});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists) << again.error().to_string();
  auto keys = this->m_store->list_keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 1u);
}

TYPED_TEST(KeyStoreConformance, BadLabel_InvalidArgument) {
  for (std::string label : {std::string(), std::string("tab\there"), std::string(200, 'x')}) {
    auto r = this->m_store->create_key(CreateKeyRequest{label, KeyAlgorithm::ec_p256});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
}

TYPED_TEST(KeyStoreConformance, UnknownRef_KeyNotFound) {
  this->create("present", KeyAlgorithm::ec_p256);
  for (const KeyRef& ref : {this->m_backend.unknown_ref(), KeyRef{"nonsense"}, KeyRef{""}}) {
    SCOPED_TRACE(ref.uri);
    auto pub = this->m_store->public_key(ref);
    ASSERT_FALSE(pub);
    EXPECT_EQ(pub.error().code, Errc::key_not_found);
    auto signer = this->m_store->signer(ref, KeyUse{"test", "test", ""});
    ASSERT_FALSE(signer);
    EXPECT_EQ(signer.error().code, Errc::key_not_found);
    auto destroyed = this->m_store->destroy_key(ref);
    ASSERT_FALSE(destroyed);
    EXPECT_EQ(destroyed.error().code, Errc::key_not_found);
  }
}

TYPED_TEST(KeyStoreConformance, Destroy_ThenKeyNotFound) {
  KeyInfo doomed = this->create("doomed", KeyAlgorithm::ec_p256);
  KeyInfo kept = this->create("kept", KeyAlgorithm::ec_p256);
  auto destroyed = this->m_store->destroy_key(doomed.ref);
  ASSERT_TRUE(destroyed) << destroyed.error().to_string();
  auto signer = this->m_store->signer(doomed.ref, KeyUse{"test", "test", ""});
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, Errc::key_not_found);
  auto pub = this->m_store->public_key(doomed.ref);
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().code, Errc::key_not_found);
  auto again = this->m_store->destroy_key(doomed.ref);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::key_not_found);
  auto keys = this->m_store->list_keys();
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().ref, kept.ref);
  // The label is free again.
  this->create("doomed", KeyAlgorithm::ec_p256);
}

TYPED_TEST(KeyStoreConformance, Persistence_NewInstanceSeesAndUsesKeys) {
  KeyInfo rsa = this->create("persistent-rsa", KeyAlgorithm::rsa2048);
  KeyInfo ec = this->create("persistent-ec", KeyAlgorithm::ec_p384);
  {
    // A second instance while the first lives (two stores on one directory / token)...
    auto second = this->m_backend.open();
    ASSERT_TRUE(second) << second.error().to_string();
    auto keys = (*second)->list_keys();
    ASSERT_TRUE(keys);
    EXPECT_EQ(keys->size(), 2u);
    // ...keeps working after the first one is gone (its close must not log the token out).
    this->m_store.reset();
    this->expect_digest_sign_verifies(**second, rsa.ref);
    this->expect_digest_sign_verifies(**second, ec.ref);
  }
  auto third = this->m_backend.open();  // and a fresh one after both closed
  ASSERT_TRUE(third) << third.error().to_string();
  auto keys = (*third)->list_keys();
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  this->expect_digest_sign_verifies(**third, rsa.ref);
  this->expect_digest_sign_verifies(**third, ec.ref);
}

TYPED_TEST(KeyStoreConformance, ConcurrentSigning_FourThreads) {
  KeyInfo ec = this->create("busy-ec", KeyAlgorithm::ec_p256);
  KeyInfo rsa = this->create("busy-rsa", KeyAlgorithm::rsa2048);
  auto ec_pub = this->m_store->public_key(ec.ref);
  auto rsa_pub = this->m_store->public_key(rsa.ref);
  ASSERT_TRUE(ec_pub && rsa_pub);
  constexpr int kThreads = 4, kSignatures = 25;
  std::atomic<int> verified{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread gets its own signer (the contract: one thread per Signer) from the shared store.
      const KeyInfo& key = t % 2 == 0 ? ec : rsa;
      EVP_PKEY* pub = t % 2 == 0 ? ec_pub->get() : rsa_pub->get();
      auto signer = this->m_store->signer(key.ref, KeyUse{"test", "thread", std::to_string(t)});
      if (!signer) {
        failures[t] = signer.error().to_string();
        return;
      }
      for (int i = 0; i < kSignatures; ++i) {
        const std::string msg = "thread " + std::to_string(t) + " message " + std::to_string(i);
        std::string why;
        auto sig = testing::digest_sign((*signer)->pkey(), crypto::as_bytes(msg), RsaPadding::pkcs1, why);
        if (!sig) {
          failures[t] = why;
          return;
        }
        if (testing::digest_verify(pub, crypto::as_bytes(msg), *sig, RsaPadding::pkcs1)) ++verified;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(verified.load(), kThreads * kSignatures);
}

}  // namespace
}  // namespace cartorio::keys
