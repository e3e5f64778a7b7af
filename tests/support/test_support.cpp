#include "support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <unistd.h>
#include <sys/wait.h>

namespace cartorio::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("CARTORIO_TEST_TMPDIR");
  fs::path root = base ? fs::path(base) : fs::temp_directory_path();
  static std::atomic<int> counter{0};
  std::random_device rd;
  for (;;) {
    fs::path p = root / ("cartorio-test-" + std::to_string(::getpid()) + "-" +
                         std::to_string(counter++) + "-" + std::to_string(rd() % 100000));
    std::error_code ec;
    if (fs::create_directories(p, ec)) {
      m_path = p;
      break;
    }
  }
}

TempDir::~TempDir() {
  if (std::getenv("CARTORIO_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

void expect_contains(const std::string& text, const std::string& what) {
  EXPECT_NE(text.find(what), std::string::npos) << "missing \"" << what << "\" in:\n" << text;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void write_file(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

CommandResult run(const std::string& command) {
  TempDir tmp;
  auto out = tmp / "out", err = tmp / "err";
  std::string full = "( " + command + " ) >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) + " </dev/null";
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::optional<std::string> read_env_file(const char* env_var) {
  const char* v = std::getenv(env_var);
  if (!v || !*v) return std::nullopt;
  std::string s = read_file(v);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

ServedInstance start_serve(const std::string& env, const std::string& binary, const std::filesystem::path& log) {
  ServedInstance out;
  auto r = run(env + binary + " serve --listen-http 127.0.0.1:0 --listen 127.0.0.1:0 --threads 2 >" + log.string() +
               " 2>&1 & echo $!");
  if (r.exit_code != 0) return out;
  out.pid = r.out.substr(0, r.out.find('\n'));
  static const std::regex kStarted(R"re("msg":"server.started".*"port":([0-9]+).*"https_port":([0-9]+))re");
  for (int i = 0; i < 400; ++i) {
    std::smatch m;
    const std::string text = read_file(log);
    if (std::regex_search(text, m, kStarted)) {
      out.http = "http://127.0.0.1:" + std::string(m[1]);
      out.https_port = m[2];
      out.https = "https://127.0.0.1:" + out.https_port;
      return out;
    }
    run("sleep 0.05");
  }
  return out;
}

}  // namespace cartorio::testing
