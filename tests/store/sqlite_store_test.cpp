// SQLite-only behaviour: the file on disk, and two stores (two processes) on one file.
#include "store/sqlite/sqlite_store.h"

#include "store_backends.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace {

using cartorio::core::Errc;
using cartorio::store::CertificateRecord;

using cartorio::store_test::make_cert;

TEST(SqliteStore, CreatesMissingFile_InWalMode) {
  cartorio::testing::TempDir dir;
  const auto path = dir / "new.db";
  ASSERT_FALSE(std::filesystem::exists(path));
  auto store = cartorio::store::open_sqlite_store(path.string());
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_TRUE(std::filesystem::exists(path));
  ASSERT_TRUE((*store)->insert_certificate(make_cert("a1")));
  // The write-ahead log sits beside the database while a connection is open.
  EXPECT_TRUE(std::filesystem::exists(dir / "new.db-wal"));
}

TEST(SqliteStore, FailsUnavailable_WhenDirectoryIsMissing) {
  cartorio::testing::TempDir dir;
  auto store = cartorio::store::open_sqlite_store((dir / "no-such-dir" / "store.db").string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::store_unavailable);
  EXPECT_NE(store.error().message.find("no-such-dir"), std::string::npos) << store.error().message;
}

TEST(SqliteStore, SharesOneFile_BetweenTwoStores) {
  cartorio::testing::TempDir dir;
  const std::string path = (dir / "shared.db").string();
  auto a = cartorio::store::open_sqlite_store(path);
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = cartorio::store::open_sqlite_store(path);
  ASSERT_TRUE(b) << b.error().to_string();

  ASSERT_TRUE((*a)->insert_certificate(make_cert("a1")));
  EXPECT_EQ((*b)->insert_certificate(make_cert("a1")).error().code, Errc::already_exists);
  auto seen = (*b)->get_certificate("a1");
  ASSERT_TRUE(seen) << seen.error().to_string();

  std::vector<std::int64_t> numbers;
  for (int i = 0; i < 3; ++i) {
    auto x = (*a)->next_crl_number("tls");
    auto y = (*b)->next_crl_number("tls");
    ASSERT_TRUE(x && y);
    numbers.push_back(*x);
    numbers.push_back(*y);
  }
  EXPECT_EQ(numbers, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
}

}  // namespace
