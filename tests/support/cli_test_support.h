// What the CLI integration tests (tests/cli/) share beyond test_support.h: which backends
// a run is for, command output without its trailing line break, times for CARTORIO_FAKE_CLOCK.
#pragma once

#include <cstdlib>
#include <ctime>
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

// RFC 3339 (UTC) of now + `seconds`, for CARTORIO_FAKE_CLOCK.
inline std::string rfc3339_from_now(long long seconds) {
  const std::time_t t = std::time(nullptr) + static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cartorio::testing
