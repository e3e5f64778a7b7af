// The backends the Store conformance suite runs on. Each gives a fresh, private location
// (a temp file; a new PostgreSQL schema) and opens stores on it, as many times as a test
// likes (reopen, concurrent open). query_cli() reads the database behind the store's back
// with the engine's own client (sqlite3, psql): rows as "a|b|c" lines, the same text on
// both engines.
#pragma once

#include "fixtures/postgres_test_schema.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <optional>

namespace cartorio::store_test {

// The smallest valid certificate row, for backend-specific tests.
inline store::CertificateRecord make_cert(const std::string& serial) {
  store::CertificateRecord c;
  c.serial = serial;
  c.issuer = "tls";
  c.profile = "tls-server";
  c.subject = "CN=" + serial;
  c.not_before = 1;
  c.not_after = 2;
  c.pem = "PEM";
  c.created_at = 1;
  return c;
}

class SqliteBackend {
 public:
  static constexpr const char* kBackendName = "sqlite";

  core::Result<void> prepare() { return core::ok(); }
  core::Result<std::unique_ptr<store::Store>> open() const {
    return store::open_sqlite_store((m_dir / "store.db").string());
  }
  testing::CommandResult query_cli(const std::string& sql) const {
    return testing::run("sqlite3 -readonly " + testing::shell_quote((m_dir / "store.db").string()) + " " +
                        testing::shell_quote(sql));
  }

 private:
  testing::TempDir m_dir;
};

class PostgresBackend {
 public:
  static constexpr const char* kBackendName = "postgres";

  // Fails (never skips) when the fixture's conninfo is not available.
  core::Result<void> prepare() {
    CARTORIO_TRY(auto schema, testing::PostgresTestSchema::create());
    m_schema.emplace(std::move(schema));
    return core::ok();
  }
  core::Result<std::unique_ptr<store::Store>> open() const {
    return store::open_postgres_store(m_schema->conninfo());
  }
  testing::CommandResult query_cli(const std::string& sql) const {
    return testing::run("psql -X -q -t -A -v ON_ERROR_STOP=1 " + testing::shell_quote(m_schema->conninfo()) +
                        " -c " + testing::shell_quote(sql));
  }
  const testing::PostgresTestSchema& schema() const { return *m_schema; }

 private:
  std::optional<testing::PostgresTestSchema> m_schema;
};

// What every conformance suite starts from: a fresh store per test on `Backend`, and more
// stores on the same database when a test wants other "instances".
template <class Backend>
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(m_backend.prepare());
    auto opened = m_backend.open();
    ASSERT_TRUE(opened) << opened.error().to_string();
    m_store = std::move(opened).value();
  }
  store::Store& store() { return *m_store; }
  std::unique_ptr<store::Store> second_store() {
    auto opened = m_backend.open();
    EXPECT_TRUE(opened) << opened.error().to_string();
    return opened ? std::move(opened).value() : nullptr;
  }

  Backend m_backend;  // declared first: outlives the stores opened on it
  std::unique_ptr<store::Store> m_store;
};

}  // namespace cartorio::store_test
