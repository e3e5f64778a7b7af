#include "core/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace cartorio::core::log {
namespace {

using nlohmann::json;

constexpr std::int64_t kMs = 1700000000123;  // 2023-11-14T22:13:20.123Z

json parse_line(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a log line must be one line: " << line;
  json j = json::parse(line, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
  return j;
}

TEST(FormatLine, IsJsonWithTsLevelMsg) {
  json j = parse_line(format_line(Level::info, "certificate issued", {}, kMs));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.at("ts"), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j.at("level"), "info");
  EXPECT_EQ(j.at("msg"), "certificate issued");
  EXPECT_EQ(j.size(), 3u);
}

TEST(FormatLine, StartsWithTsLevelMsgInThatOrder) {
  const std::string line = format_line(Level::warn, "m", {{"a", 1}}, kMs);
  EXPECT_EQ(line.rfind("{\"ts\":", 0), 0u) << line;
  EXPECT_LT(line.find("\"level\""), line.find("\"msg\""));
  EXPECT_LT(line.find("\"msg\""), line.find("\"a\""));
}

TEST(FormatLine, NamesEveryLevel) {
  EXPECT_EQ(parse_line(format_line(Level::debug, "m", {}, kMs))["level"], "debug");
  EXPECT_EQ(parse_line(format_line(Level::info, "m", {}, kMs))["level"], "info");
  EXPECT_EQ(parse_line(format_line(Level::warn, "m", {}, kMs))["level"], "warn");
  EXPECT_EQ(parse_line(format_line(Level::error, "m", {}, kMs))["level"], "error");
}

TEST(FormatLine, PadsMillisecondsToThreeDigits) {
  EXPECT_EQ(parse_line(format_line(Level::info, "m", {}, 1700000000007))["ts"], "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(parse_line(format_line(Level::info, "m", {}, 0))["ts"], "1970-01-01T00:00:00.000Z");
}

TEST(FormatLine, KeepsFieldTypes) {
  json j = parse_line(format_line(Level::info, "m",
                                  {{"serial", "0a1b"}, {"count", 3}, {"big", std::int64_t{1} << 40},
                                   {"ok", true}, {"view", std::string_view("sv")}, {"owned", std::string("s")}},
                                  kMs));
  EXPECT_EQ(j["serial"], "0a1b");
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["big"], std::int64_t{1} << 40);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["view"], "sv");
  EXPECT_EQ(j["owned"], "s");
}

TEST(FormatLine, EscapesQuotesAndNewlines_StaysOneLine) {
  const std::string evil = "line1\n\"},{\"level\":\"error\"\r\t\x01";
  json j = parse_line(format_line(Level::info, evil, {{"path", evil}}, kMs));
  EXPECT_EQ(j["msg"], evil);
  EXPECT_EQ(j["path"], evil);
  EXPECT_EQ(j["level"], "info");
}

TEST(FormatLine, StaysValidJson_WithInvalidUtf8) {
  const std::string bad = "caf\xc3 \xff\xfe end";
  json j = parse_line(format_line(Level::info, bad, {{"name", bad}}, kMs));
  EXPECT_TRUE(j["msg"].is_string());
  EXPECT_NE(j["msg"].get<std::string>().find("end"), std::string::npos);
}

TEST(FormatLine, KeepsValidUtf8) {
  json j = parse_line(format_line(Level::info, "Cartório", {}, kMs));
  EXPECT_EQ(j["msg"], "Cartório");
}

class RedactsSecretField : public ::testing::TestWithParam<const char*> {};

TEST_P(RedactsSecretField, WhateverTheValueType) {
  const std::string key = GetParam();
  for (const Field& f : {Field(key, "hunter2-secret-value"), Field(key, 123456), Field(key, true)}) {
    const std::string line = format_line(Level::info, "m", {f}, kMs);
    json j = parse_line(line);
    EXPECT_EQ(j.at(key), "[redacted]") << line;
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_EQ(line.find("123456"), std::string::npos) << line;
  }
}

INSTANTIATE_TEST_SUITE_P(Names, RedactsSecretField,
                         ::testing::Values("pin", "PIN", "Pin", "passphrase", "PassPhrase", "password", "PASSWORD",
                                           "secret", "client_secret", "Secret", "token", "api_token", "TOKEN",
                                           "key_material", "Authorization", "user_pin", "db_password"));

TEST(FormatLine, KeepsOrdinaryFields) {
  json j = parse_line(format_line(Level::info, "m", {{"serial", "01"}, {"profile", "tls-server"}, {"ca", "tls"}}, kMs));
  EXPECT_EQ(j["serial"], "01");
  EXPECT_EQ(j["profile"], "tls-server");
  EXPECT_EQ(j["ca"], "tls");
}

TEST(FormatLine, FieldCannotOverwriteTsLevelOrMsg) {
  // A caller-supplied field named like a reserved key must not rewrite the line's own
  // timestamp, level or message (log forging, and the real message is lost).
  json j = parse_line(format_line(Level::error, "real message",
                                  {{"msg", "forged"}, {"level", "debug"}, {"ts", "1999-01-01T00:00:00.000Z"}}, kMs));
  EXPECT_EQ(j["msg"], "real message") << "regression: src/core/log.cpp:88 format_line: field \"msg\" overwrites the message";
  EXPECT_EQ(j["level"], "error") << "regression: src/core/log.cpp:88 format_line: field \"level\" overwrites the level";
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.123Z") << "regression: src/core/log.cpp:88 format_line: field \"ts\" overwrites the ts";
}

TEST(ParseLevel, AcceptsTheFiveNames) {
  Level l = Level::info;
  ASSERT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::debug);
  ASSERT_TRUE(parse_level("warn", l));
  EXPECT_EQ(l, Level::warn);
  ASSERT_TRUE(parse_level("error", l));
  EXPECT_EQ(l, Level::error);
  ASSERT_TRUE(parse_level("off", l));
  EXPECT_EQ(l, Level::off);
  ASSERT_TRUE(parse_level("info", l));
  EXPECT_EQ(l, Level::info);
}

TEST(ParseLevel, RejectsOthersAndLeavesOutputAlone) {
  Level l = Level::warn;
  EXPECT_FALSE(parse_level("INFO", l));
  EXPECT_FALSE(parse_level("warning", l));
  EXPECT_FALSE(parse_level("", l));
  EXPECT_EQ(l, Level::warn);
}

class LogWrite : public ::testing::Test {
 protected:
  void TearDown() override { init(Level::info, Sink::stderr_sink); }
};

TEST_F(LogWrite, EnabledFollowsTheInitLevel) {
  init(Level::warn, Sink::stderr_sink);
  EXPECT_FALSE(enabled(Level::debug));
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
  init(Level::debug, Sink::stderr_sink);
  EXPECT_TRUE(enabled(Level::debug));
}

TEST_F(LogWrite, WritesOneRedactedJsonLineToStderr_AndDropsBelowLevel) {
  init(Level::info, Sink::stderr_sink);
  ::testing::internal::CaptureStderr();
  debug("dropped", {{"x", 1}});
  info("kept", {{"serial", "ab"}, {"pin", "1234"}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.empty());
  ASSERT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  json j = parse_line(out.substr(0, out.size() - 1));
  EXPECT_EQ(j["msg"], "kept");
  EXPECT_EQ(j["serial"], "ab");
  EXPECT_EQ(j["pin"], "[redacted]");
  EXPECT_EQ(out.find("dropped"), std::string::npos);
}

}  // namespace
}  // namespace cartorio::core::log
