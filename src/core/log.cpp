#include "core/log.h"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>

namespace cartorio::core::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::shared_ptr<spdlog::logger> g_logger;
std::once_flag g_default_once;

spdlog::logger& logger() {
  std::call_once(g_default_once, [] {
    if (!g_logger) {
      g_logger = std::make_shared<spdlog::logger>("cartorio", std::make_shared<spdlog::sinks::stderr_sink_mt>());
      g_logger->set_pattern("%v");
    }
  });
  return *g_logger;
}

bool is_secret_key(std::string_view k) {
  static constexpr std::array<std::string_view, 7> kSecret = {
      "pin", "passphrase", "password", "secret", "token", "key_material", "authorization"};
  std::string lower(k);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(kSecret.begin(), kSecret.end(),
                     [&](std::string_view s) { return lower.find(s) != std::string::npos; });
}

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::off: return "off";
  }
  return "info";
}

}  // namespace

void init(Level level, Sink sink) {
  g_level.store(static_cast<int>(level));
  std::shared_ptr<spdlog::sinks::sink> s;
  if (sink == Sink::stdout_sink) s = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  else s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto l = std::make_shared<spdlog::logger>("cartorio", s);
  l->set_pattern("%v");
  l->flush_on(spdlog::level::trace);
  std::call_once(g_default_once, [] {});
  g_logger = std::move(l);
}

bool parse_level(std::string_view s, Level& out) {
  for (auto l : {Level::debug, Level::info, Level::warn, Level::error, Level::off})
    if (s == level_name(l)) { out = l; return true; }
  return false;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

std::string format_line(Level level, std::string_view msg, Fields fields, std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[40];
  std::size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(unix_ms % 1000));

  nlohmann::ordered_json j;
  j["ts"] = ts;
  j["level"] = level_name(level);
  j["msg"] = std::string(msg);
  for (const auto& f : fields) {
    std::string key(f.key);
    // A field may not overwrite the line's own ts/level/msg (log forging).
    if (key == "ts" || key == "level" || key == "msg") key.insert(0, "field_");
    if (is_secret_key(f.key)) { j[key] = "[redacted]"; continue; }
    std::visit([&](const auto& v) { j[key] = v; }, f.value);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  logger().info(format_line(level, msg, fields, ms));
}

}  // namespace cartorio::core::log
