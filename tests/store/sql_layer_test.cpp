// The backend-independent pieces of the SQL store: placeholder numbering for PostgreSQL,
// dialect tokens and the embedded migrations.
#include "store/postgres/placeholders.h"
#include "store/sql/connection_pool.h"
#include "store/sql/migrations.h"
#include "store/sql/sql_dialect.h"
#include "store/sql/sql_transaction.h"

#include <gtest/gtest.h>

#include <thread>

namespace {

using cartorio::core::Errc;
using cartorio::store::postgres::number_placeholders;
using cartorio::store::sql::embedded_migrations;
using cartorio::store::sql::render_sql;
using cartorio::store::sql::SqlDialect;
namespace sql = cartorio::store::sql;

// Records what the pool and transactions do with a connection.
class FakeConnection final : public sql::SqlConnection {
 public:
  explicit FakeConnection(std::vector<std::string>* log) : m_log(log) {}
  cartorio::core::Result<sql::SqlResult> query(std::string_view q, const std::vector<sql::SqlValue>&,
                                              sql::StatementKind) override {
    m_log->emplace_back(q);
    return sql::SqlResult{};
  }
  cartorio::core::Result<void> exec_script(std::string_view q) override {
    m_log->emplace_back(q);
    return cartorio::core::ok();
  }
  cartorio::core::Result<void> begin(sql::TxMode) override {
    m_log->emplace_back("BEGIN");
    return cartorio::core::ok();
  }
  cartorio::core::Result<void> commit() override {
    m_log->emplace_back("COMMIT");
    return cartorio::core::ok();
  }
  cartorio::core::Result<void> rollback() override {
    m_log->emplace_back("ROLLBACK");
    return cartorio::core::ok();
  }
  bool healthy() const override { return m_healthy; }
  void break_it() { m_healthy = false; }

 private:
  std::vector<std::string>* m_log;
  bool m_healthy = true;
};

TEST(NumberPlaceholders, NumbersQuestionMarks_InOrder) {
  EXPECT_EQ(number_placeholders("SELECT a FROM t WHERE b = ? AND c > ? LIMIT ?"),
            "SELECT a FROM t WHERE b = $1 AND c > $2 LIMIT $3");
  EXPECT_EQ(number_placeholders("SELECT 1"), "SELECT 1");
}

TEST(NumberPlaceholders, KeepsQuestionMarks_InQuotesAndComments) {
  EXPECT_EQ(number_placeholders("SELECT '?', 'it''s ?', \"col?\" FROM t WHERE a = ? -- why?\nAND b = ? /* ? */"),
            "SELECT '?', 'it''s ?', \"col?\" FROM t WHERE a = $1 -- why?\nAND b = $2 /* ? */");
  EXPECT_EQ(number_placeholders("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
}

TEST(RenderSql, SubstitutesDialectTokens) {
  SqlDialect d;
  d.backend_name = "test";
  d.tokens = {{"ID_PK", "SERIAL PRIMARY KEY"}, {"KEY_TEXT", "TEXT"}};
  auto r = render_sql("CREATE TABLE t (id {{ID_PK}}, k {{KEY_TEXT}}, v {{KEY_TEXT}})", d);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, "CREATE TABLE t (id SERIAL PRIMARY KEY, k TEXT, v TEXT)");
}

TEST(RenderSql, Rejects_UnknownOrUnterminatedToken) {
  SqlDialect d;
  d.backend_name = "test";
  auto unknown = render_sql("CREATE TABLE t (id {{NOPE}})", d);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::migration_failed);
  EXPECT_NE(unknown.error().message.find("NOPE"), std::string::npos);
  auto open = render_sql("CREATE TABLE t (id {{ID_PK", d);
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code, Errc::migration_failed);
}

TEST(EmbeddedMigrations, AreNumberedFromOne_AndCarryTheirFiles) {
  auto migrations = embedded_migrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    EXPECT_TRUE(migrations[i].name.ends_with(".sql")) << migrations[i].name;
  }
  EXPECT_EQ(migrations.front().name, "0001_init.sql");
  EXPECT_NE(migrations.front().sql.find("CREATE TABLE certificates"), std::string_view::npos);
}

TEST(ConnectionPool, ReportsUnavailable_WhenNoConnectionFreesUp) {
  std::vector<std::string> log;
  sql::ConnectionPool pool(std::make_unique<FakeConnection>(&log), nullptr, 1, std::chrono::milliseconds(50));
  auto held = pool.acquire();
  ASSERT_TRUE(held) << held.error().to_string();
  auto waited = pool.acquire();
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code, Errc::store_unavailable);
}

TEST(ConnectionPool, HandsBackReleasedConnection_ToWaiter) {
  std::vector<std::string> log;
  sql::ConnectionPool pool(std::make_unique<FakeConnection>(&log), nullptr, 1, std::chrono::seconds(10));
  auto held = std::make_optional(pool.acquire());
  ASSERT_TRUE(*held);
  sql::SqlConnection* first = &***held;
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  auto next = pool.acquire();
  releaser.join();
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(&**next, first);
}

TEST(ConnectionPool, ReplacesUnhealthyConnection_UpToMaxSize) {
  std::vector<std::string> log;
  int opened = 0;
  sql::ConnectionPool pool(
      std::make_unique<FakeConnection>(&log),
      [&]() -> cartorio::core::Result<std::unique_ptr<sql::SqlConnection>> {
        ++opened;
        return std::unique_ptr<sql::SqlConnection>(std::make_unique<FakeConnection>(&log));
      },
      2, std::chrono::milliseconds(50));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();  // second slot: opened on demand
    ASSERT_TRUE(a && b);
    EXPECT_EQ(opened, 1);
    auto c = pool.acquire();  // both leased: times out
    EXPECT_FALSE(c);
    static_cast<FakeConnection&>(**a).break_it();
  }
  auto again = pool.acquire();
  auto replacement = pool.acquire();  // the broken one was dropped; a fresh one takes its slot
  ASSERT_TRUE(again && replacement);
  EXPECT_EQ(opened, 2);
}

TEST(SqlTransaction, RollsBack_WhenDroppedUncommitted) {
  std::vector<std::string> log;
  FakeConnection conn(&log);
  {
    auto tx = sql::SqlTransaction::begin(conn, sql::TxMode::immediate);
    ASSERT_TRUE(tx);
  }
  {
    auto tx = sql::SqlTransaction::begin(conn, sql::TxMode::deferred);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->commit());
  }
  EXPECT_EQ(log, (std::vector<std::string>{"BEGIN", "ROLLBACK", "BEGIN", "COMMIT"}));
}

}  // namespace
