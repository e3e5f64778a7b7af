// A real IdentityService for API tests: software key store, SQLite store and the in-process
// cache in a temp dir, with a random identity data key.
#pragma once

#include "cache/memory/memory_cache.h"
#include "core/clock.h"
#include "crypto/primitives.h"
#include "identity/identity_service.h"
#include "keys/software/software_key_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <memory>

namespace cartorio::api::testing {

struct IdentityBackends {
  // Call from SetUp under ASSERT_NO_FATAL_FAILURE.
  void open() {
    ASSERT_OK(keys::create_master_key_file(tmp / "master.key"));
    keys::SoftwareKeyStoreOptions ko;
    ko.directory = tmp / "keys";
    ko.master_key_file = tmp / "master.key";
    ko.clock = &clock;
    auto ks = keys::SoftwareKeyStore::open(std::move(ko));
    ASSERT_TRUE(ks) << ks.error().to_string();
    keys = std::move(*ks);
    auto st = store::open_sqlite_store((tmp / "cartorio.db").string());
    ASSERT_TRUE(st) << st.error().to_string();
    store = std::move(*st);
    cache = std::make_unique<cache::MemoryCache>(cache::MemoryCacheOptions{}, clock);
    const auto data_key = crypto::random_bytes(32);
    auto svc = identity::IdentityService::create(identity::IdentityStores::of(*store), *keys, *cache, clock,
                                                 crypto::SecretBytes(crypto::ByteView(data_key)));
    ASSERT_TRUE(svc) << svc.error().to_string();
    identity = std::move(*svc);
  }

  cartorio::testing::TempDir tmp;
  core::SystemClock clock;
  std::unique_ptr<keys::KeyStore> keys;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<cache::MemoryCache> cache;
  std::unique_ptr<identity::IdentityService> identity;
};

}  // namespace cartorio::api::testing
