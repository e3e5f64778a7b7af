// Structured JSON logs, one object per line: {"ts":..., "level":..., "msg":..., fields...}.
// `serve` and `worker` log to stdout; other subcommands log to stderr so their stdout
// stays clean for PEM/JSON output. Fields whose key names a secret (pin, passphrase,
// password, secret, token, key_material) are written as "[redacted]" whatever their value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace cartorio::core::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

struct Field {
  std::string_view key;
  std::variant<std::string, std::int64_t, bool> value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};
using Fields = std::initializer_list<Field>;

enum class Sink { stdout_sink, stderr_sink };
void init(Level level, Sink sink);
bool parse_level(std::string_view s, Level& out);
bool enabled(Level level);

void write(Level level, std::string_view msg, Fields fields = {});
inline void debug(std::string_view m, Fields f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, Fields f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, Fields f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, Fields f = {}) { write(Level::error, m, f); }

// The JSON line write() would emit, without the trailing newline (for tests).
std::string format_line(Level level, std::string_view msg, Fields fields, std::int64_t unix_ms);

}  // namespace cartorio::core::log
