// Password rotation of the store's own PostgreSQL role: the pool logs in through a password
// provider (PostgresStoreOptions::password_candidates), Store::change_own_password sets a
// new password and re-opens every pooled connection, and no request fails on the way.
//
// The fixture's login role is shared by tests running in parallel, so its password is never
// changed: each test creates a role of its own (pg-start gives the fixture role CREATEROLE),
// makes the fixture role a member of it (so it may terminate its sessions) and drops it at
// the end. Runs on the `postgres` CTest fixture; the last suites need no server.
#include "store/postgres/postgres_store.h"
#include "store/sql/connection_pool.h"
#include "store/sqlite/sqlite_store.h"

#include "fixtures/postgres_test_schema.h"
#include "store_backends.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace {

using cartorio::core::Errc;
using cartorio::store::AuditEvent;
using cartorio::store::AuditFilter;
using cartorio::store::PostgresStoreOptions;
using cartorio::store::Store;
using cartorio::store_test::make_cert;
using cartorio::testing::PostgresTestSchema;
namespace sql = cartorio::store::sql;

std::string random_hex(int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < chars; ++i) out.push_back(kHex[rd() % 16]);
  return out;
}

std::map<std::string, std::string> parse_conninfo(const std::string& conninfo) {
  std::map<std::string, std::string> kv;
  std::istringstream words(conninfo);
  for (std::string word; words >> word;) {
    auto eq = word.find('=');
    if (eq != std::string::npos) kv[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return kv;
}

// A plain libpq login, outside the store: "" when it logs in, else libpq's message.
std::string login_error(const std::string& conninfo) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (!conn) return "out of memory";
  if (PQstatus(conn.get()) == CONNECTION_OK) return "";
  std::string message = PQerrorMessage(conn.get());
  return message.empty() ? "login failed" : message;
}

// Where the provider reads its passwords from (a secret file, a vault...): thread-safe,
// counts how often the pool asked.
class PasswordSource {
 public:
  void set(std::vector<std::string> candidates) {
    std::lock_guard lock(m_mutex);
    m_candidates = std::move(candidates);
  }
  int calls() const { return m_calls.load(); }
  std::function<std::vector<std::string>()> provider() {
    return [this] {
      ++m_calls;
      std::lock_guard lock(m_mutex);
      return m_candidates;
    };
  }

 private:
  std::mutex m_mutex;
  std::vector<std::string> m_candidates;
  std::atomic<int> m_calls{0};
};

class PostgresPasswordRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = PostgresTestSchema::create();
    ASSERT_TRUE(schema) << schema.error().to_string();
    m_schema.emplace(std::move(schema).value());
    m_fixture = parse_conninfo(m_schema->base_conninfo());
    ASSERT_FALSE(m_fixture["user"].empty()) << "the fixture conninfo names no user";
    m_role = "r_" + m_schema->name().substr(2);  // t_<hex> -> r_<hex>
    m_password = "pw-" + random_hex(24);
    // ROLE <fixture user>: the fixture role becomes a member, so it may end the new role's
    // sessions (pg_terminate_backend) without being a superuser.
    auto created = m_schema->exec("CREATE ROLE " + m_role + " LOGIN PASSWORD '" + m_password + "' ROLE " +
                                  m_fixture["user"]);
    ASSERT_TRUE(created) << created.error().to_string();
    m_role_created = true;
    auto granted = m_schema->exec("GRANT USAGE, CREATE ON SCHEMA " + m_schema->name() + " TO " + m_role);
    ASSERT_TRUE(granted) << granted.error().to_string();
  }

  void TearDown() override {
    if (!m_schema) return;
    // The schema's owner (the fixture role) may drop the tables the test role created in it;
    // then the role owns nothing and can go.
    auto dropped = m_schema->exec("DROP SCHEMA IF EXISTS " + m_schema->name() + " CASCADE");
    EXPECT_TRUE(dropped) << dropped.error().to_string();
    if (m_role_created) {
      auto role_dropped = m_schema->exec("DROP ROLE IF EXISTS " + m_role);
      EXPECT_TRUE(role_dropped) << role_dropped.error().to_string();
    }
  }

  // The test role's conninfo; with `password` empty, none (the provider must supply it).
  std::string role_conninfo(const std::string& password) {
    std::string c = "host=" + m_fixture["host"] + " port=" + m_fixture["port"] + " dbname=" + m_fixture["dbname"] +
                    " user=" + m_role + " options=-csearch_path=" + m_schema->name() +
                    " application_name=" + m_schema->name() + " connect_timeout=10";
    if (!password.empty()) c += " password=" + password;
    return c;
  }

  std::unique_ptr<Store> open_store(const std::string& conninfo, PasswordSource& source, int pool_size = 4) {
    PostgresStoreOptions options;
    options.conninfo = conninfo;
    options.pool_size = pool_size;
    options.password_candidates = source.provider();
    auto store = cartorio::store::open_postgres_store(options);
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? std::move(store).value() : nullptr;
  }

  // Backend pids of the test role's server sessions.
  std::set<int> role_backends() {
    auto pids = m_schema->query_value("SELECT COALESCE(string_agg(pid::text, ','), '') FROM pg_stat_activity "
                                      "WHERE usename = '" + m_role + "'");
    EXPECT_TRUE(pids) << pids.error().to_string();
    std::set<int> out;
    if (!pids) return out;
    std::istringstream list(*pids);
    for (std::string pid; std::getline(list, pid, ',');)
      if (!pid.empty()) out.insert(std::stoi(pid));
    return out;
  }

  // Polls until none of `gone` is a session of the role any more (a closed client's backend
  // leaves pg_stat_activity shortly after). False if some are still there after ~10 s.
  bool wait_until_gone(const std::set<int>& gone) {
    for (int i = 0; i < 500; ++i) {
      bool any = false;
      for (int pid : role_backends()) any = any || gone.count(pid) > 0;
      if (!any) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Changes the password the way a caller must: provider first (new, then current), then
  // the store, then the provider without the old one. Returns the new password.
  std::string rotate(Store& store, PasswordSource& source, const std::string& current) {
    const std::string next = "pw-" + random_hex(24);
    source.set({next, current});
    auto changed = store.change_own_password(next);
    EXPECT_TRUE(changed) << changed.error().to_string();
    if (!changed) {
      source.set({current});
      return current;
    }
    EXPECT_EQ(changed.error().message.find(next), std::string::npos);
    source.set({next});
    return next;
  }

  std::optional<PostgresTestSchema> m_schema;
  std::map<std::string, std::string> m_fixture;
  std::string m_role;
  std::string m_password;
  bool m_role_created = false;
};

TEST_F(PostgresPasswordRotation, ChangedPassword_IsUsedByTheStore_AndTheOldOneIsRefused) {
  PasswordSource source;
  source.set({m_password});
  // The conninfo keeps the password of the first login: after the change it is stale.
  auto store = open_store(role_conninfo(m_password), source);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->insert_certificate(make_cert("a1")));
  const std::set<int> before = role_backends();
  ASSERT_FALSE(before.empty());

  const std::string next = rotate(*store, source, m_password);
  ASSERT_NE(next, m_password);

  // The pool's sessions were retired (idle ones closed at once) and the store goes on.
  EXPECT_TRUE(wait_until_gone(before));
  auto got = store->get_certificate("a1");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->subject, "CN=a1");
  auto inserted = store->insert_certificate(make_cert("a2"));
  EXPECT_TRUE(inserted) << inserted.error().to_string();
  for (int pid : role_backends()) EXPECT_EQ(before.count(pid), 0u) << "session " << pid << " was not re-opened";

  // The server itself: the old password is refused, the new one accepted.
  const std::string old_login = login_error(role_conninfo(m_password));
  EXPECT_NE(old_login.find("password authentication failed"), std::string::npos) << old_login;
  EXPECT_EQ(login_error(role_conninfo(next)), "");

  // A store that has no password but the provider's opens with the new one.
  PasswordSource only_new;
  only_new.set({next});
  auto second = open_store(role_conninfo(""), only_new);
  ASSERT_TRUE(second);
  auto count = second->count_certificates();
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 2);
}

TEST_F(PostgresPasswordRotation, RotatesThreeTimesUnderLoad_WithoutAFailedOperation) {
  PasswordSource source;
  source.set({m_password});
  auto store = open_store(role_conninfo(m_password), source, 4);
  ASSERT_TRUE(store);

  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0}, appended{0}, failures{0};
  std::mutex error_mutex;
  std::string first_error;
  auto failed = [&](const std::string& what) {
    ++failures;
    std::lock_guard lock(error_mutex);
    if (first_error.empty()) first_error = what;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        AuditEvent e;
        e.time = 1000 + i;
        e.actor = "thread:" + std::to_string(t);
        e.action = "test.rotation";
        e.target = std::to_string(i);
        e.result = "success";
        e.source = "local";
        auto id = store->append_audit_event(e);
        if (!id) {
          failed(id.error().to_string());
        } else {
          ++appended;
          AuditFilter f;
          f.after_id = *id - 1;
          f.limit = 1;
          auto read = store->list_audit_events(f);
          if (!read) failed(read.error().to_string());
          else if (read->size() != 1 || read->front().id != *id || read->front().actor != e.actor)
            failed("read back a different event for id " + std::to_string(*id));
        }
        ++attempts;
      }
    });
  }
  // Lets the workers make `n` more calls (each call ends, successful or not).
  auto let_run = [&](int n) {
    const int target = attempts.load() + n;
    while (attempts.load() < target) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };

  let_run(40);
  std::string current = m_password;
  std::set<int> retired;  // every session seen before a rotation
  std::vector<std::string> old_passwords;
  for (int round = 0; round < 3; ++round) {
    for (int pid : role_backends()) retired.insert(pid);
    const std::string next = rotate(*store, source, current);
    if (next == current) break;  // already reported
    old_passwords.push_back(current);
    current = next;
    let_run(40);  // the load goes on through the re-opening of the pool
  }
  stop = true;
  for (auto& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0) << "first failure: " << first_error;
  EXPECT_EQ(old_passwords.size(), 3u);
  // Every write landed once.
  AuditFilter all;
  all.limit = 10000;
  auto events = store->list_audit_events(all);
  ASSERT_TRUE(events) << events.error().to_string();
  EXPECT_EQ(static_cast<int>(events->size()), appended.load());

  // Every pooled session from before the rotations was closed, and the ones serving now
  // were opened after them.
  ASSERT_FALSE(retired.empty());
  EXPECT_TRUE(wait_until_gone(retired));
  ASSERT_TRUE(store->check());
  const auto now = role_backends();
  EXPECT_FALSE(now.empty());
  for (int pid : now) EXPECT_EQ(retired.count(pid), 0u) << "session " << pid << " predates a rotation";

  for (const auto& old : old_passwords) {
    const std::string refused = login_error(role_conninfo(old));
    EXPECT_NE(refused.find("password authentication failed"), std::string::npos) << refused;
  }
  EXPECT_EQ(login_error(role_conninfo(current)), "");
}

TEST_F(PostgresPasswordRotation, Reconnects_WithTheNewPassword_AfterTheServerDropsTheSessions) {
  // Two instances of the application share the role and the provider's source (a secret
  // file): `rotating` changes the password; `other` keeps the session it opened with the old
  // one (PostgreSQL checks passwords only at login) until the server drops it.
  PasswordSource source;
  source.set({m_password});
  auto rotating = open_store(role_conninfo(m_password), source, 2);
  ASSERT_TRUE(rotating);
  auto other = open_store(role_conninfo(m_password), source, 1);
  ASSERT_TRUE(other);
  ASSERT_TRUE(rotating->insert_certificate(make_cert("c1")));
  const std::set<int> other_sessions = role_backends();

  const std::string next = rotate(*rotating, source, m_password);
  ASSERT_NE(next, m_password);
  ASSERT_TRUE(rotating->get_certificate("c1"));  // a session opened with the new password
  ASSERT_TRUE(other->get_certificate("c1"));     // still its session of the old password
  bool kept_old_session = false;
  for (int pid : role_backends()) kept_old_session = kept_old_session || other_sessions.count(pid) > 0;
  ASSERT_TRUE(kept_old_session) << "the other store's session should predate the rotation";

  // From the fixture's session: end every session of the role, as a server restart would.
  auto killed = m_schema->query_value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE usename = '" + m_role + "'");
  ASSERT_TRUE(killed) << killed.error().to_string();
  ASSERT_NE(*killed, "0") << "the stores had no session to end";
  ASSERT_TRUE(wait_until_gone(role_backends()));  // the stores are idle: nothing re-opens them
  ASSERT_TRUE(role_backends().empty());

  // Each read finds its session dead and reconnects once: through the provider (the new
  // password), not by replaying the first login (old password, in the conninfo too, refused
  // now). The first call after the drop must already succeed.
  auto got = other->get_certificate("c1");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->subject, "CN=c1");
  auto got_rotating = rotating->get_certificate("c1");
  ASSERT_TRUE(got_rotating) << got_rotating.error().to_string();
  EXPECT_TRUE(other->check());
  auto inserted = other->insert_certificate(make_cert("c2"));
  EXPECT_TRUE(inserted) << inserted.error().to_string();
  EXPECT_FALSE(role_backends().empty());
}

TEST_F(PostgresPasswordRotation, AWrongCandidate_FallsThroughToTheNext_AndToTheConninfoLast) {
  // No password in the conninfo: the second candidate logs in.
  PasswordSource wrong_first;
  wrong_first.set({"", "wrong-" + random_hex(8), m_password});
  auto store = open_store(role_conninfo(""), wrong_first);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->insert_certificate(make_cert("d1")));
  EXPECT_GE(wrong_first.calls(), 1);

  // Every candidate refused: the conninfo's own password is tried last.
  PasswordSource all_wrong;
  all_wrong.set({"wrong-" + random_hex(8)});
  auto fallback = open_store(role_conninfo(m_password), all_wrong);
  ASSERT_TRUE(fallback);
  auto count = fallback->count_certificates();
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 1);
}

TEST_F(PostgresPasswordRotation, FailsUnavailable_WhenNoCandidateLogsIn_WithoutEchoingThem) {
  PasswordSource source;
  source.set({"canary-first", "canary-second"});
  PostgresStoreOptions options;
  options.conninfo = role_conninfo("canary-conninfo");
  options.password_candidates = source.provider();
  auto store = cartorio::store::open_postgres_store(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::store_unavailable);
  const std::string& message = store.error().message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_NE(message.find("refused 2 provided passwords"), std::string::npos) << message;
  EXPECT_EQ(message.find("canary"), std::string::npos) << message;
}

TEST_F(PostgresPasswordRotation, RejectsAnEmptyPassword_AndKeepsTheCurrentOne) {
  PasswordSource source;
  source.set({m_password});
  auto store = open_store(role_conninfo(""), source);
  ASSERT_TRUE(store);
  auto empty = store->change_own_password("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
  auto nul = store->change_own_password(std::string_view("ab\0cd", 5));
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().code, Errc::invalid_argument);
  EXPECT_EQ(login_error(role_conninfo(m_password)), "");
  EXPECT_TRUE(store->check());
}

// A server that is down is tried once, whatever the number of candidates.
TEST(PostgresPasswordProvider, ServerDown_FailsUnavailable_AfterOneAttempt) {
  // Nothing listens on port 1.
  PasswordSource source;
  source.set({"canary-a", "canary-b", "canary-c"});
  PostgresStoreOptions options;
  options.conninfo = "host=127.0.0.1 port=1 dbname=x user=y connect_timeout=10";
  options.password_candidates = source.provider();
  auto store = cartorio::store::open_postgres_store(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::store_unavailable);
  EXPECT_EQ(store.error().message.find("canary"), std::string::npos) << store.error().message;
  EXPECT_EQ(source.calls(), 1);

  // A "server" that accepts and hangs up at once: counts the login attempts libpq makes.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::thread server([&] {
    while (!stop.load()) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        int c = ::accept(listener, nullptr, nullptr);
        if (c >= 0) {
          ++accepted;
          ::close(c);
        }
      }
    }
  });
  options.conninfo = "host=127.0.0.1 port=" + std::to_string(port) +
                     " dbname=x user=y sslmode=disable gssencmode=disable connect_timeout=10";
  auto hung_up = cartorio::store::open_postgres_store(options);
  stop = true;
  server.join();
  ::close(listener);
  ASSERT_FALSE(hung_up);
  EXPECT_EQ(hung_up.error().code, Errc::store_unavailable);
  EXPECT_EQ(hung_up.error().message.find("canary"), std::string::npos) << hung_up.error().message;
  EXPECT_EQ(accepted.load(), 1) << "one login attempt expected, not one per candidate";
}

TEST(StorePasswordChange, SqliteStore_HasNoPassword) {
  cartorio::testing::TempDir dir;
  auto store = cartorio::store::open_sqlite_store((dir / "store.db").string());
  ASSERT_TRUE(store) << store.error().to_string();
  auto changed = (*store)->change_own_password("new-secret");
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, Errc::not_supported);
  EXPECT_NE(changed.error().message.find("sqlite store has no password"), std::string::npos)
      << changed.error().message;
  EXPECT_EQ(changed.error().message.find("new-secret"), std::string::npos);
  EXPECT_TRUE((*store)->check());
}

// ConnectionPool::retire_all with fake connections.
class CountedConnection final : public sql::SqlConnection {
 public:
  explicit CountedConnection(std::atomic<int>* alive) : m_alive(alive) { ++*m_alive; }
  ~CountedConnection() override { --*m_alive; }
  cartorio::core::Result<sql::SqlResult> query(std::string_view, const std::vector<sql::SqlValue>&,
                                              sql::StatementKind) override {
    return sql::SqlResult{};
  }
  cartorio::core::Result<void> exec_script(std::string_view) override { return cartorio::core::ok(); }
  cartorio::core::Result<void> begin(sql::TxMode) override { return cartorio::core::ok(); }
  cartorio::core::Result<void> commit() override { return cartorio::core::ok(); }
  cartorio::core::Result<void> rollback() override { return cartorio::core::ok(); }
  bool healthy() const override { return true; }

 private:
  std::atomic<int>* m_alive;
};

TEST(ConnectionPoolRetire, ClosesIdleAtOnce_AndLeasedOnRelease) {
  std::atomic<int> alive{0};
  int opened = 0;
  sql::ConnectionPool pool(
      std::make_unique<CountedConnection>(&alive),
      [&]() -> cartorio::core::Result<std::unique_ptr<sql::SqlConnection>> {
        ++opened;
        return std::unique_ptr<sql::SqlConnection>(std::make_unique<CountedConnection>(&alive));
      },
      2, std::chrono::milliseconds(50));
  auto leased = std::make_optional(pool.acquire());
  ASSERT_TRUE(*leased);
  sql::SqlConnection* old_leased = &***leased;
  {
    auto second = pool.acquire();  // opened on demand, then back to idle
    ASSERT_TRUE(second);
  }
  EXPECT_EQ(opened, 1);
  EXPECT_EQ(alive.load(), 2);

  pool.retire_all();
  EXPECT_EQ(alive.load(), 1) << "the idle connection is closed at once";
  // The leased one is untouched while in use.
  EXPECT_TRUE((**leased)->query("SELECT 1", {}, sql::StatementKind::read));

  auto fresh = pool.acquire();  // the freed slot: a new connection
  ASSERT_TRUE(fresh);
  EXPECT_EQ(opened, 2);
  EXPECT_NE(&**fresh, old_leased);
  leased.reset();  // released after the retirement: closed, not pooled
  EXPECT_EQ(alive.load(), 1);

  auto next = pool.acquire();  // the pool has a free slot again
  ASSERT_TRUE(next);
  EXPECT_EQ(opened, 3);
  EXPECT_EQ(alive.load(), 2);
}

TEST(ConnectionPoolRetire, KeepsConnectionsOpenedAfterwards) {
  std::atomic<int> alive{0};
  int opened = 0;
  sql::ConnectionPool pool(
      std::make_unique<CountedConnection>(&alive),
      [&]() -> cartorio::core::Result<std::unique_ptr<sql::SqlConnection>> {
        ++opened;
        return std::unique_ptr<sql::SqlConnection>(std::make_unique<CountedConnection>(&alive));
      },
      1, std::chrono::milliseconds(50));
  pool.retire_all();
  EXPECT_EQ(alive.load(), 0);
  sql::SqlConnection* first = nullptr;
  {
    auto a = pool.acquire();
    ASSERT_TRUE(a);
    first = &**a;
  }
  auto b = pool.acquire();  // the new-generation connection was pooled and is reused
  ASSERT_TRUE(b);
  EXPECT_EQ(&**b, first);
  EXPECT_EQ(opened, 1);
}

}  // namespace
