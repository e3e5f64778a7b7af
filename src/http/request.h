// An HTTP request as handlers see it: no Beast, no sockets.
//
// The server builds one per request and hands it to the Router, which fills the path
// parameters; handlers receive it as `const Request&`. Tests build requests with create().
// Plain value type, not synchronised.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "http/headers.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartorio::http {

enum class Method { get, head, post, put, patch, delete_, options, other };

// "GET", "HEAD", ...; "OTHER" for Method::other.
std::string_view method_name(Method m);
// Exact (case-sensitive, RFC 9110 9.1) match of a method token; Method::other otherwise.
Method parse_method(std::string_view token);

// A client certificate the server verified during the TLS handshake (mTLS), as text: the
// identity a handler authorises on. No OpenSSL types, so handlers stay plain C++.
struct ClientCertificate {
  std::string subject_cn;          // the last (most specific) commonName; "" when none
  std::string subject_dn;          // RFC 2253, "CN=svc,O=Cartorio Digital,C=BR"
  std::string issuer_dn;           // RFC 2253
  std::string serial;              // lowercase hex, no leading zeros
  std::string sha256_fingerprint;  // lowercase hex of SHA-256 over the DER certificate
  core::TimePoint not_before;
  core::TimePoint not_after;
  // subjectAltName entries by kind, in certificate order (service identities live here).
  std::vector<std::string> san_dns;
  std::vector<std::string> san_uris;
  std::vector<std::string> san_ips;     // "10.0.0.1", "::1"
  std::vector<std::string> san_emails;
};

// application/x-www-form-urlencoded (also a query string): the name=value pairs in order,
// decoded ('+' is a space); nullopt when an escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view encoded);

class Request {
 public:
  using Param = std::pair<std::string, std::string>;

  // `target` is the request-target in origin form ("/crl/tls.crl?x=1") or absolute form
  // ("http://host/crl/tls.crl"). Errc::malformed_input when it is neither, or when the
  // path has a bad percent-escape or an encoded NUL.
  static core::Result<Request> create(std::string_view method, std::string target);

  Method method() const { return m_method; }
  // The method token as received ("GET", or "PROPFIND" for Method::other).
  const std::string& method_token() const { return m_method_token; }
  // The request-target as received, query included.
  const std::string& target() const { return m_target; }
  // The path, percent-decoded, without the query ("/crl/tls.crl").
  const std::string& path() const { return m_path; }
  // The path as received (still percent-encoded); the router splits this one, so an
  // encoded "/" (%2F) stays inside its segment.
  const std::string& raw_path() const { return m_raw_path; }
  // The query string without '?', still encoded; empty when absent.
  const std::string& query() const { return m_query; }
  // First value of query parameter `name`, decoded ('+' is a space); nullopt when absent
  // or badly encoded.
  std::optional<std::string> query_param(std::string_view name) const;

  // First value of header `name` (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const { return m_headers.get(name); }
  const Headers& headers() const { return m_headers; }
  Headers& headers() { return m_headers; }

  const std::string& body() const { return m_body; }
  void set_body(std::string body) { m_body = std::move(body); }

  // Peer IP address ("127.0.0.1", "::1"); empty for requests built in tests.
  const std::string& remote_address() const { return m_remote_address; }
  void set_remote_address(std::string a) { m_remote_address = std::move(a); }

  // The client certificate verified on this connection's TLS handshake; nullopt on plain
  // HTTP, or over TLS when the client sent none (client_auth optional).
  const std::optional<ClientCertificate>& client_certificate() const { return m_client_certificate; }
  void set_client_certificate(std::optional<ClientCertificate> c) { m_client_certificate = std::move(c); }

  // The id echoed in X-Request-Id and written in every log line about this request.
  const std::string& request_id() const { return m_request_id; }
  void set_request_id(std::string id) { m_request_id = std::move(id); }

  // The pattern of the route that matched ("/ocsp/{ca}/{request...}"); empty before
  // dispatch or when none matched. A bounded label for metrics, unlike the path.
  const std::string& route() const { return m_route; }
  void set_route(std::string r) { m_route = std::move(r); }

  // Path parameter from the matched route pattern ("/crl/{name}.crl" -> param("name")),
  // decoded; empty when the route has no such parameter.
  std::string_view param(std::string_view name) const;
  const std::vector<Param>& params() const { return m_params; }
  void set_params(std::vector<Param> params) { m_params = std::move(params); }

 private:
  Method m_method = Method::get;
  std::string m_method_token = "GET";
  std::string m_target = "/";
  std::string m_path = "/";
  std::string m_raw_path = "/";
  std::string m_query;
  std::string m_route;
  Headers m_headers;
  std::string m_body;
  std::string m_remote_address;
  std::optional<ClientCertificate> m_client_certificate;
  std::string m_request_id;
  std::vector<Param> m_params;
};

}  // namespace cartorio::http
