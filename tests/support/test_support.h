// Helpers shared by the test suites.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::testing {

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

}  // namespace cartorio::testing
