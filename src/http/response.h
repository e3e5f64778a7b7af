// An HTTP response as handlers build it: status, headers, body. No Beast.
//
// The server adds Content-Length, Date, Server, X-Request-Id, the security headers and
// Cache-Control: no-store (unless set here), and drops hop-by-hop fields a handler sets
// (Connection, Transfer-Encoding, Content-Length, ...). For HEAD it sends the headers of
// the response a GET would get, Content-Length included, without the body.
#pragma once

#include "http/headers.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cartorio::http {

class Response {
 public:
  Response() = default;
  explicit Response(int status) : m_status(status) {}

  // text/plain; charset=utf-8
  static Response text(std::string body, int status = 200);
  // application/json; the body is already serialised JSON (handlers use nlohmann::json::dump).
  static Response json(std::string body, int status = 200);
  // Any media type, binary-safe ("application/pkix-crl", DER in the string).
  static Response bytes(std::string content_type, std::string body, int status = 200);
  static Response bytes(std::string content_type, std::span<const std::uint8_t> body, int status = 200);
  // RFC 9457 application/problem+json with type "urn:cartorio:problem:<code>", title,
  // status, detail and code. The server adds "request_id" before sending, so handlers need
  // not pass it. `detail` reaches the client: never put internal error text in it.
  static Response problem(int status, std::string_view code, std::string_view title, std::string_view detail);

  int status() const { return m_status; }
  void set_status(int status) { m_status = status; }

  std::optional<std::string_view> header(std::string_view name) const { return m_headers.get(name); }
  Response& set_header(std::string name, std::string value) {
    m_headers.set(std::move(name), std::move(value));
    return *this;
  }
  const Headers& headers() const { return m_headers; }
  Headers& headers() { return m_headers; }

  const std::string& body() const { return m_body; }
  std::string& body() { return m_body; }
  void set_body(std::string body) { m_body = std::move(body); }

  // True when Content-Type is application/problem+json.
  bool is_problem() const;
  // Adds "request_id" to a problem body that lacks one; no-op for other responses or a
  // body that is not a JSON object. The server calls this on every response.
  void add_problem_request_id(std::string_view request_id);

 private:
  int m_status = 200;
  Headers m_headers;
  std::string m_body;
};

}  // namespace cartorio::http
