// A small hierarchy for the TSA tests: the real Ceremony with EC keys (fast), a SQLite store
// and a software key store in a temp dir, seen through a KeyStore decorator that records
// every key use (and can be told to fail). Requests are built and replies read with
// OpenSSL's own TS API, as `openssl ts` does.
#pragma once

#include "core/clock.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "crypto/primitives.h"
#include "keys/software/software_key_store.h"
#include "pki/ceremony.h"
#include "pki/hierarchy.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"
#include "tsa/time_stamp_authority.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::tsa::test {

// Passes everything through to the real store; records each signer() use; fails signer()
// with Errc::key_backend while `fail` is set.
class RecordingKeyStore final : public keys::KeyStore {
 public:
  explicit RecordingKeyStore(keys::KeyStore& inner) : m_inner(inner) {}
  std::string backend_name() const override { return m_inner.backend_name(); }
  keys::Capabilities capabilities() const override { return m_inner.capabilities(); }
  core::Result<keys::KeyInfo> create_key(const keys::CreateKeyRequest& r) override { return m_inner.create_key(r); }
  core::Result<crypto::PKey> public_key(const keys::KeyRef& ref) override { return m_inner.public_key(ref); }
  core::Result<std::unique_ptr<keys::Signer>> signer(const keys::KeyRef& ref, const keys::KeyUse& use) override {
    {
      std::lock_guard lock(m_mutex);
      m_uses.push_back(use);
    }
    if (fail) return core::Error{core::Errc::key_backend, "the test says the HSM is down"};
    return m_inner.signer(ref, use);
  }
  core::Result<std::vector<keys::KeyInfo>> list_keys() override { return m_inner.list_keys(); }
  core::Result<void> destroy_key(const keys::KeyRef& ref) override { return m_inner.destroy_key(ref); }
  core::Result<void> check() override { return m_inner.check(); }

  std::vector<keys::KeyUse> uses() const {
    std::lock_guard lock(m_mutex);
    return m_uses;
  }
  std::atomic<bool> fail{false};

 private:
  keys::KeyStore& m_inner;
  mutable std::mutex m_mutex;
  std::vector<keys::KeyUse> m_uses;
};

// 2031-05-06T07:08:09Z: far from the real time, so a genTime from the system clock shows.
inline core::TimePoint fixed_time() { return core::from_unix(1935817689); }

class TsaFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(keys::create_master_key_file(m_dir / "master.key"));
    keys::SoftwareKeyStoreOptions ko;
    ko.directory = m_dir / "keys";
    ko.master_key_file = m_dir / "master.key";
    auto ks = keys::SoftwareKeyStore::open(std::move(ko));
    ASSERT_TRUE(ks) << ks.error().to_string();
    m_software = std::move(*ks);
    m_keys = std::make_unique<RecordingKeyStore>(*m_software);
    auto st = store::open_sqlite_store((m_dir / "cartorio.db").string());
    ASSERT_TRUE(st) << st.error().to_string();
    m_store = std::move(*st);
    pki::HierarchyOptions o;
    o.root_algorithm = crypto::KeyAlgorithm::ec_p256;
    o.intermediate_algorithm = crypto::KeyAlgorithm::ec_p256;
    o.tsa_algorithm = crypto::KeyAlgorithm::ec_p256;
    o.urls = pki::make_urls("http://pki.test.example");
    // The ceremony signs with certificates valid from "now": make them from the clock's time.
    pki::Ceremony ceremony(*m_software, *m_store, m_clock, o);
    auto init = ceremony.init("tsa unit test passphrase", [](X509*, EVP_PKEY*) { return core::ok(); });
    ASSERT_TRUE(init) << init.error().to_string();
    auto h = pki::Hierarchy::load(*m_store, *m_store);
    ASSERT_TRUE(h) << h.error().to_string();
    m_hierarchy = std::make_unique<pki::Hierarchy>(std::move(*h));
    m_tsa = make_authority();
    ASSERT_TRUE(m_tsa);
  }

  std::unique_ptr<TimeStampAuthority> make_authority(TsaOptions o = {}) {
    auto t = TimeStampAuthority::create(*m_hierarchy, *m_keys, m_clock, std::move(o));
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? std::move(*t) : nullptr;
  }

  X509* cert(const std::string& name) { return (*m_hierarchy->get(name))->cert.get(); }

  testing::TempDir m_tmp;
  std::filesystem::path m_dir = m_tmp.path();
  core::ManualClock m_clock{fixed_time()};
  std::unique_ptr<keys::KeyStore> m_software;
  std::unique_ptr<RecordingKeyStore> m_keys;
  std::unique_ptr<store::Store> m_store;
  std::unique_ptr<pki::Hierarchy> m_hierarchy;
  std::unique_ptr<TimeStampAuthority> m_tsa;
};

// What a test request holds; defaults are what `openssl ts -query -sha256 -cert` sends.
struct Query {
  const EVP_MD* md = EVP_sha256();
  std::optional<crypto::Bytes> digest;  // default: md over "cartorio"
  bool nonce = true;
  bool cert_req = true;
  std::string policy;     // dotted OID; empty: none
  long version = 1;
  int parameter = V_ASN1_NULL;  // hash algorithm parameters: V_ASN1_NULL, V_ASN1_UNDEF (absent), or V_ASN1_INTEGER
  bool extension = false;
};

inline crypto::Bytes digest_of(const EVP_MD* md, std::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), buf, &len, md, nullptr), 1);
  return {buf, buf + len};
}

struct BuiltQuery {
  crypto::Bytes der;
  crypto::Asn1Integer nonce;  // null without one
};

inline BuiltQuery make_query(const Query& q = {}) {
  const crypto::Bytes digest = q.digest ? *q.digest : digest_of(q.md, "cartorio");
  crypto::TsReq req(TS_REQ_new());
  crypto::TsMsgImprint imprint(TS_MSG_IMPRINT_new());
  crypto::X509Algor alg(X509_ALGOR_new());
  if (q.parameter == V_ASN1_INTEGER) {
    ASN1_INTEGER* seven = ASN1_INTEGER_new();
    ASN1_INTEGER_set(seven, 7);
    X509_ALGOR_set0(alg.get(), OBJ_nid2obj(EVP_MD_get_type(q.md)), V_ASN1_INTEGER, seven);
  } else {
    X509_ALGOR_set0(alg.get(), OBJ_nid2obj(EVP_MD_get_type(q.md)), q.parameter, nullptr);
  }
  EXPECT_EQ(TS_MSG_IMPRINT_set_algo(imprint.get(), alg.get()), 1);
  EXPECT_EQ(TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(digest.data()),
                                   static_cast<int>(digest.size())),
            1);
  EXPECT_EQ(TS_REQ_set_version(req.get(), q.version), 1);
  EXPECT_EQ(TS_REQ_set_msg_imprint(req.get(), imprint.get()), 1);
  BuiltQuery out;
  if (q.nonce) {
    const auto random = crypto::random_bytes(8);
    crypto::Bignum bn(BN_bin2bn(random.data(), 8, nullptr));
    out.nonce.reset(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    EXPECT_EQ(TS_REQ_set_nonce(req.get(), out.nonce.get()), 1);
  }
  if (!q.policy.empty()) {
    crypto::Asn1Object policy(OBJ_txt2obj(q.policy.c_str(), 1));
    EXPECT_TRUE(policy);
    EXPECT_EQ(TS_REQ_set_policy_id(req.get(), policy.get()), 1);
  }
  EXPECT_EQ(TS_REQ_set_cert_req(req.get(), q.cert_req ? 1 : 0), 1);
  if (q.extension) {
    // Any extension: the TSA supports none (RFC 3161 2.4.1 lets it refuse them).
    crypto::Asn1OctetString value(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>("\x05\x00"), 2);
    crypto::X509Ext ext(X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, value.get()));
    EXPECT_EQ(TS_REQ_add_ext(req.get(), ext.get(), -1), 1);
  }
  unsigned char* buf = nullptr;
  const int len = i2d_TS_REQ(req.get(), &buf);
  EXPECT_GT(len, 0);
  out.der.assign(buf, buf + std::max(len, 0));
  OPENSSL_free(buf);
  return out;
}

inline crypto::TsResp parse_reply(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::TsResp r(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(r) << "the reply is not a TimeStampResp";
  EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(der.data()) + der.size()) << "trailing bytes";
  return r;
}

inline long status_of(const TS_RESP* r) {
  return ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(const_cast<TS_RESP*>(r))));
}

// The PKIFailureInfo bits set, e.g. {TS_INFO_BAD_ALG}.
inline std::vector<int> failures_of(const TS_RESP* r) {
  std::vector<int> out;
  const ASN1_BIT_STRING* fi = TS_STATUS_INFO_get0_failure_info(TS_RESP_get_status_info(const_cast<TS_RESP*>(r)));
  for (int bit = 0; fi && bit < 32; ++bit)
    if (ASN1_BIT_STRING_get_bit(fi, bit)) out.push_back(bit);
  return out;
}

}  // namespace cartorio::tsa::test
