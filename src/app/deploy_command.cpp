#include "app/deploy_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

extern char** environ;

namespace cartorio::app {

using core::Errc;

namespace {

struct FileActions {
  posix_spawn_file_actions_t a;
  FileActions() { posix_spawn_file_actions_init(&a); }
  ~FileActions() { posix_spawn_file_actions_destroy(&a); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

struct SpawnAttr {
  posix_spawnattr_t a;
  SpawnAttr() { posix_spawnattr_init(&a); }
  ~SpawnAttr() { posix_spawnattr_destroy(&a); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// The last `max` bytes the command printed, for the error message.
std::string tail_of(std::FILE* out, long max = 600) {
  std::fflush(out);
  if (std::fseek(out, 0, SEEK_END) != 0) return "";
  const long size = std::ftell(out);
  const long from = size > max ? size - max : 0;
  std::fseek(out, from, SEEK_SET);
  std::string text(static_cast<std::size_t>(size - from), '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? "" : ": " + text;
}

std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    const auto name = entry.substr(0, eq);
    bool replaced = false;
    for (const auto& [k, v] : extra) replaced = replaced || k == name;
    if (!replaced) out.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) {
    std::string& line = out.emplace_back(k);
    line += '=';
    line += v;
  }
  return out;
}

}  // namespace

std::vector<std::string> split_command(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

core::Result<void> run_command(const CommandSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty())
    return core::Error{Errc::invalid_argument, "the deploy command is empty"};
  std::unique_ptr<std::FILE, FileCloser> out(std::tmpfile());  // deleted when closed
  if (!out) return core::Error{Errc::io_error, std::string("cannot make a temporary file: ") + std::strerror(errno)};

  FileActions actions;
  posix_spawn_file_actions_addopen(&actions.a, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions.a, fileno(out.get()), 1);
  posix_spawn_file_actions_adddup2(&actions.a, fileno(out.get()), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions.a, 3);  // database sockets, key files...
  SpawnAttr attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr.a, &none);
  posix_spawnattr_setsigdefault(&attr.a, &all);
  posix_spawnattr_setpgroup(&attr.a, 0);
  posix_spawnattr_setflags(&attr.a, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto env_strings = child_environment(spec.env);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  if (const int rc = posix_spawnp(&pid, argv[0], &actions.a, &attr.a, argv.data(), envp.data()); rc != 0)
    return core::Error{Errc::io_error, "the deploy command " + spec.argv.front() + " cannot start: " + std::strerror(rc)};

  const auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR)
      return core::Error{Errc::io_error, std::string("waiting for the deploy command: ") + std::strerror(errno)};
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);  // its whole process group: what it started dies with it
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return core::Error{Errc::timed_out, "the deploy command " + spec.argv.front() + " ran past " +
                                              std::to_string(spec.timeout.count()) + " ms and was killed" +
                                              tail_of(out.get())};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return core::ok();
  const std::string how = WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return core::Error{Errc::io_error, "the deploy command " + spec.argv.front() + " " + how + tail_of(out.get())};
}

}  // namespace cartorio::app
