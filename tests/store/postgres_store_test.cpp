// PostgreSQL-only behaviour: what a pooled, networked backend adds to the conformance
// suite (connection loss, pool bounds, secrets kept out of errors). Runs on the `postgres`
// CTest fixture.
#include "store/postgres/postgres_store.h"

#include "fixtures/postgres_test_schema.h"
#include "store_backends.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

namespace {

using cartorio::core::Errc;
using cartorio::store::CertificateRecord;
using cartorio::store::PostgresStoreOptions;
using cartorio::testing::PostgresTestSchema;

using cartorio::store_test::make_cert;

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = PostgresTestSchema::create();
    ASSERT_TRUE(schema) << schema.error().to_string();
    m_schema.emplace(std::move(schema).value());
    // A per-test application_name lets the test find this store's server sessions.
    m_conninfo = m_schema->conninfo() + " application_name=" + m_schema->name();
  }

  // Terminates every server session of the store and waits until they are gone.
  void drop_store_sessions() {
    const std::string mine = "application_name = '" + m_schema->name() + "'";
    auto killed = m_schema->query_value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE " + mine);
    ASSERT_TRUE(killed) << killed.error().to_string();
    ASSERT_NE(*killed, "0") << "the store had no session to drop";
    for (int i = 0; i < 100; ++i) {
      auto left = m_schema->query_value("SELECT count(*) FROM pg_stat_activity WHERE " + mine);
      ASSERT_TRUE(left) << left.error().to_string();
      if (*left == "0") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "sessions still alive after pg_terminate_backend";
  }

  std::optional<PostgresTestSchema> m_schema;
  std::string m_conninfo;
};

TEST_F(PostgresStore, RetriesReads_AfterServerDropsTheConnection) {
  auto store = cartorio::store::open_postgres_store(m_conninfo);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->insert_certificate(make_cert("a1")));
  drop_store_sessions();

  auto got = (*store)->get_certificate("a1");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->subject, "CN=a1");
  drop_store_sessions();
  EXPECT_TRUE((*store)->check());
}

TEST_F(PostgresStore, ReportsUnavailable_ForWriteOnDroppedConnection_ThenRecovers) {
  auto store = cartorio::store::open_postgres_store(m_conninfo);
  ASSERT_TRUE(store) << store.error().to_string();
  drop_store_sessions();

  // A write is not resent: it might have been applied before the connection broke.
  cartorio::store::KeyRecord rec{"k1", "soft:k1", "software", "ec-p256", "test", "active", 1};
  auto lost = (*store)->put_key_record(rec);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, Errc::store_unavailable) << lost.error().to_string();
  EXPECT_NE(lost.error().message.find("put_key_record"), std::string::npos) << lost.error().message;

  // The connection was reset on the way out: the next calls work.
  EXPECT_EQ((*store)->get_key_record("k1").error().code, Errc::not_found);
  auto retried = (*store)->put_key_record(rec);
  EXPECT_TRUE(retried) << retried.error().to_string();
}

TEST_F(PostgresStore, ATransactionalWrite_OnADroppedConnection_StartsOver) {
  auto store = cartorio::store::open_postgres_store(m_conninfo);
  ASSERT_TRUE(store) << store.error().to_string();
  drop_store_sessions();
  // BEGIN changes nothing, so it may be resent on a new connection: the insert (certificate
  // and transparency entry, one transaction) goes through once.
  auto inserted = (*store)->insert_certificate(make_cert("b2"));
  ASSERT_TRUE(inserted) << inserted.error().to_string();
  EXPECT_TRUE((*store)->get_certificate("b2"));
  auto entry = (*store)->find_transparency_entry("certificate", "b2");
  EXPECT_TRUE(entry) << entry.error().to_string();
}

TEST_F(PostgresStore, ServesManyThreads_WithinPoolSize) {
  PostgresStoreOptions options;
  options.conninfo = m_conninfo;
  options.pool_size = 2;
  auto store = cartorio::store::open_postgres_store(options);
  ASSERT_TRUE(store) << store.error().to_string();

  constexpr int kThreads = 8, kCalls = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string serial = std::to_string(t + 1) + "f" + std::to_string(i);
        if (!(*store)->insert_certificate(make_cert(serial))) ++failures;
        if (!(*store)->get_certificate(serial)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto count = (*store)->count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, kThreads * kCalls);
  auto sessions = m_schema->query_value("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                                        m_schema->name() + "'");
  ASSERT_TRUE(sessions);
  EXPECT_LE(std::stoi(*sessions), 2);
  EXPECT_GE(std::stoi(*sessions), 1);
}

TEST_F(PostgresStore, FailsUnavailable_WithoutPasswordInMessage_WhenServerIsUnreachable) {
  // Port 1 on loopback: nothing listens there.
  auto store = cartorio::store::open_postgres_store(
      "host=127.0.0.1 port=1 dbname=x user=y password=canary-s3cret connect_timeout=2");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::store_unavailable);
  EXPECT_EQ(store.error().message.find("canary-s3cret"), std::string::npos) << store.error().message;
}

TEST_F(PostgresStore, FailsUnavailable_WithoutPasswordInMessage_ForWrongPassword) {
  auto store = cartorio::store::open_postgres_store(m_conninfo + " password=canary-wr0ng");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::store_unavailable);
  EXPECT_NE(store.error().message.find("password authentication failed"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(store.error().message.find("canary-wr0ng"), std::string::npos) << store.error().message;
}

TEST_F(PostgresStore, Rejects_MalformedConninfo_WithoutEchoingIt) {
  auto store = cartorio::store::open_postgres_store("host=127.0.0.1 password canary-s3cret");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::invalid_argument);
  EXPECT_EQ(store.error().message.find("canary-s3cret"), std::string::npos) << store.error().message;
}

TEST_F(PostgresStore, Opens_WithUriConninfo) {
  // config's store.postgres_url is a URI; build one from the fixture's key=value line.
  std::map<std::string, std::string> kv;
  std::istringstream words(m_schema->base_conninfo());
  for (std::string word; words >> word;) {
    auto eq = word.find('=');
    if (eq != std::string::npos) kv[word.substr(0, eq)] = word.substr(eq + 1);
  }
  const std::string uri = "postgresql://" + kv["user"] + ":" + kv["password"] + "@" + kv["host"] + ":" +
                          kv["port"] + "/" + kv["dbname"] + "?options=-csearch_path%3D" + m_schema->name();
  auto store = cartorio::store::open_postgres_store(uri);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->insert_certificate(make_cert("a1")));
  auto in_schema = m_schema->query_value("SELECT count(*) FROM certificates");
  ASSERT_TRUE(in_schema) << in_schema.error().to_string();
  EXPECT_EQ(*in_schema, "1");
}

TEST_F(PostgresStore, KeepsEachTestSchema_Private) {
  auto store = cartorio::store::open_postgres_store(m_conninfo);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->insert_certificate(make_cert("a1")));

  auto other = PostgresTestSchema::create();
  ASSERT_TRUE(other) << other.error().to_string();
  EXPECT_NE(other->name(), m_schema->name());
  auto other_store = cartorio::store::open_postgres_store(other->conninfo());
  ASSERT_TRUE(other_store) << other_store.error().to_string();
  auto count = (*other_store)->count_certificates();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
  auto tables = m_schema->query_value(
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + m_schema->name() +
      "' AND table_name = 'certificates'");
  ASSERT_TRUE(tables);
  EXPECT_EQ(*tables, "1");
}

TEST(PostgresTestSchemaFixture, Fails_WhenConninfoVariableIsMissing) {
  const char* saved = std::getenv(cartorio::testing::kPgConninfoFileEnv);
  std::string saved_value = saved ? saved : "";
  ::unsetenv(cartorio::testing::kPgConninfoFileEnv);
  auto schema = PostgresTestSchema::create();
  if (saved) ::setenv(cartorio::testing::kPgConninfoFileEnv, saved_value.c_str(), 1);

  ASSERT_FALSE(schema);
  EXPECT_EQ(schema.error().code, Errc::config_invalid);
  EXPECT_NE(schema.error().message.find(cartorio::testing::kPgConninfoFileEnv), std::string::npos);
}

}  // namespace
