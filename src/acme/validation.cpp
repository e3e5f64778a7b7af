#include "acme/validation.h"

#include "acme/jws.h"

#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "crypto/primitives.h"
#include "http/curl_easy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <strings.h>
#include <memory>
#include <optional>

namespace cartorio::acme {

using core::Errc;
using core::Error;

namespace {

// Answers larger than this are not a key authorization (RFC 8555 8.3 allows trailing whitespace).
constexpr std::size_t kMaxHttpBody = 8 * 1024;
constexpr char kAcmeTlsAlpn[] = "acme-tls/1";
// id-pe-acmeIdentifier (RFC 8737 3).
constexpr char kAcmeIdentifierOid[] = "1.3.6.1.5.5.7.1.31";

ValidationResult fail(std::string type, std::string detail, std::string address = {}) {
  ValidationResult r;
  r.failure = {std::move(type), std::move(detail)};
  r.address = std::move(address);
  return r;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  const void* src = sa->sa_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr)
                                             : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  if (inet_ntop(sa->sa_family, src, buf, sizeof buf) == nullptr) return {};
  return buf;
}

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const noexcept { freeaddrinfo(a); }
};

class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslDeleter {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  if (body->size() + n > kMaxHttpBody) return 0;  // aborts the transfer: CURLE_WRITE_ERROR
  body->append(data, n);
  return n;
}

// A non-blocking TCP connection to address:port, made within `timeout`.
core::Result<int> connect_with_timeout(const std::string& address, int port, std::chrono::seconds timeout) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    return Error(Errc::invalid_argument, "not an address: " + address);
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error(Errc::io_error, "socket: " + std::string(std::strerror(errno)));
  auto close_on_error = [fd](Error e) -> core::Result<int> {
    ::close(fd);
    return e;
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return close_on_error(Error(Errc::io_error, std::strerror(errno)));
  pollfd p{fd, POLLOUT, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count() * 1000));
  int so_error = 0;
  socklen_t so_len = sizeof so_error;
  if (ready <= 0) return close_on_error(Error(Errc::timed_out, "connect timed out"));
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0 || so_error != 0)
    return close_on_error(Error(Errc::io_error, std::strerror(so_error != 0 ? so_error : errno)));
  return fd;  // still non-blocking: the handshake runs against the same deadline
}

// OpenSSL writes to the socket with write(2): a peer that hangs up mid-handshake would raise
// SIGPIPE, whose default action ends the process. Blocked on this thread while the guard
// lives; what our writes raised is consumed before the mask is restored.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&m_pipe);
    sigaddset(&m_pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old);
  }
  ~SigpipeGuard() {
    const timespec none{0, 0};
    while (sigtimedwait(&m_pipe, nullptr, &none) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t m_pipe{};
  sigset_t m_old{};
};

}  // namespace

core::Result<std::vector<std::string>> NetworkValidator::allowed_addresses(const std::string& name) const {
  std::vector<std::string> out;
  if (name == "localhost" || ends_with(name, ".localhost")) {
    for (const char* loopback : {"127.0.0.1", "::1"}) {
      sockaddr_storage ss{};
      if (std::strchr(loopback, ':') == nullptr) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
        v4->sin_family = AF_INET;
        inet_pton(AF_INET, loopback, &v4->sin_addr);
      } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
        v6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, loopback, &v6->sin6_addr);
      }
      if (m_options.networks.allows(reinterpret_cast<sockaddr*>(&ss))) out.emplace_back(loopback);
    }
    if (out.empty()) return Error(Errc::permission_denied, "no address of " + name + " is a permitted validation target");
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (rc != 0) return Error(Errc::not_found, "cannot resolve " + name + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, AddrInfoDeleter> owner(found);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (!m_options.networks.allows(a->ai_addr)) continue;
    auto text = address_text(a->ai_addr);
    if (!text.empty() && std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
  }
  if (out.empty()) return Error(Errc::permission_denied, "no address of " + name + " is a permitted validation target");
  return out;
}

ValidationResult NetworkValidator::validate(const std::string& challenge_type, const std::string& name,
                                            const std::string& token, const std::string& key_authorization) {
  auto addresses = allowed_addresses(name);
  if (!addresses) {
    const bool refused = addresses.error().code == Errc::permission_denied;
    return fail(refused ? "rejectedIdentifier" : "dns", addresses.error().message);
  }
  ValidationResult last;
  // The first address that answers decides; one that cannot be reached passes to the next.
  // Two at most (one per family, as resolvers order them), so a name with many addresses
  // cannot hold a validation thread for many time limits.
  if (addresses->size() > 2) addresses->resize(2);
  for (const auto& address : *addresses) {
    last = challenge_type == "http-01" ? http01(name, address, token, key_authorization)
                                       : tls_alpn01(name, address, key_authorization);
    if (last.ok() || last.failure.type != "connection") return last;
  }
  return last;
}

namespace {

// The parts of an absolute URL curl parsed; nullopt when it is not http(s)://host[:port]/...
struct UrlParts {
  std::string scheme;
  std::string host;
  int port = 0;
};
std::optional<UrlParts> parse_url(const std::string& url) {
  struct UrlDeleter {
    void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
  };
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto part = [&](CURLUPart which, unsigned flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(u.get(), which, &value, flags) != CURLUE_OK || value == nullptr) return std::nullopt;
    std::string out(value);
    curl_free(value);
    return out;
  };
  auto scheme = part(CURLUPART_SCHEME, 0);
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port || (*scheme != "http" && *scheme != "https")) return std::nullopt;
  if (host->empty() || host->front() == '[') return std::nullopt;  // an address literal, not a name
  int port_number = 0;
  const char* port_end = port->data() + port->size();
  if (const auto [end, ec] = std::from_chars(port->data(), port_end, port_number); ec != std::errc() || end != port_end)
    return std::nullopt;
  return UrlParts{*scheme, *host, port_number};
}

}  // namespace

ValidationResult NetworkValidator::http01(const std::string& name, const std::string& address, const std::string& token,
                                          const std::string& key_authorization) const {
  if (!http::curl_ready()) return fail("serverInternal", "libcurl failed to initialise", address);
  // Redirects are followed by hand (RFC 8555 8.3: SHOULD), each hop to http(s) on port 80,
  // 443 or the validation port, at an address the network policy allows, pinned like the
  // first, all within the one time limit.
  constexpr int kMaxRedirects = 10;
  const auto deadline = std::chrono::steady_clock::now() + m_options.timeout;
  std::string url = "http://" + name + ":" + std::to_string(m_options.http01_port) + "/.well-known/acme-challenge/" + token;
  std::string host = name;
  int port = m_options.http01_port;
  std::string pinned = address;
  for (int hop = 0;; ++hop) {
    http::CurlHandle curl(curl_easy_init());
    if (!curl) return fail("serverInternal", "libcurl failed to initialise", pinned);
    // Pinned to the address the policy allowed: curl does not resolve the name again.
    const std::string pin = host + ":" + std::to_string(port) + ":" +
                            (pinned.find(':') != std::string::npos ? "[" + pinned + "]" : pinned);
    http::CurlList resolve;
    if (!http::curl_append(resolve, pin.c_str())) return fail("serverInternal", "out of memory", pinned);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail("connection", "validation ran out of time following redirects", pinned);
    std::string body;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);  // each hop is checked below
    // An https hop proves nothing by its certificate (it may be self-signed): the body does.
    curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "cartorio-acme-validator");
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    const CURLcode rc = curl_easy_perform(curl.get());
    if (rc == CURLE_WRITE_ERROR)
      return fail("incorrectResponse", "the answer is larger than a key authorization", pinned);
    if (rc != CURLE_OK) {
      std::string why = "fetching " + url;
      why += " from " + pinned;
      why += ": ";
      why += curl_easy_strerror(rc);
      return fail("connection", std::move(why), pinned);
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    const bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (redirect) {
      char* location = nullptr;
      curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &location);
      if (location == nullptr) return fail("unauthorized", url + " redirected without a Location", pinned);
      if (hop + 1 > kMaxRedirects) return fail("unauthorized", "too many redirects from " + url, pinned);
      const std::string next(location);
      auto parts = parse_url(next);
      if (!parts || (parts->port != 80 && parts->port != 443 && parts->port != m_options.http01_port))
        return fail("unauthorized",
                    url + " redirected to " + excerpt(next) + ": only http(s) to a name on port 80, 443 or " +
                        std::to_string(m_options.http01_port) + " is followed",
                    pinned);
      auto addresses = allowed_addresses(parts->host);
      if (!addresses) return fail("unauthorized", url + " redirected to a host that may not be reached", pinned);
      url = next;
      host = parts->host;
      port = parts->port;
      pinned = addresses->front();
      continue;
    }
    if (status != 200)
      return fail("unauthorized", url + " answered HTTP " + std::to_string(status) + ", not 200", pinned);
    while (!body.empty() && (body.back() == ' ' || body.back() == '\n' || body.back() == '\r' || body.back() == '\t'))
      body.pop_back();
    if (body != key_authorization) return fail("unauthorized", url + " did not answer the key authorization", pinned);
    ValidationResult ok;
    ok.address = address;
    return ok;
  }
}

ValidationResult NetworkValidator::tls_alpn01(const std::string& name, const std::string& address,
                                              const std::string& key_authorization) const {
  const SigpipeGuard no_sigpipe;
  auto fd = connect_with_timeout(address, m_options.tls_alpn01_port, m_options.timeout);
  if (!fd)
    return fail("connection",
                "connecting to " + address + ":" + std::to_string(m_options.tls_alpn01_port) + ": " + fd.error().message,
                address);
  Fd socket(*fd);
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail("serverInternal", "cannot create a TLS context", address);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // The certificate is self-signed by design (RFC 8737 3): it proves control, not identity.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  // One self-signed certificate is expected: no reason to accept 100 KB of them.
  SSL_CTX_set_max_cert_list(ctx.get(), 16 * 1024);
  std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(ctx.get()));
  if (!ssl) return fail("serverInternal", "cannot create a TLS session", address);
  static const unsigned char alpn[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
  SSL_set_alpn_protos(ssl.get(), alpn, sizeof alpn);
  SSL_set_tlsext_host_name(ssl.get(), name.c_str());
  SSL_set_fd(ssl.get(), socket.get());
  // The whole handshake within the time limit, however slowly the peer sends.
  const auto deadline = std::chrono::steady_clock::now() + m_options.timeout;
  for (;;) {
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int err = SSL_get_error(ssl.get(), rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      return fail("tls", "TLS handshake with " + address + " failed", address);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{socket.get(), static_cast<short>(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return fail("connection", "TLS handshake with " + address + " timed out", address);
  }
  const unsigned char* selected = nullptr;
  unsigned int selected_len = 0;
  SSL_get0_alpn_selected(ssl.get(), &selected, &selected_len);
  if (selected == nullptr || std::string_view(reinterpret_cast<const char*>(selected), selected_len) != kAcmeTlsAlpn)
    return fail("tls", address + " did not negotiate the acme-tls/1 protocol", address);
  crypto::X509Ptr cert(SSL_get1_peer_certificate(ssl.get()));
  SSL_shutdown(ssl.get());
  if (!cert) return fail("tls", address + " sent no certificate", address);

  // Exactly one subjectAltName: the dNSName under validation.
  crypto::GeneralNames sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  bool names_ok = sans && sk_GENERAL_NAME_num(sans.get()) == 1;
  if (names_ok) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), 0);
    // DNS names compare without regard to ASCII case (RFC 4343).
    names_ok = gn->type == GEN_DNS && static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)) == name.size() &&
               strncasecmp(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)), name.c_str(),
                           name.size()) == 0;
  }
  if (!names_ok) return fail("unauthorized", "the certificate must name exactly " + name, address);

  crypto::Asn1Object oid(OBJ_txt2obj(kAcmeIdentifierOid, 1));
  const int at = oid ? X509_get_ext_by_OBJ(cert.get(), oid.get(), -1) : -1;
  if (at < 0) return fail("unauthorized", "the certificate has no acmeIdentifier extension", address);
  X509_EXTENSION* ext = X509_get_ext(cert.get(), at);
  if (X509_EXTENSION_get_critical(ext) != 1)
    return fail("unauthorized", "the acmeIdentifier extension must be critical", address);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  const auto digest = crypto::sha256(crypto::as_bytes(key_authorization));
  // extnValue holds the DER of an OCTET STRING of the 32-byte digest.
  std::string expected = {0x04, 0x20};
  expected.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  if (std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                       static_cast<std::size_t>(ASN1_STRING_length(value))) != expected)
    return fail("unauthorized", "the acmeIdentifier does not match the key authorization", address);
  ValidationResult ok;
  ok.address = address;
  return ok;
}

}  // namespace cartorio::acme
