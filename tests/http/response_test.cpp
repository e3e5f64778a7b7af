#include "http/response.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

namespace cartorio::http {
namespace {

// The slow, obvious formatting through gmtime_r, to check the arithmetic one against.
std::string reference_http_date(long long unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

TEST(HttpDate, IsImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 5.6.7's example
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(http_date(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
  EXPECT_EQ(http_date(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpDate, AgreesWithGmtimeAcrossCenturies) {
  std::mt19937_64 rng(7);
  // 1601 .. 9999: leap centuries (1600, 2000) and common ones (1700, 1900, 2100) included.
  std::uniform_int_distribution<long long> any(-11644473600LL, 253402300799LL);
  for (int i = 0; i < 200000; ++i) {
    const long long t = any(rng);
    ASSERT_EQ(http_date(t), reference_http_date(t)) << t;
  }
  for (long long day = -1; day <= 1; ++day)  // the edges of a day around a leap day
    for (long long t : {951782400LL + day * 86400 - 1, 951782400LL + day * 86400})
      EXPECT_EQ(http_date(t), reference_http_date(t)) << t;
}

TEST(Response, Problem_IsRfc9457WithStableType) {
  auto r = Response::problem(404, "pki.ca_not_found", "CA not found", "No CA named \"x\".");
  EXPECT_EQ(r.status(), 404);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_TRUE(r.is_problem());
  auto j = nlohmann::json::parse(r.body());
  EXPECT_EQ(j["type"], "urn:cartorio:problem:pki.ca_not_found");
  EXPECT_EQ(j["title"], "CA not found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["detail"], "No CA named \"x\".");
  EXPECT_EQ(j["code"], "pki.ca_not_found");
  EXPECT_FALSE(j.contains("request_id"));
}

TEST(Response, AddProblemRequestId_OnlyForProblemsWithoutOne) {
  auto p = Response::problem(400, "c", "t", "d");
  p.add_problem_request_id("rid-1");
  p.add_problem_request_id("rid-2");  // kept: the first one stays
  EXPECT_EQ(nlohmann::json::parse(p.body())["request_id"], "rid-1");

  auto t = Response::text("hello");
  t.add_problem_request_id("rid");
  EXPECT_EQ(t.body(), "hello");
}

TEST(Response, Helpers_SetMediaTypes) {
  EXPECT_EQ(Response::text("x").header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Response::json("{}", 201).header("Content-Type"), "application/json");
  EXPECT_EQ(Response::json("{}", 201).status(), 201);
  std::vector<std::uint8_t> der = {0x30, 0x00, 0xff};
  auto b = Response::bytes("application/pkix-crl", der);
  EXPECT_EQ(b.header("content-type"), "application/pkix-crl");
  EXPECT_EQ(b.body(), std::string("\x30\x00\xff", 3));
}

TEST(Response, Problem_SurvivesInvalidUtf8InDetail) {
  auto p = Response::problem(400, "c", "t", std::string("bad \xff byte"));
  EXPECT_TRUE(nlohmann::json::accept(p.body()));
}

}  // namespace
}  // namespace cartorio::http
