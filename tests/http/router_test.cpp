#include "http/router.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace cartorio::http {
namespace {

Request make(std::string_view method, std::string target) {
  auto r = Request::create(method, std::move(target));
  EXPECT_TRUE(r) << r.error().to_string();
  return std::move(r).value();
}

// A handler that answers "<tag> <param=value>..." so tests see which route ran with what.
Handler tagged(std::string tag) {
  return [tag](const Request& req) {
    std::string out = tag;
    for (const auto& [k, v] : req.params()) out += " " + k + "=" + v;
    return Response::text(out);
  };
}

TEST(Router, ParamWithSuffix_MatchesContractPaths) {
  Router r;
  ASSERT_TRUE(r.get("/crl/{name}.crl", tagged("crl")));
  ASSERT_TRUE(r.get("/ca/{name}.crt", tagged("ca")));
  auto req = make("GET", "/crl/document.crl");
  EXPECT_EQ(r.dispatch(req).body(), "crl name=document");
  EXPECT_EQ(req.param("name"), "document");
  auto ca = make("GET", "/ca/root.crt");
  EXPECT_EQ(r.dispatch(ca).body(), "ca name=root");
  for (const char* miss : {"/crl/tls", "/crl/.crl", "/crl/tls.crl/x", "/ca/root.crl"}) {
    auto m = make("GET", miss);
    EXPECT_EQ(r.dispatch(m).status(), 404) << miss;
  }
}

TEST(Router, PrefixParamAndDecodedValues) {
  Router r;
  ASSERT_TRUE(r.get("/api/v{version}/items/{id}", tagged("item")));
  auto req = make("GET", "/api/v1/items/a%2Fb%20c");  // %2F stays inside the segment
  EXPECT_EQ(r.dispatch(req).body(), "item version=1 id=a/b c");
}

TEST(Router, RestParam_TakesRemainingSegments) {
  Router r;
  ASSERT_TRUE(r.add(Method::get, "/ocsp/{ca}/{request...}", tagged("ocsp")));
  auto req = make("GET", "/ocsp/tls/MEow/AB+c=");
  EXPECT_EQ(r.dispatch(req).body(), "ocsp ca=tls request=MEow/AB+c=");
  auto bare = make("GET", "/ocsp/tls");
  EXPECT_EQ(r.dispatch(bare).status(), 404);
}

TEST(Router, MostSpecificRouteWins_RegardlessOfOrder) {
  Router r;
  ASSERT_TRUE(r.get("/x/{any...}", tagged("rest")));
  ASSERT_TRUE(r.get("/x/{name}", tagged("param")));
  ASSERT_TRUE(r.get("/x/{name}.crl", tagged("affixed")));
  ASSERT_TRUE(r.get("/x/root.crl", tagged("literal")));
  auto lit = make("GET", "/x/root.crl");
  EXPECT_EQ(r.dispatch(lit).body(), "literal");
  auto aff = make("GET", "/x/tls.crl");
  EXPECT_EQ(r.dispatch(aff).body(), "affixed name=tls");
  auto par = make("GET", "/x/tls");
  EXPECT_EQ(r.dispatch(par).body(), "param name=tls");
  auto rest = make("GET", "/x/a/b");
  EXPECT_EQ(r.dispatch(rest).body(), "rest any=a/b");
}

TEST(Router, Head_FallsBackToGet_ExplicitHeadWins) {
  Router r;
  ASSERT_TRUE(r.get("/a", tagged("get-a")));
  ASSERT_TRUE(r.get("/b", tagged("get-b")));
  ASSERT_TRUE(r.add(Method::head, "/b", tagged("head-b")));
  auto a = make("HEAD", "/a");
  EXPECT_EQ(r.dispatch(a).body(), "get-a");  // the server drops the body on the wire
  auto b = make("HEAD", "/b");
  EXPECT_EQ(r.dispatch(b).body(), "head-b");
}

TEST(Router, UnknownPath_404Problem) {
  Router r;
  ASSERT_TRUE(r.get("/healthz", tagged("h")));
  auto req = make("GET", "/nope");
  auto res = r.dispatch(req);
  EXPECT_EQ(res.status(), 404);
  auto j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["code"], "http.not_found");
  EXPECT_EQ(j["status"], 404);
}

TEST(Router, KnownPathWrongMethod_405WithAllow) {
  Router r;
  ASSERT_TRUE(r.get("/ocsp/{ca}", tagged("get")));
  ASSERT_TRUE(r.post("/ocsp/{ca}", tagged("post")));
  ASSERT_TRUE(r.add(Method::delete_, "/thing", tagged("del")));
  auto req = make("PUT", "/ocsp/tls");
  auto res = r.dispatch(req);
  EXPECT_EQ(res.status(), 405);
  EXPECT_EQ(res.header("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(nlohmann::json::parse(res.body())["code"], "http.method_not_allowed");
  auto other = make("BREW", "/thing");
  auto res2 = r.dispatch(other);
  EXPECT_EQ(res2.status(), 405);
  EXPECT_EQ(res2.header("Allow"), "DELETE");
}

TEST(Router, ThrowingHandler_500WithoutTheMessage) {
  Router r;
  ASSERT_TRUE(r.get("/boom", [](const Request&) -> Response { throw std::runtime_error("db password=hunter2"); }));
  ASSERT_TRUE(r.get("/boom2", [](const Request&) -> Response { throw 42; }));
  for (const char* path : {"/boom", "/boom2"}) {
    auto req = make("GET", path);
    req.set_request_id("rid-500");
    auto res = r.dispatch(req);
    EXPECT_EQ(res.status(), 500);
    EXPECT_EQ(res.body().find("hunter2"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(res.body())["code"], "internal");
  }
}

TEST(Router, Rejects_BadPatterns) {
  Router r;
  auto h = tagged("x");
  for (const char* p : {"", "nope", "/a/{", "/a/}", "/a/{x}{y}", "/a/{1x}", "/a/{}", "/a/{x}/{x}",
                        "/a/{rest...}/b", "/a/pre{rest...}", "/a?q"}) {
    auto res = r.get(p, h);
    ASSERT_FALSE(res) << p;
    EXPECT_EQ(res.error().code, core::Errc::invalid_argument) << p;
  }
  EXPECT_FALSE(r.add(Method::other, "/a", h));
  EXPECT_FALSE(r.get("/a", Handler{}));
}

TEST(Router, Rejects_DuplicateRoutesUpToParamNames) {
  Router r;
  ASSERT_TRUE(r.get("/crl/{name}.crl", tagged("a")));
  EXPECT_FALSE(r.get("/crl/{ca}.crl", tagged("b")));
  EXPECT_TRUE(r.post("/crl/{ca}.crl", tagged("c")));  // other method: fine
  EXPECT_TRUE(r.get("/crl/{ca}.der", tagged("d")));   // other suffix: fine
}

TEST(Router, RootAndTrailingSlashAreDistinct) {
  Router r;
  ASSERT_TRUE(r.get("/", tagged("root")));
  ASSERT_TRUE(r.get("/a", tagged("a")));
  auto root = make("GET", "/");
  EXPECT_EQ(r.dispatch(root).body(), "root");
  auto slash = make("GET", "/a/");
  EXPECT_EQ(r.dispatch(slash).status(), 404);
}

}  // namespace
}  // namespace cartorio::http
