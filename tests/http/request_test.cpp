#include "http/request.h"

#include <gtest/gtest.h>

namespace cartorio::http {
namespace {

TEST(Request, SplitsAndDecodesPathAndQuery) {
  auto r = Request::create("GET", "/crl/a%20b.crl?x=1&y=two%20words");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->method(), Method::get);
  EXPECT_EQ(r->target(), "/crl/a%20b.crl?x=1&y=two%20words");
  EXPECT_EQ(r->path(), "/crl/a b.crl");
  EXPECT_EQ(r->raw_path(), "/crl/a%20b.crl");
  EXPECT_EQ(r->query(), "x=1&y=two%20words");
}

TEST(Request, QueryParam_DecodesPlusAndEscapes_FirstValueWins) {
  auto r = Request::create("GET", "/s?q=a+b%2Bc&q=second&flag&empty=&bad=%zz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->query_param("q"), "a b+c");
  EXPECT_EQ(r->query_param("flag"), "");
  EXPECT_EQ(r->query_param("empty"), "");
  EXPECT_EQ(r->query_param("missing"), std::nullopt);
  EXPECT_EQ(r->query_param("bad"), std::nullopt);
}

TEST(Request, AbsoluteFormTarget_UsesPathOnly) {
  auto r = Request::create("GET", "http://example.test:8080/ca/root.crt?a=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path(), "/ca/root.crt");
  EXPECT_EQ(r->query(), "a=1");
  auto bare = Request::create("GET", "http://example.test");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path(), "/");
}

TEST(Request, Rejects_BadTargets) {
  for (const char* t : {"", "crl/x", "*", "/bad%zzescape", "/trunc%4", "/nul%00byte"}) {
    auto r = Request::create("GET", t);
    ASSERT_FALSE(r) << t;
    EXPECT_EQ(r.error().code, core::Errc::malformed_input) << t;
  }
}

TEST(Request, Header_IsCaseInsensitive) {
  auto r = Request::create("POST", "/");
  ASSERT_TRUE(r);
  r->headers().add("Content-Type", "application/json");
  r->headers().add("X-Dup", "1");
  r->headers().add("x-dup", "2");
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(r->header("X-DUP"), "1");
  EXPECT_EQ(r->header("Accept"), std::nullopt);
}

TEST(Request, Method_UnknownTokenIsOther_CaseSensitive) {
  EXPECT_EQ(parse_method("DELETE"), Method::delete_);
  EXPECT_EQ(parse_method("get"), Method::other);
  EXPECT_EQ(parse_method("PROPFIND"), Method::other);
  auto r = Request::create("PROPFIND", "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method(), Method::other);
  EXPECT_EQ(r->method_token(), "PROPFIND");
}

TEST(Headers, Set_ReplacesEveryFieldOfThatName) {
  Headers h;
  h.add("Vary", "a");
  h.add("X", "1");
  h.add("vary", "b");
  h.set("VARY", "c");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("vary"), "c");
  h.remove("x");
  EXPECT_EQ(h.size(), 1u);
}

TEST(Request, ClientCertificate_AbsentUnlessTheServerSetsIt) {
  auto r = Request::create("GET", "/x");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->client_certificate().has_value());
  ClientCertificate c;
  c.subject_cn = "svc";
  c.serial = "1f";
  c.san_uris = {"spiffe://cartorio.test/svc"};
  r->set_client_certificate(c);
  Request copy = *r;  // still a plain value
  ASSERT_TRUE(copy.client_certificate());
  EXPECT_EQ(copy.client_certificate()->subject_cn, "svc");
  EXPECT_EQ(copy.client_certificate()->san_uris.front(), "spiffe://cartorio.test/svc");
}

}  // namespace
}  // namespace cartorio::http
