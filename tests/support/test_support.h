// Helpers shared by the test suites.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// Assertions on core::Result values, printing the error when they fail.
#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& assert_ok_r_ = (expr);                                    \
    ASSERT_TRUE(assert_ok_r_) << assert_ok_r_.error().to_string();   \
  } while (0)

#define EXPECT_ERRC(expr, errc)                                                        \
  do {                                                                                 \
    auto&& expect_errc_r_ = (expr);                                                    \
    ASSERT_FALSE(expect_errc_r_) << "expected " #errc;                                 \
    EXPECT_EQ(expect_errc_r_.error().code, errc) << expect_errc_r_.error().to_string(); \
  } while (0)

namespace cartorio::testing {

// EXPECT that `text` contains `what`, showing the whole text when it does not.
void expect_contains(const std::string& text, const std::string& what);

// A fresh directory under the build tree's tmp, removed when the object dies
// (kept when CARTORIO_KEEP_TEST_DIRS is set, for post-mortems).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::string str() const { return m_path.string(); }
  std::filesystem::path operator/(const std::string& p) const { return m_path / p; }

 private:
  std::filesystem::path m_path;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `sh -c command`, capturing stdout and stderr (through temp files, so a chatty
// command cannot dead-lock on a pipe).
CommandResult run(const std::string& command);

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);

// Contents of the file an environment variable names, trimmed; nullopt when unset.
std::optional<std::string> read_env_file(const char* env_var);

// Single-quote for sh.
std::string shell_quote(const std::string& s);

// `<env> cartorio serve` on two free loopback ports, in the background, logging to `log`.
struct ServedInstance {
  std::string pid;
  std::string http;        // "http://127.0.0.1:PORT"
  std::string https;       // "https://127.0.0.1:PORT"
  std::string https_port;
};
// Waits (up to 20 s) for the "server.started" log line; empty urls when it never came.
ServedInstance start_serve(const std::string& env, const std::string& binary, const std::filesystem::path& log);

}  // namespace cartorio::testing
