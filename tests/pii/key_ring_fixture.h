// A real DataKeyRing for the pii tests: a SoftwareKeyStore in a temp dir, opened with a
// fresh master key file.
#pragma once

#include "keys/software/software_key_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace cartorio::pii::testing {

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override { m_ring = open_ring("data-keys", "master.key"); }

  // A ring in its own directory (with its own master key): a foreign installation.
  std::unique_ptr<keys::SoftwareKeyStore> open_ring(const std::string& dir, const std::string& master) {
    const auto master_path = m_dir / master;
    if (!std::filesystem::exists(master_path)) {
      EXPECT_TRUE(keys::create_master_key_file(master_path));
    }
    keys::SoftwareKeyStoreOptions o;
    o.directory = m_dir / dir;
    o.master_key_file = master_path;
    auto store = keys::SoftwareKeyStore::open(std::move(o));
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? std::move(store).value() : nullptr;
  }
  std::string active_id() {
    auto key = m_ring->active_data_key();
    EXPECT_TRUE(key) << key.error().to_string();
    return key ? (*key)->id : std::string();
  }
  std::string rotate() {
    auto id = m_ring->rotate_data_key();
    EXPECT_TRUE(id) << id.error().to_string();
    return id ? *id : std::string();
  }

  cartorio::testing::TempDir m_dir;
  std::unique_ptr<keys::SoftwareKeyStore> m_ring;
};

}  // namespace cartorio::pii::testing
