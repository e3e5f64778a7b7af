// Real clients for the server tests: curl, a raw TCP socket (for what curl will not send),
// and a blocking libssl client (to hold a TLS connection open across server-side events).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

namespace cartorio::http::testing {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string head;  // status line and header block as received
};

// Parses one "HTTP/1.x NNN ...\r\n<fields>\r\n\r\n<body>" text; body = whatever follows.
Reply parse_reply(const std::string& text);

struct CurlReply : Reply {
  int exit_code = -1;
  std::string write_out;  // what -w printed
  std::string err;
};

// curl with `args` (URLs included); headers of the last response, body, -w output.
CurlReply curl(const std::string& args, const std::string& write_out = "%{http_code}");

// A blocking client with a 10 s receive timeout; subclasses provide the byte transport.
class StreamClient {
 public:
  virtual ~StreamClient();
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  bool send(std::string_view data);
  // Everything until the peer closes; `closed` tells EOF/reset from the 10 s timeout.
  std::string read_until_close(bool* closed = nullptr);
  // One response: header block plus Content-Length bytes of body (none when !with_body).
  Reply read_response(bool with_body = true);

 protected:
  explicit StreamClient(std::uint16_t port);  // connects to 127.0.0.1:port
  enum class ReadEnd { data, closed, timed_out };
  virtual long write_some(const char* data, std::size_t n) = 0;
  virtual long read_some(char* buf, std::size_t n, ReadEnd& end) = 0;
  int m_fd = -1;

 private:
  bool fill();
  std::string m_pending;
};

class RawClient final : public StreamClient {
 public:
  explicit RawClient(std::uint16_t port) : StreamClient(port) {}

 private:
  long write_some(const char* data, std::size_t n) override;
  long read_some(char* buf, std::size_t n, ReadEnd& end) override;
};

// TLS over a blocking socket; the handshake (verifying the server against `ca_file` and
// the name "localhost") happens in the constructor, which throws when it fails.
class TlsClient final : public StreamClient {
 public:
  TlsClient(std::uint16_t port, const std::string& ca_file);
  // Lowercase hex serial of the certificate the server presented on this connection.
  std::string peer_serial() const;

 private:
  long write_some(const char* data, std::size_t n) override;
  long read_some(char* buf, std::size_t n, ReadEnd& end) override;
  struct CtxFree {
    void operator()(SSL_CTX* p) const noexcept;
  };
  struct SslFree {
    void operator()(SSL* p) const noexcept;
  };
  std::unique_ptr<SSL_CTX, CtxFree> m_ctx;
  std::unique_ptr<SSL, SslFree> m_ssl;
};

}  // namespace cartorio::http::testing
