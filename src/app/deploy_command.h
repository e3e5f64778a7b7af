// Runs an operator's command after a certificate renewal (renewal.deploy_command): no shell
// (the configured text is split on whitespace: no quoting, globbing or expansion), standard
// input from /dev/null, standard output and error kept for the error message, the
// inherited environment plus `env`, every signal unblocked and at its default (the server
// blocks SIGTERM for its own use), no descriptor of ours beyond 0-2, its own process group —
// killed as a whole when it runs past the time limit.
#pragma once

#include "core/error.h"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartorio::app {

// "a  b c" -> {"a", "b", "c"}.
std::vector<std::string> split_command(std::string_view text);

struct CommandSpec {
  std::vector<std::string> argv;  // argv[0] looked up in PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> env;  // set (or replaced) in the child's environment
  std::chrono::milliseconds timeout{30'000};
};

// Errc::invalid_argument for an empty command; Errc::io_error when it cannot start or exits
// other than 0 (the message ends with the last lines it printed); Errc::timed_out.
core::Result<void> run_command(const CommandSpec& spec);

}  // namespace cartorio::app
