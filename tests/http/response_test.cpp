#include "http/response.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace cartorio::http {
namespace {

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
