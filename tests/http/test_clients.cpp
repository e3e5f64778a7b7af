#include "test_clients.h"

#include "crypto/x509.h"
#include "support/test_support.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <sstream>
#include <stdexcept>

namespace cartorio::http::testing {

using cartorio::testing::run;
using cartorio::testing::shell_quote;

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

Reply parse_reply(const std::string& text) {
  Reply r;
  auto end = text.find("\r\n\r\n");
  r.head = text.substr(0, end);
  r.body = end == std::string::npos ? "" : text.substr(end + 4);
  std::istringstream in(r.head);
  std::string line;
  std::getline(in, line);
  if (line.size() >= 12) r.status = std::stoi(line.substr(9, 3));
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[lower(line.substr(0, colon))] = value;
  }
  return r;
}

CurlReply curl(const std::string& args, const std::string& write_out) {
  cartorio::testing::TempDir dir;
  auto headers = dir / "headers", body = dir / "body";
  auto r = run("curl -sS --noproxy '*' --max-time 30 -D " + shell_quote(headers.string()) + " -o " +
               shell_quote(body.string()) + " -w " + shell_quote(write_out) + " " + args);
  CurlReply out;
  out.exit_code = r.exit_code;
  out.write_out = r.out;
  out.err = r.err;
  std::string all_headers = cartorio::testing::read_file(headers);
  auto last = all_headers.rfind("HTTP/");  // skip "100 Continue" and earlier responses
  if (last != std::string::npos) static_cast<Reply&>(out) = parse_reply(all_headers.substr(last));
  out.body = cartorio::testing::read_file(body);
  return out;
}

StreamClient::StreamClient(std::uint16_t port) {
  m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (m_fd < 0) throw std::runtime_error("socket");
  timeval tv{10, 0};
  ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(m_fd);
    throw std::runtime_error("connect");
  }
}

StreamClient::~StreamClient() { ::close(m_fd); }

bool StreamClient::send(std::string_view data) {
  while (!data.empty()) {
    auto n = write_some(data.data(), data.size());
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string StreamClient::read_until_close(bool* closed) {
  std::string out = std::move(m_pending);
  m_pending.clear();
  char buf[4096];
  for (;;) {
    ReadEnd end = ReadEnd::data;
    auto n = read_some(buf, sizeof buf, end);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (closed) *closed = end != ReadEnd::timed_out;
    return out;
  }
}

Reply StreamClient::read_response(bool with_body) {
  while (m_pending.find("\r\n\r\n") == std::string::npos)
    if (!fill()) return {};
  auto end = m_pending.find("\r\n\r\n") + 4;
  Reply head = parse_reply(m_pending.substr(0, end));
  std::size_t length = with_body && head.headers.count("content-length") ? std::stoul(head.headers["content-length"]) : 0;
  while (m_pending.size() < end + length)
    if (!fill()) return {};
  Reply r = parse_reply(m_pending.substr(0, end + length));
  m_pending.erase(0, end + length);
  return r;
}

bool StreamClient::fill() {
  char buf[4096];
  ReadEnd end = ReadEnd::data;
  auto n = read_some(buf, sizeof buf, end);
  if (n <= 0) return false;
  m_pending.append(buf, static_cast<std::size_t>(n));
  return true;
}

long RawClient::write_some(const char* data, std::size_t n) { return ::send(m_fd, data, n, MSG_NOSIGNAL); }

long RawClient::read_some(char* buf, std::size_t n, ReadEnd& end) {
  auto got = ::recv(m_fd, buf, n, 0);
  if (got <= 0) end = got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? ReadEnd::timed_out : ReadEnd::closed;
  return got;
}

void TlsClient::CtxFree::operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
void TlsClient::SslFree::operator()(SSL* p) const noexcept { SSL_free(p); }

TlsClient::TlsClient(std::uint16_t port, const std::string& ca_file)
    : StreamClient(port), m_ctx(SSL_CTX_new(TLS_client_method())) {
  // libssl writes with write(2), not send(MSG_NOSIGNAL): writing to a connection the server
  // has closed must fail the call, not kill the test process.
  std::signal(SIGPIPE, SIG_IGN);
  if (!m_ctx || SSL_CTX_load_verify_locations(m_ctx.get(), ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("TLS client context");
  SSL_CTX_set_verify(m_ctx.get(), SSL_VERIFY_PEER, nullptr);
  m_ssl.reset(SSL_new(m_ctx.get()));
  if (!m_ssl || SSL_set_fd(m_ssl.get(), m_fd) != 1 || SSL_set_tlsext_host_name(m_ssl.get(), "localhost") != 1 ||
      SSL_set1_host(m_ssl.get(), "localhost") != 1)
    throw std::runtime_error("TLS client connection");
  if (SSL_connect(m_ssl.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("TLS handshake failed");
  }
}

std::string TlsClient::peer_serial() const { return crypto::serial_hex(SSL_get0_peer_certificate(m_ssl.get())); }

long TlsClient::write_some(const char* data, std::size_t n) {
  int w = SSL_write(m_ssl.get(), data, static_cast<int>(n));
  if (w <= 0) ERR_clear_error();
  return w;
}

long TlsClient::read_some(char* buf, std::size_t n, ReadEnd& end) {
  errno = 0;
  int got = SSL_read(m_ssl.get(), buf, static_cast<int>(n));
  if (got > 0) return got;
  int err = SSL_get_error(m_ssl.get(), got);
  bool timed_out = err == SSL_ERROR_WANT_READ || (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
  end = timed_out ? ReadEnd::timed_out : ReadEnd::closed;  // close_notify, EOF or reset
  ERR_clear_error();
  return got;
}

}  // namespace cartorio::http::testing
