// Concurrent callers: a refresh token and a TOTP code are each used once, however many
// requests race with them ("every member may be called concurrently").
#include "identity_test_support.h"

#include <atomic>
#include <latch>
#include <thread>

namespace cartorio::identity::test {
namespace {

using core::Errc;

class ConcurrencyTest : public IdentityFixture {};

constexpr int kThreads = 4;

TEST_F(ConcurrencyTest, ARefreshTokenRotatesOnceAndTheRaceEndsTheSession) {
  create_user("zed", {Role::service});
  auto g = password_grant("zed");
  ASSERT_TRUE(g.ok());
  std::atomic<int> rotated{0}, refused{0};
  std::vector<std::string> new_access(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      auto r = refresh_grant(g.tokens().refresh_token);
      if (r.ok()) {
        ++rotated;
        new_access[static_cast<std::size_t>(i)] = r.tokens().access_token;
      } else if (r.error().error == OAuthError::invalid_grant) {
        ++refused;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(rotated.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  // The losers presented a used token: reuse detection ended the session, winner included.
  for (const auto& a : new_access)
    if (!a.empty()) EXPECT_ERRC(svc().authenticate_bearer(a), Errc::unauthenticated);
}

TEST_F(ConcurrencyTest, ATotpCodeLogsInOnce) {
  auto e = create_enrolled_user("yara", {Role::clerk});
  const std::string code = totp_now(e.secret_base32);
  std::atomic<int> ok{0}, refused{0};
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      go.arrive_and_wait();
      auto g = password_grant("yara", kPassword, code);
      if (g.ok()) ++ok;
      else if (g.error().error == OAuthError::invalid_grant) ++refused;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
}

TEST_F(ConcurrencyTest, ParallelLoginsAndVerificationsAcrossARotation) {
  create_user("xavi", {Role::service});
  std::atomic<int> failures{0};
  std::latch go(kThreads + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      go.arrive_and_wait();
      for (int n = 0; n < 10; ++n) {
        auto g = password_grant("xavi");
        if (!g.ok() || !svc().authenticate_bearer(g.tokens().access_token)) ++failures;
      }
    });
  go.arrive_and_wait();
  for (int n = 0; n < 3; ++n) EXPECT_TRUE(svc().rotate_signing_key(Actor{"user:root"}));
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cartorio::identity::test
