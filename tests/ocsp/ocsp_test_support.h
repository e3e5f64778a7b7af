// A tiny hierarchy for the OCSP tests: the real Ceremony with EC keys (fast), a SQLite store
// and a software key store in a temp dir, the root key kept in memory for pre-signing, and
// helpers to build requests and read responses with OpenSSL's own OCSP API.
#pragma once

#include "core/clock.h"
#include "crypto/ossl.h"
#include "crypto/x509.h"
#include "keys/software/software_key_store.h"
#include "pki/ceremony.h"
#include "pki/certificate_issuer.h"
#include "pki/hierarchy.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"
#include "../pki/pki_test_support.h"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::ocsp::test {

inline core::TimePoint now_seconds() {
  return core::from_unix(core::to_unix(std::chrono::system_clock::now()));
}

class OcspFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(keys::create_master_key_file(m_dir / "master.key"));
    keys::SoftwareKeyStoreOptions ko;
    ko.directory = m_dir / "keys";
    ko.master_key_file = m_dir / "master.key";
    auto ks = keys::SoftwareKeyStore::open(std::move(ko));
    ASSERT_TRUE(ks) << ks.error().to_string();
    m_keys = std::move(*ks);
    auto st = store::open_sqlite_store((m_dir / "cartorio.db").string());
    ASSERT_TRUE(st) << st.error().to_string();
    m_store = std::move(*st);
    pki::HierarchyOptions o;
    o.root_algorithm = crypto::KeyAlgorithm::ec_p256;
    o.intermediate_algorithm = crypto::KeyAlgorithm::ec_p256;
    o.tsa_algorithm = crypto::KeyAlgorithm::ec_p256;
    o.urls = pki::make_urls("http://pki.test.example");
    pki::Ceremony ceremony(*m_keys, *m_store, m_clock, o);
    auto init = ceremony.init("ocsp unit test passphrase", [this](X509*, EVP_PKEY* root_key) -> core::Result<void> {
      EVP_PKEY_up_ref(root_key);
      m_root_key.reset(root_key);
      return core::ok();
    });
    ASSERT_TRUE(init) << init.error().to_string();
    auto h = pki::Hierarchy::load(*m_store, *m_store);
    ASSERT_TRUE(h) << h.error().to_string();
    m_hierarchy = std::make_unique<pki::Hierarchy>(std::move(*h));
  }

  X509* ca(const std::string& name) { return (*m_hierarchy->get(name))->cert.get(); }

  // A tls-server certificate from the TLS CA, recorded in the store.
  crypto::X509Ptr issue(const std::string& cn) {
    pki::CertificateIssuer issuer(*m_hierarchy, *m_keys, *m_store, m_clock, pki::make_urls("http://pki.test.example"));
    auto csr = pki::test::csr_der({.key = pki::test::key(pki::test::TestKey::p256),
                                   .subject = {{"CN", cn}},
                                   .sans = {pki::test::dns(cn)}});
    pki::IssueRequest req;
    req.profile = "tls-server";
    req.csr = csr;
    req.requester = "test";
    auto issued = issuer.issue(req);
    EXPECT_TRUE(issued) << issued.error().to_string();
    if (!issued) return {};
    return crypto::parse_certificate(crypto::as_bytes(issued->record.pem)).value();
  }

  testing::TempDir m_tmp;
  std::filesystem::path m_dir = m_tmp.path();
  core::ManualClock m_clock{now_seconds()};
  std::unique_ptr<keys::KeyStore> m_keys;
  std::unique_ptr<store::Store> m_store;
  std::unique_ptr<pki::Hierarchy> m_hierarchy;
  crypto::PKey m_root_key;
};

struct Query {
  const X509* issuer;
  const ASN1_INTEGER* serial;
};

inline crypto::Bytes make_request(const std::vector<Query>& queries, const EVP_MD* md = EVP_sha1(),
                                  bool nonce = false, crypto::OcspRequest* keep = nullptr) {
  crypto::OcspRequest req(OCSP_REQUEST_new());
  for (const auto& q : queries) {
    OCSP_CERTID* id = OCSP_cert_id_new(md, X509_get_subject_name(q.issuer), X509_get0_pubkey_bitstr(q.issuer),
                                       q.serial);
    EXPECT_NE(OCSP_request_add0_id(req.get(), id), nullptr);
  }
  if (nonce) {
    EXPECT_EQ(OCSP_request_add1_nonce(req.get(), nullptr, -1), 1);
  }
  unsigned char* buf = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &buf);
  crypto::Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  if (keep) *keep = std::move(req);
  return out;
}

inline crypto::OcspResponse parse_response(const crypto::Bytes& der) {
  const unsigned char* p = der.data();
  crypto::OcspResponse r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(r) << "response does not parse";
  return r;
}

inline int response_status(const crypto::Bytes& der) {
  auto r = parse_response(der);
  return r ? OCSP_response_status(r.get()) : -1;
}

inline crypto::OcspBasicResp basic_of(const crypto::Bytes& der) {
  auto r = parse_response(der);
  crypto::OcspBasicResp b(r ? OCSP_response_get1_basic(r.get()) : nullptr);
  EXPECT_TRUE(b) << "no basic response";
  return b;
}

struct SingleStatus {
  int status = -1;
  int reason = -1;
  long long revoked_at = 0, this_update = 0, next_update = 0;
};

// The status of (issuer, serial) in a basic response, found as a client finds it.
inline std::optional<SingleStatus> status_of(OCSP_BASICRESP* bs, const X509* issuer, const ASN1_INTEGER* serial,
                                             const EVP_MD* md = EVP_sha1()) {
  crypto::OcspCertId id(OCSP_cert_id_new(md, X509_get_subject_name(issuer), X509_get0_pubkey_bitstr(issuer), serial));
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
  if (OCSP_resp_find_status(bs, id.get(), &status, &reason, &rev, &thisupd, &nextupd) != 1) return std::nullopt;
  SingleStatus s;
  s.status = status;
  s.reason = reason;
  if (rev) s.revoked_at = crypto::asn1_time_to_unix(rev);
  if (thisupd) s.this_update = crypto::asn1_time_to_unix(thisupd);
  if (nextupd) s.next_update = crypto::asn1_time_to_unix(nextupd);
  return s;
}

}  // namespace cartorio::ocsp::test
