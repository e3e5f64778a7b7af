// CachedSource and pre-signing over the real live responder (EC hierarchy, SQLite, software
// keys) and real caches: in-process, the fixture's Redis (two "instances" sharing it), and
// a Redis that is down. A counting wrapper around the live source tells which answers were
// signed and which came from the cache.
#include "ocsp_test_support.h"

#include "../cache/cache_backends.h"
#include "cache/memory/memory_cache.h"
#include "cache/redis/redis_cache.h"
#include "core/shared_counter.h"
#include "ocsp/cached_source.h"
#include "ocsp/ocsp_responder.h"
#include "ocsp/presigner.h"

#include <atomic>

namespace cartorio::ocsp::test {
namespace {

using namespace std::chrono_literals;

// Counts the answers the live source computed (each one a signature).
class CountingSource final : public ResponseSource {
 public:
  explicit CountingSource(std::shared_ptr<ResponseSource> inner) : m_inner(std::move(inner)) {}
  OcspResult respond(crypto::ByteView request_der) override {
    ++calls;
    return m_inner->respond(request_der);
  }
  std::atomic<int> calls{0};

 private:
  std::shared_ptr<ResponseSource> m_inner;
};

class CachedSourceTest : public OcspFixture {
 protected:
  std::shared_ptr<CountingSource> live(std::chrono::seconds validity = 1h) {
    ResponderOptions o;
    o.validity = validity;
    auto responder = OcspResponder::create(*m_hierarchy, pki::kTlsCa, *m_store, *m_keys, m_clock, o);
    EXPECT_TRUE(responder) << responder.error().to_string();
    return std::make_shared<CountingSource>(std::shared_ptr<ResponseSource>(std::move(*responder)));
  }

  std::unique_ptr<CachedSource> cached(std::shared_ptr<ResponseSource> inner, cache::Cache& cache,
                                       CachedSourceOptions o = {}) {
    return std::make_unique<CachedSource>(pki::kTlsCa, crypto::X509Ptr(X509_dup(ca(pki::kTlsCa))), std::move(inner),
                                          cache, m_clock, o);
  }

  int status(CachedSource& source, X509* cert, const EVP_MD* md = EVP_sha1()) {
    const auto der = make_request({{ca(pki::kTlsCa), X509_get0_serialNumber(cert)}}, md);
    const auto result = source.respond(der);
    EXPECT_EQ(result.status, ResponseStatus::successful);
    auto basic = basic_of(result.der);
    if (!basic) return -1;
    auto s = status_of(basic.get(), ca(pki::kTlsCa), X509_get0_serialNumber(cert), md);
    return s ? s->status : -1;
  }

  void revoke(X509* cert) {
    ASSERT_OK(m_store->revoke_certificate(crypto::serial_hex(cert), 1, core::to_unix(m_clock.now())));
  }

  // Asks twice within `lifetime` (one signature), then just past it (a second one).
  void expect_kept_for(CachedSource& source, const CountingSource& counting, X509* cert, std::chrono::seconds lifetime) {
    const int before = counting.calls;
    status(source, cert);
    m_clock.advance(lifetime - 1s);
    status(source, cert);
    EXPECT_EQ(counting.calls, before + 1);
    m_clock.advance(2s);
    status(source, cert);
    EXPECT_EQ(counting.calls, before + 2) << "past " << lifetime.count() << " s the answer is signed again";
  }

  // Entries live `o.ttl` (300 s here), and answers valid for less only until their nextUpdate.
  void expect_entries_live_the_ttl(CachedSourceOptions o) {
    auto cert = issue("a.example");
    o.ttl = 300s;
    auto counting = live(1h);
    expect_kept_for(*cached(counting, m_memory, o), *counting, cert.get(), 300s);

    auto short_lived = live(120s);
    cache::MemoryCache memory{cache::MemoryCacheOptions{}, m_clock};
    auto source = cached(short_lived, memory, o);
    expect_kept_for(*source, *short_lived, cert.get(), 120s);
    const auto der = make_request({{ca(pki::kTlsCa), X509_get0_serialNumber(cert.get())}});
    EXPECT_GT(*source->respond(der).next_update, m_clock.now());
  }

  cache::MemoryCache m_memory{cache::MemoryCacheOptions{}, m_clock};
};

TEST_F(CachedSourceTest, RepeatedQuestionIsAnsweredFromTheCacheWithoutSigning) {
  auto cert = issue("a.example");
  auto counting = live();
  auto source = cached(counting, m_memory);
  const auto der = make_request({{ca(pki::kTlsCa), X509_get0_serialNumber(cert.get())}});
  const auto first = source->respond(der);
  const auto second = source->respond(der);
  EXPECT_EQ(counting->calls, 1);
  EXPECT_EQ(first.der, second.der);
  EXPECT_TRUE(second.cacheable);
  EXPECT_EQ(second.this_update, first.this_update);
  EXPECT_EQ(second.next_update, first.next_update);
  EXPECT_EQ(source->stats().hits, 1u);
  EXPECT_EQ(source->stats().misses, 1u);
}

TEST_F(CachedSourceTest, Sha1AndSha256CertIdsAreCachedApartAndEachEchoesItsOwnCertId) {
  auto cert = issue("a.example");
  auto counting = live();
  auto source = cached(counting, m_memory);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(status(*source, cert.get(), EVP_sha1()), V_OCSP_CERTSTATUS_GOOD);
    EXPECT_EQ(status(*source, cert.get(), EVP_sha256()), V_OCSP_CERTSTATUS_GOOD);
  }
  EXPECT_EQ(counting->calls, 2);
}

TEST_F(CachedSourceTest, NoncesSeveralCertIdsForeignIssuersAndGarbageAreNeverCached) {
  auto a = issue("a.example");
  auto b = issue("b.example");
  auto counting = live();
  auto source = cached(counting, m_memory);
  const auto with_nonce = make_request({{ca(pki::kTlsCa), X509_get0_serialNumber(a.get())}}, EVP_sha1(), true);
  const auto several = make_request(
      {{ca(pki::kTlsCa), X509_get0_serialNumber(a.get())}, {ca(pki::kTlsCa), X509_get0_serialNumber(b.get())}});
  const auto foreign = make_request({{ca(pki::kDocumentCa), X509_get0_serialNumber(a.get())}});
  const crypto::Bytes garbage = {0x30, 0x03, 0x02, 0x01, 0x01};
  for (int round = 0; round < 2; ++round) {
    const auto n = source->respond(with_nonce);
    EXPECT_FALSE(n.cacheable);
    EXPECT_EQ(source->respond(several).status, ResponseStatus::successful);
    EXPECT_EQ(source->respond(foreign).status, ResponseStatus::unauthorized);
    EXPECT_EQ(source->respond(garbage).status, ResponseStatus::malformed_request);
  }
  EXPECT_EQ(counting->calls, 8);
  EXPECT_EQ(source->stats().bypassed, 8u);
  EXPECT_EQ(source->stats().hits, 0u);
}

TEST_F(CachedSourceTest, RefreshReplacesTheCachedAnswerSoARevocationShowsAtOnce) {
  auto cert = issue("a.example");
  auto counting = live();
  auto source = cached(counting, m_memory);
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(status(*source, cert.get(), EVP_sha256()), V_OCSP_CERTSTATUS_GOOD);
  revoke(cert.get());
  // The cache still vouches for it: this is what refresh() is for.
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  ASSERT_OK(source->refresh(crypto::serial_hex(cert.get())));
  const int signed_before = counting->calls;
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(status(*source, cert.get(), EVP_sha256()), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(counting->calls, signed_before) << "the replaced entries answer without signing";
}

TEST_F(CachedSourceTest, EpochBumpedByAnotherProcessHidesOlderEntries) {
  auto cert = issue("a.example");
  auto epoch = core::SharedCounter::open((m_dir / "epoch").string());
  ASSERT_OK(epoch);
  // Another process (here: a second mapping of the same file) revokes and bumps.
  auto other = core::SharedCounter::open((m_dir / "epoch").string());
  ASSERT_OK(other);
  CachedSourceOptions o;
  o.epoch = epoch->get();
  auto source = cached(live(), m_memory, o);
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  revoke(cert.get());
  EXPECT_EQ((*other)->bump(), 1u);
  EXPECT_EQ((*epoch)->load(), 1u);
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_REVOKED);
}

TEST_F(CachedSourceTest, EntriesLiveTheTtlAndNeverOutliveNextUpdate) { expect_entries_live_the_ttl({}); }

// With an epoch (the in-process cache `serve` uses), answers are also kept by request bytes.
class CachedSourceWithEpochTest : public CachedSourceTest {
 protected:
  void SetUp() override {
    CachedSourceTest::SetUp();
    auto epoch = core::SharedCounter::open((m_dir / "epoch").string());
    ASSERT_OK(epoch);
    m_epoch = std::move(*epoch);
  }
  CachedSourceOptions options() const {
    CachedSourceOptions o;
    o.epoch = m_epoch.get();
    return o;
  }
  std::unique_ptr<core::SharedCounter> m_epoch;
};

TEST_F(CachedSourceWithEpochTest, ARepeatedRequestIsAnsweredByItsBytesWithItsEntityTag) {
  auto cert = issue("a.example");
  auto counting = live();
  auto source = cached(counting, m_memory, options());
  const auto der = make_request({{ca(pki::kTlsCa), X509_get0_serialNumber(cert.get())}});
  const auto first = source->respond(der);
  ASSERT_OK(m_memory.erase("ocsp:" + std::string(pki::kTlsCa) + ":sha1:" + crypto::serial_hex(cert.get()) + ":e0"));
  const auto second = source->respond(der);
  EXPECT_EQ(counting->calls, 1) << "answered by the request's bytes, not the (emptied) cache";
  EXPECT_EQ(second.der, first.der);
  EXPECT_EQ(second.next_update, first.next_update);
  EXPECT_EQ(second.etag, entity_tag(first.der));
  EXPECT_EQ(source->stats().hits, 1u);
  EXPECT_EQ(source->stats().misses, 1u);
}

TEST_F(CachedSourceWithEpochTest, KeptAnswersLiveTheTtlAndNeverOutliveNextUpdate) {
  expect_entries_live_the_ttl(options());
}

TEST_F(CachedSourceWithEpochTest, RefreshOrAnEpochBumpShowsARevocationAtOnce) {
  auto cert = issue("a.example");
  auto counting = live();
  auto source = cached(counting, m_memory, options());
  for (int i = 0; i < 2; ++i) EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  revoke(cert.get());
  ASSERT_OK(source->refresh(crypto::serial_hex(cert.get())));
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_REVOKED);

  auto other = issue("b.example");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(status(*source, other.get()), V_OCSP_CERTSTATUS_GOOD);
  revoke(other.get());
  m_epoch->bump();  // as `cartorio cert revoke` in another process does
  EXPECT_EQ(status(*source, other.get()), V_OCSP_CERTSTATUS_REVOKED);
}

TEST_F(CachedSourceWithEpochTest, ManyDistinctRequestsStayWithinTheBound) {
  auto o = options();
  o.request_entries = 2;
  auto counting = live();
  auto source = cached(counting, m_memory, o);
  std::vector<crypto::X509Ptr> certs;
  for (int i = 0; i < 5; ++i) certs.push_back(issue("c" + std::to_string(i) + ".example"));
  for (int round = 0; round < 2; ++round)
    for (auto& c : certs) EXPECT_EQ(status(*source, c.get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(counting->calls, 5) << "answers dropped from the bounded set still come from the cache";
}

TEST_F(CachedSourceTest, AnUnreachableCacheNeverFailsAnAnswer) {
  auto cert = issue("a.example");
  cache::RedisCacheOptions ro;
  ro.port = cache_test::closed_port();
  auto dead = cache::open_redis_cache(ro);
  ASSERT_OK(dead);
  auto counting = live();
  auto source = cached(counting, **dead);
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(status(*source, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(counting->calls, 2);
  EXPECT_GE(source->stats().errors, 2u);
  EXPECT_EQ(source->refresh(crypto::serial_hex(cert.get())).error().code, core::Errc::store_unavailable);
}

TEST_F(CachedSourceTest, PresigningFillsTheCacheForEveryLiveCertificate) {
  std::vector<crypto::X509Ptr> certs;
  for (int i = 0; i < 3; ++i) certs.push_back(issue("c" + std::to_string(i) + ".example"));
  revoke(certs[2].get());
  auto counting = live();
  auto source = cached(counting, m_memory);
  store::CertificateFilter by_tls_ca;
  by_tls_ca.issuer = pki::kTlsCa;
  auto issued = m_store->list_certificates(by_tls_ca);
  ASSERT_OK(issued);
  ASSERT_EQ(issued->size(), 4u) << "ours and the TLS CA's OCSP responder certificate";
  auto report = presign_live(*source, *m_store, m_clock);
  ASSERT_OK(report);
  EXPECT_EQ(report->certificates, 4);
  EXPECT_EQ(report->failed, 0);
  const int signed_by_presign = counting->calls;
  EXPECT_EQ(signed_by_presign, 8) << "SHA-1 and SHA-256 answers per certificate";
  EXPECT_EQ(status(*source, certs[0].get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(status(*source, certs[1].get(), EVP_sha256()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(status(*source, certs[2].get()), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(counting->calls, signed_by_presign) << "requests never signed";
}

// Two server instances sharing the fixture's Redis: a revocation refreshed by one is what
// the other answers next.
TEST_F(CachedSourceTest, RedisSharedBetweenInstancesSeesTheReplacedAnswer) {
  auto options = cache_test::redis_test_options();
  ASSERT_OK(options);
  auto redis_a = cache::open_redis_cache(*options);
  auto redis_b = cache::open_redis_cache(*options);
  ASSERT_OK(redis_a);
  ASSERT_OK(redis_b);
  auto cert = issue("a.example");
  auto counting_a = live();
  auto counting_b = live();
  auto a = cached(counting_a, **redis_a);
  auto b = cached(counting_b, **redis_b);
  EXPECT_EQ(status(*a, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(status(*b, cert.get()), V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(counting_b->calls, 0) << "b answered from what a signed";
  revoke(cert.get());
  ASSERT_OK(a->refresh(crypto::serial_hex(cert.get())));
  EXPECT_EQ(status(*b, cert.get()), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(counting_b->calls, 0);
}

}  // namespace
}  // namespace cartorio::ocsp::test
