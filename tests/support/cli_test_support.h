// What the CLI integration tests (tests/cli/) share beyond test_support.h: which backends
// a run is for, and command output without its trailing line break.
#pragma once

#include <cstdlib>
#include <string>

namespace cartorio::testing {

// CARTORIO_TEST_BACKENDS=postgres: the variant of a test registered against the PostgreSQL
// fixture (the same binary runs the embedded variant otherwise).
inline bool postgres_mode() {
  const char* b = std::getenv("CARTORIO_TEST_BACKENDS");
  return b && std::string(b) == "postgres";
}

// `s` without trailing newlines, carriage returns and spaces.
inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace cartorio::testing
