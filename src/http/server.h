// The HTTP/1.1 server: Boost.Beast/Asio behind a pimpl, so no Beast header leaks out.
//
// One io_context run by `threads` threads; each connection is serialised on its own
// strand. Handlers run on those threads, so a slow handler holds one of them: keep
// handlers short or raise `threads`. Keep-alive, HTTP/1.0, `Connection: close`,
// `Expect: 100-continue` and pipelining (answered in order) are handled.
//
// Per response the server adds X-Request-Id (the client's when it matches
// [A-Za-z0-9._-]{1,64}, else a fresh random one), Server, Date, X-Content-Type-Options,
// X-Frame-Options, Referrer-Policy and Cache-Control: no-store (unless the handler set
// Cache-Control), and logs one "http.request" line (path without the query string).
// Errors before a handler runs: malformed request -> 400, body over max_body_bytes ->
// 413 (the handler never sees it), header over max_header_bytes -> 431; each closes the
// connection. A client too slow to send its request in read_timeout is disconnected.
//
// With `tls` set the listener speaks only HTTPS (TLS 1.2/1.3, see http/tls.h): every
// response carries Strict-Transport-Security, and handlers see a verified client
// certificate on Request::client_certificate(). A process that also needs plain HTTP
// (OCSP, CRLs) runs a second Server without `tls`.
#pragma once

#include "core/error.h"
#include "http/router.h"
#include "http/tls.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cartorio::http {

struct ServerOptions {
  // "HOST:PORT" with an IP literal, "localhost", or empty/"*" for every IPv4 interface;
  // "[::1]:8080" for IPv6. Port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:8080";
  unsigned threads = 0;                            // 0: hardware_concurrency, at least 1
  std::size_t max_body_bytes = 1024 * 1024;        // larger -> 413
  std::size_t max_header_bytes = 16 * 1024;       // request line + fields; larger -> 431
  std::chrono::milliseconds read_timeout{30'000};  // whole request, from its first byte
  std::chrono::milliseconds write_timeout{30'000}; // whole response
  std::chrono::milliseconds idle_timeout{10'000};  // waiting for a request on an open connection
  std::chrono::milliseconds stop_timeout{10'000};  // stop(): grace for in-flight requests
  std::size_t max_connections = 1024;              // beyond: accepted and closed at once
  // Called before routing; a Response it returns is sent instead (e.g. 429 from a rate
  // limiter). Must be thread-safe and quick.
  std::function<std::optional<Response>(const Request&)> admission;
  // Called once per answered request (metrics). Must be thread-safe and quick.
  struct Completed {
    std::string_view method;
    std::string_view route;  // the matched pattern, "" when none matched
    int status = 0;
    std::chrono::microseconds duration{0};
  };
  std::function<void(const Completed&)> observer;
  std::optional<TlsOptions> tls;                   // set: HTTPS only on this listener
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();  // stop()s
  Server(const Server&) = delete;  // owns sockets and threads
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads. Errc::io_error when the address is malformed,
  // busy or not local; Errc::invalid_argument when called twice or after stop(); with
  // TLS, the errors of set_tls_identity() for the configured identity and trust anchors.
  core::Result<void> start();
  // Replaces the certificate and key without a restart (renewal): connections accepted
  // afterwards present the new identity; established ones keep theirs. Client-auth
  // settings stay as configured. Thread-safe, callable before or after start().
  // Errc::invalid_argument when the server has no TLS, the key does not match the
  // certificate or the certificate is unusable (e.g. key too weak); the previous
  // identity then stays in use.
  core::Result<void> set_tls_identity(const TlsIdentity& identity);
  // The bound port (the chosen one when listening on port 0); 0 before start().
  std::uint16_t port() const;
  // Graceful: stops accepting, closes idle keep-alive connections, lets in-flight requests
  // finish (answered with Connection: close) for up to stop_timeout, then drops what remains
  // and joins the threads. Idempotent; thread-safe. NOTE: never call it from a handler
  // (it joins the thread the handler runs on): post to another thread instead.
  void stop();
  // Blocks until stop() has completed (returns at once if never started).
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cartorio::http
