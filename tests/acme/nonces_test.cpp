// Replay nonces (acme/nonces.h): one use each, across two issuers sharing a cache (two
// instances on Redis), refused when forged, altered, expired or from another installation,
// and handing them out writes nothing to the cache.
#include "acme/nonces.h"
#include "cache/memory/memory_cache.h"
#include "crypto/bytes.h"

#include <gtest/gtest.h>

namespace {

using cartorio::acme::NonceIssuer;
using cartorio::cache::MemoryCache;
using cartorio::cache::MemoryCacheOptions;
using cartorio::core::ManualClock;
using namespace std::chrono_literals;

class AcmeNonces : public ::testing::Test {
 protected:
  ManualClock m_clock{cartorio::core::from_unix(1'800'000'000)};
  MemoryCache m_cache{MemoryCacheOptions{}, m_clock};
  NonceIssuer m_issuer{m_cache, m_clock, 3600s};
};

TEST_F(AcmeNonces, EachNonceIsRedeemedOnce_ByAnyInstanceOnTheCache) {
  auto nonce = m_issuer.issue();
  ASSERT_TRUE(nonce) << nonce.error().to_string();
  EXPECT_EQ(nonce->size(), 43u);
  NonceIssuer other_instance(m_cache, m_clock, 3600s);
  auto first = other_instance.redeem(*nonce);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*m_issuer.redeem(*nonce));
  EXPECT_FALSE(*other_instance.redeem(*nonce));
  auto second = m_issuer.issue();
  EXPECT_NE(*second, *nonce);
  EXPECT_TRUE(*m_issuer.redeem(*second));
}

TEST_F(AcmeNonces, ForgedAlteredOrForeignNoncesAreRefused) {
  auto nonce = m_issuer.issue();
  ASSERT_TRUE(nonce);
  std::string altered = *nonce;
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(*m_issuer.redeem(altered));
  EXPECT_FALSE(*m_issuer.redeem(""));
  EXPECT_FALSE(*m_issuer.redeem("not base64url!"));
  EXPECT_FALSE(*m_issuer.redeem(cartorio::crypto::to_base64url(cartorio::crypto::Bytes(32, 7))));
  EXPECT_FALSE(*m_issuer.redeem(*nonce + "AA"));
  // Another installation (its own cache, so its own key) issued this one.
  ManualClock clock{cartorio::core::from_unix(1'800'000'000)};
  MemoryCache foreign_cache{MemoryCacheOptions{}, clock};
  NonceIssuer foreign(foreign_cache, clock, 3600s);
  EXPECT_FALSE(*m_issuer.redeem(*foreign.issue()));
  EXPECT_TRUE(*m_issuer.redeem(*nonce));  // the original still works once
}

TEST_F(AcmeNonces, ExpireAfterTheirLifetime_AndIssuingWritesOnlyTheKey) {
  auto old = m_issuer.issue();
  m_clock.advance(3601s);
  EXPECT_FALSE(*m_issuer.redeem(*old));
  auto fresh = m_issuer.issue();
  m_clock.advance(3599s);
  EXPECT_TRUE(*m_issuer.redeem(*fresh));

  // A thousand nonces handed out: the cache holds the key only (and the one redeemed above).
  MemoryCache counted{MemoryCacheOptions{3}, m_clock};
  NonceIssuer issuer(counted, m_clock, 3600s);
  std::vector<std::string> issued;
  for (int i = 0; i < 1000; ++i) issued.push_back(*issuer.issue());
  // With room for three entries, nothing was evicted: the first nonce still redeems.
  EXPECT_TRUE(*issuer.redeem(issued.front()));
  EXPECT_TRUE(*issuer.redeem(issued.back()));
}

}  // namespace
