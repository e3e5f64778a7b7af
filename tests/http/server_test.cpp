// The server in-process on 127.0.0.1:0, driven by real curl and, where curl cannot say
// it (malformed requests, pipelining, HEAD bytes on the wire, slow clients), raw sockets.
#include "http/server.h"

#include "support/test_support.h"
#include "test_clients.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cartorio::http {
namespace {

using namespace std::chrono_literals;
using cartorio::testing::run;
using cartorio::testing::shell_quote;

using testing::CurlReply;
using testing::RawClient;
using testing::Reply;
using testing::curl;
using testing::parse_reply;

// What the test handlers record; shared with the router's lambdas.
struct Probe {
  std::atomic<int> upload_calls{0};
  std::atomic<bool> slow_entered{false};
};

Router make_router(const std::shared_ptr<Probe>& probe) {
  Router r;
  auto must = [](const core::Result<void>& added) {
    if (!added) throw std::logic_error(added.error().to_string());
  };
  must(r.get("/healthz", [](const Request&) { return Response::text("ok\n"); }));
  must(r.get("/crl/{name}.crl", [](const Request& q) {
    return Response::bytes("application/pkix-crl", "crl-of-" + std::string(q.param("name")));
  }));
  must(r.get("/ca/{name}.crt", [](const Request& q) {
    return Response::bytes("application/pkix-cert", "cert-of-" + std::string(q.param("name")));
  }));
  must(r.post("/upload", [probe](const Request& q) {
    ++probe->upload_calls;
    return Response::text(std::to_string(q.body().size()));
  }));
  must(r.get("/whoami", [](const Request& q) {
    nlohmann::json j{{"request_id", q.request_id()}, {"remote", q.remote_address()},
                     {"q", q.query_param("q").value_or("")}, {"agent", q.header("user-agent").value_or("")}};
    return Response::json(j.dump());
  }));
  must(r.get("/boom", [](const Request&) -> Response { throw std::runtime_error("connection string password=hunter2"); }));
  must(r.get("/slow", [probe](const Request&) {
    probe->slow_entered = true;
    std::this_thread::sleep_for(500ms);
    return Response::text("slow done");
  }));
  must(r.get("/cached", [](const Request&) {
    return Response::text("c").set_header("Cache-Control", "public, max-age=60");
  }));
  must(r.get("/inject", [](const Request&) {
    return Response::text("i").set_header("X-Evil", "a\r\nSet-Cookie: pwned=1").set_header("Content-Length", "999");
  }));
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  static ServerOptions options() {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    return o;
  }
  void start(ServerOptions o = options()) {
    m_server = std::make_unique<Server>(std::move(o), make_router(m_probe));
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_NE(m_server->port(), 0);
  }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(m_server->port()) + std::string(path);
  }
  std::string quoted_url(std::string_view path) const { return shell_quote(url(path)); }

  std::shared_ptr<Probe> m_probe = std::make_shared<Probe>();
  std::unique_ptr<Server> m_server;
};

nlohmann::json problem_of(const Reply& r) {
  EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "", "application/problem+json");
  return nlohmann::json::parse(r.body, nullptr, false);
}

bool is_generated_id(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_F(ServerTest, Get_ServesBodyWithSecurityHeaders) {
  start();
  auto r = curl(quoted_url("/healthz"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers["content-length"], "3");
  EXPECT_EQ(r.headers["server"], "cartorio");
  EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(r.headers["x-frame-options"], "DENY");
  EXPECT_EQ(r.headers["referrer-policy"], "no-referrer");
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  EXPECT_TRUE(r.headers.count("date"));
  EXPECT_TRUE(is_generated_id(r.headers["x-request-id"])) << r.headers["x-request-id"];
}

TEST_F(ServerTest, PathParams_SuffixForm) {
  start();
  auto crl = curl(quoted_url("/crl/document.crl"));
  EXPECT_EQ(crl.status, 200);
  EXPECT_EQ(crl.body, "crl-of-document");
  EXPECT_EQ(crl.headers["content-type"], "application/pkix-crl");
  auto ca = curl(quoted_url("/ca/root.crt"));
  EXPECT_EQ(ca.status, 200);
  EXPECT_EQ(ca.body, "cert-of-root");
  EXPECT_EQ(curl(quoted_url("/crl/tls")).status, 404);
}

TEST_F(ServerTest, Head_SendsGetHeadersWithoutBody) {
  start();
  auto head = curl("-I " + quoted_url("/crl/tls.crl"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(std::string("crl-of-tls").size()));
  EXPECT_EQ(head.headers["content-type"], "application/pkix-crl");

  // On the wire: the header block and then nothing, although Content-Length says 10.
  RawClient raw(m_server->port());
  ASSERT_TRUE(raw.send("HEAD /crl/tls.crl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  std::string wire = raw.read_until_close(&closed);
  EXPECT_TRUE(closed);
  ASSERT_NE(wire.find("\r\n\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.find("\r\n\r\n") + 4), "");
  EXPECT_EQ(parse_reply(wire).headers["content-length"], "10");
}

TEST_F(ServerTest, UnknownPath_404ProblemJson) {
  start();
  auto r = curl(quoted_url("/nope?token=abc"));
  EXPECT_EQ(r.status, 404);
  auto j = problem_of(r);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["type"], "urn:cartorio:problem:http.not_found");
  EXPECT_EQ(j["title"], "Not Found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["code"], "http.not_found");
  EXPECT_TRUE(j["detail"].is_string());
  EXPECT_EQ(j["request_id"], r.headers["x-request-id"]);
  EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
}

TEST_F(ServerTest, WrongMethod_405ProblemJsonWithAllow) {
  start();
  auto r = curl("-X DELETE " + quoted_url("/healthz"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  auto j = problem_of(r);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["code"], "http.method_not_allowed");
  EXPECT_EQ(j["status"], 405);
  EXPECT_EQ(j["request_id"], r.headers["x-request-id"]);
}

TEST_F(ServerTest, BodyOverLimit_413_HandlerNeverCalled) {
  auto o = options();
  o.max_body_bytes = 1024;
  start(o);
  cartorio::testing::TempDir dir;
  cartorio::testing::write_file(dir / "small", std::string(1000, 'a'));
  cartorio::testing::write_file(dir / "big", std::string(4096, 'b'));

  auto ok = curl("--data-binary @" + shell_quote((dir / "small").string()) + " " + quoted_url("/upload"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "1000");
  EXPECT_EQ(m_probe->upload_calls, 1);

  // Declared length over the limit: refused from the header alone.
  auto big = curl("--data-binary @" + shell_quote((dir / "big").string()) + " " + quoted_url("/upload"));
  EXPECT_EQ(big.status, 413);
  auto j = problem_of(big);
  ASSERT_TRUE(j.is_object()) << big.body;
  EXPECT_EQ(j["code"], "http.content_too_large");
  // Chunked, so the length is only known while reading.
  auto chunked = curl("-H 'Transfer-Encoding: chunked' --data-binary @" + shell_quote((dir / "big").string()) + " " +
                      quoted_url("/upload"));
  EXPECT_EQ(chunked.status, 413);
  // Expect: 100-continue: answered 413 instead of 100.
  auto expect = curl("-H 'Expect: 100-continue' --data-binary @" + shell_quote((dir / "big").string()) + " " +
                     quoted_url("/upload"));
  EXPECT_EQ(expect.status, 413);
  EXPECT_EQ(m_probe->upload_calls, 1);
}

TEST_F(ServerTest, ExpectContinue_100BeforeBody) {
  start();
  RawClient raw(m_server->port());
  ASSERT_TRUE(raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = raw.read_response(false);
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(raw.send("hello"));
  auto r = raw.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "5");
}

TEST_F(ServerTest, KeepAlive_TwoRequestsOneConnection) {
  start();
  auto r = curl("-o /dev/null " + quoted_url("/healthz") + " " + quoted_url("/ca/tls.crt"), "%{http_code}:%{num_connects} ");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.write_out, "200:1 200:0 ");
}

TEST_F(ServerTest, Pipelining_AnsweredInOrder) {
  start();
  RawClient raw(m_server->port());
  ASSERT_TRUE(raw.send("GET /crl/root.crl HTTP/1.1\r\nHost: x\r\n\r\n"
                       "HEAD /ca/tls.crt HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /ca/document.crt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto a = raw.read_response();
  auto b = raw.read_response(false);
  auto c = raw.read_response();
  EXPECT_EQ(a.body, "crl-of-root");
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.headers["content-length"], "11");
  EXPECT_EQ(c.body, "cert-of-document");
  EXPECT_EQ(c.headers["connection"], "close");
  bool closed = false;
  EXPECT_EQ(raw.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, Http10_ClosesUnlessKeepAliveAsked) {
  start();
  {
    RawClient raw(m_server->port());
    ASSERT_TRUE(raw.send("GET /healthz HTTP/1.0\r\n\r\n"));
    bool closed = false;
    auto r = parse_reply(raw.read_until_close(&closed));
    EXPECT_TRUE(closed);
    EXPECT_EQ(r.head.substr(0, 12), "HTTP/1.0 200");
    EXPECT_EQ(r.body, "ok\n");
  }
  {
    RawClient raw(m_server->port());
    ASSERT_TRUE(raw.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto first = raw.read_response();
    EXPECT_EQ(first.headers["connection"], "keep-alive");
    ASSERT_TRUE(raw.send("GET /ca/root.crt HTTP/1.0\r\n\r\n"));  // same connection
    auto second = raw.read_response();
    EXPECT_EQ(second.body, "cert-of-root");
  }
}

TEST_F(ServerTest, RequestId_EchoedWhenSane_GeneratedOtherwise) {
  start();
  auto kept = curl("-H 'X-Request-Id: abc-123.X_y' " + quoted_url("/whoami?q=hi+there"));
  EXPECT_EQ(kept.headers["x-request-id"], "abc-123.X_y");
  auto j = nlohmann::json::parse(kept.body);
  EXPECT_EQ(j["request_id"], "abc-123.X_y");
  EXPECT_EQ(j["remote"], "127.0.0.1");
  EXPECT_EQ(j["q"], "hi there");
  EXPECT_EQ(j["agent"].get<std::string>().substr(0, 5), "curl/");

  for (std::string bad : {std::string("has space"), std::string(65, 'a'), std::string("semi;colon"), std::string("\xc3\xa9")}) {
    auto r = curl("-H " + shell_quote("X-Request-Id: " + bad) + " " + quoted_url("/whoami"));
    EXPECT_TRUE(is_generated_id(r.headers["x-request-id"])) << bad << " -> " << r.headers["x-request-id"];
    EXPECT_EQ(nlohmann::json::parse(r.body)["request_id"], r.headers["x-request-id"]);
  }
  auto a = curl(quoted_url("/healthz")), b = curl(quoted_url("/healthz"));
  EXPECT_NE(a.headers["x-request-id"], b.headers["x-request-id"]);
}

TEST_F(ServerTest, ThrowingHandler_500ProblemWithoutExceptionText) {
  start();
  auto r = curl("-H 'X-Request-Id: boom-1' " + quoted_url("/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(r.body.find("password"), std::string::npos);
  auto j = problem_of(r);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["code"], "internal");
  EXPECT_EQ(j["request_id"], "boom-1");
  EXPECT_EQ(curl(quoted_url("/healthz")).status, 200);  // the server carries on
}

TEST_F(ServerTest, HandlerHeaders_CacheControlKept_InjectionDropped) {
  start();
  auto cached = curl(quoted_url("/cached"));
  EXPECT_EQ(cached.headers["cache-control"], "public, max-age=60");
  EXPECT_EQ(cached.headers["x-frame-options"], "DENY");

  auto inject = curl(quoted_url("/inject"));
  EXPECT_EQ(inject.status, 200);
  EXPECT_EQ(inject.headers.count("x-evil"), 0u);
  EXPECT_EQ(inject.headers.count("set-cookie"), 0u);
  EXPECT_EQ(inject.headers["content-length"], "1");
  EXPECT_EQ(inject.body, "i");
}

TEST_F(ServerTest, MalformedRequestLine_400AndClose) {
  start();
  for (std::string bad : std::initializer_list<std::string>{"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET /crl/%zz.crl HTTP/1.1\r\nHost: x\r\n\r\n",
                          "GET /x HTTP/1.1\r\nBad Header Name: v\r\n\r\n",
                          "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                          // framing or target made ambiguous: what request smuggling feeds on
                          "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                          "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
                          "GET /healthz HTTP/1.1\r\n\r\n",
                          "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    RawClient raw(m_server->port());
    ASSERT_TRUE(raw.send(bad));
    bool closed = false;
    auto r = parse_reply(raw.read_until_close(&closed));
    EXPECT_TRUE(closed) << bad;
    EXPECT_EQ(r.status, 400) << bad;
    auto j = problem_of(r);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["status"], 400);
    EXPECT_EQ(j["request_id"], r.headers["x-request-id"]);
  }
  EXPECT_EQ(m_probe->upload_calls, 0);
}

TEST_F(ServerTest, AbsoluteFormAndHttp10WithoutHost_Served) {
  start();
  RawClient raw(m_server->port());
  ASSERT_TRUE(raw.send("GET http://ignored.example/ca/tls.crt HTTP/1.1\r\nHost: ignored.example\r\n\r\n"
                       "GET /healthz HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(raw.read_response().body, "cert-of-tls");
  EXPECT_EQ(raw.read_response().body, "ok\n");
}

TEST_F(ServerTest, MaxConnections_ExtraConnectionClosedAtOnce) {
  auto o = options();
  o.max_connections = 1;
  start(o);
  auto first = std::make_unique<RawClient>(m_server->port());
  ASSERT_TRUE(first->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(first->read_response().status, 200);  // now surely registered
  {
    RawClient extra(m_server->port());
    bool closed = false;
    EXPECT_EQ(extra.read_until_close(&closed), "");
    EXPECT_TRUE(closed);
  }
  first.reset();
  // The slot frees once the server notices the close: retry for a while.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(20ms);
    status = curl(quoted_url("/healthz")).status;
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ServerTest, OverlongHeaders_431AndClose) {
  auto o = options();
  o.max_header_bytes = 1024;
  start(o);
  RawClient raw(m_server->port());
  ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'z') + "\r\n\r\n"));
  bool closed = false;
  auto r = parse_reply(raw.read_until_close(&closed));
  EXPECT_TRUE(closed);
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(problem_of(r)["code"], "http.header_too_large");
}

TEST_F(ServerTest, SlowAndIdleClients_AreDisconnected) {
  auto o = options();
  o.read_timeout = 500ms;
  o.idle_timeout = 300ms;
  start(o);
  auto t0 = std::chrono::steady_clock::now();
  RawClient slow(m_server->port());
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // and never the blank line
  bool closed = false;
  EXPECT_EQ(slow.read_until_close(&closed), "");
  EXPECT_TRUE(closed);  // by the server, not our 10 s receive timeout

  RawClient idle(m_server->port());  // sends nothing at all
  EXPECT_EQ(idle.read_until_close(&closed), "");
  EXPECT_TRUE(closed);

  RawClient keep(m_server->port());  // one request, then silence on the kept-alive connection
  ASSERT_TRUE(keep.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(keep.read_response().status, 200);
  EXPECT_EQ(keep.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 9s);
}

TEST_F(ServerTest, Stop_LetsInFlightRequestFinish_ThenRefuses) {
  start();
  CurlReply slow;
  std::thread client([&] { slow = curl(quoted_url("/slow")); });
  for (int i = 0; i < 1000 && !m_probe->slow_entered; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(m_probe->slow_entered);
  auto port = m_server->port();
  m_server->stop();  // while the handler sleeps
  client.join();
  EXPECT_EQ(slow.exit_code, 0) << slow.err;
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, "slow done");
  m_server->wait();  // returns: already stopped
  auto after = curl("--max-time 5 http://127.0.0.1:" + std::to_string(port) + "/healthz");
  EXPECT_NE(after.exit_code, 0);
  m_server->stop();  // idempotent
}

TEST_F(ServerTest, Stop_ClosesIdleKeepAliveConnectionsPromptly) {
  auto o = options();
  o.idle_timeout = 60s;
  o.stop_timeout = 30s;
  start(o);
  RawClient raw(m_server->port());
  ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(raw.read_response().status, 200);
  std::thread waiter([&] { m_server->wait(); });
  auto t0 = std::chrono::steady_clock::now();
  m_server->stop();
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);  // not the 30 s stop_timeout
  bool closed = false;
  EXPECT_EQ(raw.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, Start_OnBusyPort_ReturnsIoError) {
  start();
  auto o = options();
  o.listen = "127.0.0.1:" + std::to_string(m_server->port());
  Server second(o, Router{});
  auto r = second.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::io_error);
  EXPECT_NE(r.error().message.find(o.listen), std::string::npos) << r.error().message;
  EXPECT_EQ(curl(quoted_url("/healthz")).status, 200);  // the first one is unharmed
}

TEST_F(ServerTest, Start_OnMalformedAddress_ReturnsIoError) {
  for (const char* listen : {"nonsense", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", "example.invalid:80",
                             "::1:80", "[::1", "300.1.1.1:80"}) {
    auto o = options();
    o.listen = listen;
    Server s(o, Router{});
    auto r = s.start();
    ASSERT_FALSE(r) << listen;
    EXPECT_EQ(r.error().code, core::Errc::io_error) << listen;
    s.wait();  // never started: returns at once
  }
}

TEST_F(ServerTest, Start_Twice_IsRefused) {
  start();
  auto again = m_server->start();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::Errc::invalid_argument);
}

TEST_F(ServerTest, AccessLog_OneJsonLinePerRequest_WithoutQuery) {
  start();
  ::testing::internal::CaptureStderr();
  auto r = curl("-H 'X-Request-Id: log-1' " + quoted_url("/crl/tls.crl?token=s3cr3t"));
  m_server->stop();  // the line is written after the response: stop() waits for it
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(err.find("s3cr3t"), std::string::npos) << err;
  nlohmann::json line;
  std::istringstream in(err);
  for (std::string l; std::getline(in, l);) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "http.request") line = j;
  }
  ASSERT_TRUE(line.is_object()) << err;
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["path"], "/crl/tls.crl");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["bytes"], 10);
  EXPECT_TRUE(line["duration_ms"].is_number_integer());
  EXPECT_EQ(line["remote"], "127.0.0.1");
  EXPECT_EQ(line["request_id"], "log-1");
}

}  // namespace
}  // namespace cartorio::http
