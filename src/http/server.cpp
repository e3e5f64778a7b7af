#include "http/server.h"

#include "core/log.h"
#include "crypto/x509.h"
#include "http/detail/request_id.h"
#include "http/detail/tls_context.h"

// The only translation unit that includes Beast/Asio (compile time: see DESIGN.md).
// Fine-grained headers rather than <boost/beast.hpp>: about a third less to parse.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace cartorio::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using TlsContextPtr = std::shared_ptr<net::ssl::context>;

constexpr std::size_t kReadChunk = 4096;
// After a response that closes the connection we half-close and read (discarding) for a
// while, so unread request bytes do not make the kernel send RST, which could destroy the
// response before the client reads it (RFC 9112 9.6, "lingering close").
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerMaxBytes = 1024 * 1024;
// Two years, every subdomain (what hstspreload.org asks for); only ever sent over TLS,
// since over plain HTTP a network attacker could forge or strip it anyway (RFC 6797 7.2).
constexpr std::string_view kHsts = "max-age=63072000; includeSubDomains";

core::Result<tcp::endpoint> parse_listen(std::string_view listen) {
  auto bad = [&](const std::string& why) {
    return core::Error{core::Errc::io_error, "cannot listen on \"" + std::string(listen) + "\": " + why};
  };
  std::string_view host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return bad("expected [IPv6]:PORT");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return bad("expected HOST:PORT");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("write an IPv6 address as [ADDR]:PORT");
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad("port must be a number from 0 to 65535");
  unsigned long port_number = std::stoul(std::string(port));
  if (port_number > 65535) return bad("port must be a number from 0 to 65535");
  // Only literals: a name lookup at start-up could block on a broken resolver.
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  auto address = net::ip::make_address(std::string(host), ec);
  if (ec) return bad("host must be an IP address or \"localhost\"");
  return tcp::endpoint(address, static_cast<std::uint16_t>(port_number));
}

// RFC 9110 5.6.2 tchar, as a table: every response header name goes through it.
bool is_token(std::string_view s) {
  static constexpr auto kTchar = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<unsigned char>(c)] = t[static_cast<unsigned char>(c - 'a' + 'A')] = true;
    for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = true;
    return t;
  }();
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return kTchar[static_cast<unsigned char>(c)]; });
}

// CR/LF in a value would let a handler (or the data it echoes) inject headers.
bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// Framing and hop-by-hop fields are the server's to write, and so are the ones it stamps.
bool is_server_owned(std::string_view name) {
  static constexpr std::string_view kOwned[] = {"connection", "keep-alive",       "transfer-encoding", "content-length",
                                                "te",         "trailer",          "upgrade",           "proxy-connection",
                                                "date",       "server",           "x-request-id",
                                                "strict-transport-security"};
  return std::any_of(std::begin(kOwned), std::end(kOwned), [&](std::string_view o) { return iequals(o, name); });
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The state every connection shares; owned by Server::Impl, which outlives all sessions
// (its io_context, whose pending handlers hold the sessions, is destroyed first).
class SessionBase;
struct ServerCore {
  ServerCore(const ServerOptions& o, const Router& r) : options(o), router(r) {}
  const ServerOptions& options;
  const Router& router;

  std::mutex mutex;  // guards what follows
  std::condition_variable drained;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_id = 0;
  bool stopping = false;

  void unregister(std::uint64_t id) noexcept {
    std::lock_guard lock(mutex);
    sessions.erase(id);
    if (sessions.empty()) drained.notify_all();
  }
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void start() = 0;
  // Thread-safe: runs on the session's strand. Idle connections close at once, a request
  // in progress is answered with Connection: close.
  virtual void request_stop() = 0;
};

// One connection, on PlainStream or TlsStream: reads and writes go through m_stream,
// timeouts and closing through its lowest layer (the tcp_stream); TLS adds the handshake,
// the client certificate, HSTS and close_notify.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  // `tls` is the context current when the connection was accepted (null for plain): the
  // session keeps it, so replacing the server's identity never touches live connections.
  Session(tcp::socket socket, TlsContextPtr tls, ServerCore& core, std::uint64_t id, std::string remote)
      : m_tls(std::move(tls)),
        m_stream(make_stream(std::move(socket), m_tls.get())),
        m_core(core),
        m_id(id),
        m_remote(std::move(remote)) {}
  ~Session() override { m_core.unregister(m_id); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() override {
    net::dispatch(m_stream.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls)
        self->handshake();
      else
        self->wait_for_request();
    });
  }

  void request_stop() override {
    net::post(m_stream.get_executor(), [self = this->shared_from_this()] { self->on_stop_requested(); });
  }

 private:
  enum class Phase { handshaking, idle, reading, handling, writing, closing };

  static Stream make_stream(tcp::socket socket, net::ssl::context* tls) {
    if constexpr (kTls)
      return Stream(beast::tcp_stream(std::move(socket)), *tls);
    else
      return Stream(std::move(socket));
  }

  auto& lowest() { return beast::get_lowest_layer(m_stream); }
  const ServerOptions& options() const { return m_core.options; }

  // Binds a member completion handler that keeps the session alive until it runs.
  template <class F>
  auto bind(F f) {
    return [self = this->shared_from_this(), f](auto&&... args) { (self.get()->*f)(std::forward<decltype(args)>(args)...); };
  }

  void on_stop_requested() {
    m_stopping = true;
    // A pending read on an idle (or lingering) connection will never bring a request we
    // would answer: abort it. Requests being read or handled run to completion.
    if (m_phase == Phase::handshaking || m_phase == Phase::idle || m_phase == Phase::closing) lowest().cancel();
  }

  void handshake() {
    m_phase = Phase::handshaking;
    // Bounded: a client that connects and stalls (or speaks plain HTTP and waits) goes.
    lowest().expires_after(options().tls->handshake_timeout);
    m_stream.async_handshake(net::ssl::stream_base::server, bind(&Session::on_handshake));
  }

  void on_handshake(error_code ec) {
    if (ec) {
      log_handshake_failure(ec);
      return close_now();
    }
    // Read once: every request on this connection carries the same verified identity.
    m_client_certificate = detail::verified_client_certificate(m_stream.native_handle());
    wait_for_request();
  }

  // Scanners, plain-HTTP clients and refused client certificates end here: worth a line,
  // not a warning. Only OpenSSL's reason and the verify result, never key material.
  void log_handshake_failure(error_code ec) {
    if (m_stopping) return;
    std::string reason = ec == beast::error::timeout ? std::string("handshake timeout") : ec.message();
    std::string verify = detail::client_verify_failure(m_stream.native_handle());
    if (verify.empty())
      core::log::info("http.tls_handshake_failed", {{"remote", m_remote}, {"error", reason}});
    else
      core::log::info("http.tls_handshake_failed", {{"remote", m_remote}, {"error", reason}, {"client_certificate", verify}});
  }

  void wait_for_request() {
    if (m_stopping) return close_now();
    m_phase = Phase::idle;
    if (m_buffer.size() > 0) return read_request();  // pipelined: the next request is already here
    lowest().expires_after(options().idle_timeout);
    m_stream.async_read_some(m_buffer.prepare(kReadChunk), bind(&Session::on_first_bytes));
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    if (ec) return close_now();  // idle timeout, client closed, or stop()
    m_buffer.commit(n);
    read_request();
  }

  void read_request() {
    m_phase = Phase::reading;
    m_started = SteadyClock::now();
    m_parser.emplace();
    m_parser->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options().max_header_bytes, UINT32_MAX)));
    m_parser->body_limit(static_cast<std::uint64_t>(options().max_body_bytes));
    // One deadline for the whole request: a client dripping bytes (slowloris) cannot
    // extend it.
    lowest().expires_after(options().read_timeout);
    m_header_checked = false;
    read_more();
  }

  // One loop of async_read_some on the parser: it stops once after the header, where the
  // header is checked and 100 Continue sent, and then until the message is complete.
  void read_more() { bhttp::async_read_some(m_stream, m_buffer, *m_parser, bind(&Session::on_read)); }

  void on_read(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    if (!m_header_checked && m_parser->is_header_done()) {
      m_header_checked = true;
      if (!check_header()) return;  // answered already
      if (expects_continue()) {
        // The client waits for this before sending the body; limits were checked already
        // (a Content-Length over max_body_bytes failed the header read with body_limit).
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        net::async_write(m_stream, net::buffer(kContinue.data(), kContinue.size()), bind(&Session::on_continue_sent));
        return;
      }
    }
    if (m_parser->is_done()) return on_request();
    read_more();
  }

  // RFC 9112 3.2 and 6.3: Beast accepts these, but they make the framing or the target
  // ambiguous (request smuggling), so they are refused before anything else happens.
  bool check_header() {
    const auto& msg = m_parser->get();
    auto hosts = msg.count(bhttp::field::host);
    if (hosts > 1 || (hosts == 0 && msg.version() >= 11)) {
      send_error(400, "http.bad_request", "Bad Request", "An HTTP/1.1 request needs exactly one Host field.");
      return false;
    }
    if (msg.count(bhttp::field::transfer_encoding) > 0 && !m_parser->chunked()) {
      send_error(400, "http.bad_request", "Bad Request", "The only transfer coding accepted is chunked, last.");
      return false;
    }
    return true;
  }

  bool expects_continue() const {
    const auto& msg = m_parser->get();
    return msg.version() >= 11 && !m_parser->is_done() && iequals(msg[bhttp::field::expect], "100-continue");
  }

  void on_continue_sent(error_code ec, std::size_t) {
    if (ec) return close_now();
    read_more();
  }

  void on_read_error(error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return send_error(413, "http.content_too_large", "Content Too Large",
                        "The request body exceeds " + std::to_string(options().max_body_bytes) + " bytes.");
    }
    if (ec == bhttp::error::header_limit) {
      return send_error(431, "http.header_too_large", "Request Header Fields Too Large",
                        "The request line and header fields exceed " + std::to_string(options().max_header_bytes) +
                            " bytes.");
    }
    bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                       ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
    if (parse_error) return send_error(400, "http.bad_request", "Bad Request", "The request is not valid HTTP/1.1.");
    if (ec == beast::error::timeout) core::log::info("http.read_timeout", {{"remote", m_remote}});
    close_now();  // timeout (the stream closed itself), client gone, or stop()
  }

  // An error found before any handler ran; the connection cannot be trusted further.
  void send_error(int status, std::string_view code, std::string_view title, const std::string& detail) {
    const auto& msg = m_parser->get();
    m_version = msg.version() == 10 ? 10 : 11;
    m_keep_alive = false;
    m_head = false;
    m_request_id = pick_request_id(msg["X-Request-Id"]);
    m_log_method = msg.method_string().empty() ? "-" : std::string(msg.method_string());
    m_log_path = msg.target().empty() ? "-" : std::string(path_of(msg.target()));
    send(Response::problem(status, code, title, detail));
  }

  void on_request() {
    m_phase = Phase::handling;
    auto& msg = m_parser->get();
    m_version = msg.version();
    m_keep_alive = msg.keep_alive();
    m_head = msg.method() == bhttp::verb::head;
    m_request_id = pick_request_id(msg["X-Request-Id"]);
    m_log_method = std::string(msg.method_string());
    m_log_path = std::string(path_of(msg.target()));
    m_route.clear();

    auto created = Request::create(msg.method_string(), std::string(msg.target()));
    if (!created) {
      m_keep_alive = false;
      return send(Response::problem(400, "http.bad_request", "Bad Request", created.error().message));
    }
    Request& request = *created;
    m_log_path = request.path();
    for (const auto& field : msg) request.headers().add(std::string(field.name_string()), std::string(field.value()));
    request.set_body(std::move(msg.body()));
    request.set_remote_address(m_remote);
    request.set_client_certificate(m_client_certificate);
    request.set_request_id(m_request_id);

    Response response;
    try {
      std::optional<Response> refused;
      if (options().admission) refused = options().admission(request);
      if (refused) response = std::move(*refused);
      else response = m_core.router.dispatch(request);  // catches what handlers throw
      m_route = request.route();
    } catch (const std::exception& e) {             // e.g. bad_alloc around it
      core::log::error("http.dispatch_failed", {{"request_id", m_request_id}, {"error", e.what()}});
      response = Response::problem(500, "internal", "Internal Server Error", "The server could not complete the request.");
    }
    send(std::move(response));
  }

  static std::string pick_request_id(std::string_view incoming) {
    return detail::is_acceptable_request_id(incoming) ? std::string(incoming) : detail::new_request_id();
  }

  void send(Response response) {
    if (response.status() < 200 || response.status() > 599) {
      core::log::error("http.bad_status", {{"request_id", m_request_id}, {"status", response.status()}});
      response = Response::problem(500, "internal", "Internal Server Error", "The server could not complete the request.");
    }
    response.add_problem_request_id(m_request_id);
    if (m_stopping) m_keep_alive = false;

    auto& res = m_response.emplace();
    res.version(m_version);
    res.result(static_cast<unsigned>(response.status()));
    for (const auto& [name, value] : response.headers()) {
      if (is_server_owned(name)) continue;
      if (!is_token(name) || !is_field_value(value)) {
        core::log::warn("http.bad_response_header", {{"request_id", m_request_id}, {"header", name}});
        continue;
      }
      res.insert(name, value);
    }
    res.set(bhttp::field::server, "cartorio");
    res.set(bhttp::field::date, http_date(static_cast<long long>(std::time(nullptr))));
    res.set("X-Request-Id", m_request_id);
    if constexpr (kTls) res.set(bhttp::field::strict_transport_security, kHsts);
    auto set_default = [&](std::string_view name, std::string_view value) {
      if (res.find(name) == res.end()) res.set(name, value);
    };
    set_default("X-Content-Type-Options", "nosniff");
    set_default("X-Frame-Options", "DENY");
    set_default("Referrer-Policy", "no-referrer");
    set_default("Cache-Control", "no-store");

    m_status = response.status();
    m_bytes = 0;
    if (m_status != 204 && m_status != 304) {  // these never carry a body nor need a length
      res.content_length(response.body().size());
      // HEAD: the length the GET body would have, and no body (RFC 9110 9.3.2).
      if (!m_head) {
        m_bytes = response.body().size();
        res.body() = std::move(response.body());
      }
    }
    res.keep_alive(m_keep_alive);

    m_phase = Phase::writing;
    lowest().expires_after(options().write_timeout);
    bhttp::async_write(m_stream, res, bind(&Session::on_write));
  }

  void on_write(error_code ec, std::size_t) {
    const auto elapsed = SteadyClock::now() - m_started;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    if (options().observer)
      options().observer({m_log_method, m_route, m_status, std::chrono::duration_cast<std::chrono::microseconds>(elapsed)});
    core::log::info("http.request", {{"method", m_log_method},
                                     {"path", m_log_path},
                                     {"status", m_status},
                                     {"bytes", static_cast<std::int64_t>(m_bytes)},
                                     {"duration_ms", static_cast<std::int64_t>(ms)},
                                     {"remote", m_remote},
                                     {"request_id", m_request_id}});
    m_response.reset();
    m_parser.reset();
    if (ec) return close_now();
    if (!m_keep_alive || m_stopping) return linger_close();
    wait_for_request();
  }

  void linger_close() {
    m_phase = Phase::closing;
    lowest().expires_after(std::min<std::chrono::milliseconds>(kLingerTime, options().idle_timeout));
    if constexpr (kTls)
      m_stream.async_shutdown(bind(&Session::on_tls_shutdown));  // close_notify, then wait for the client's
    else
      drain_after_fin();
  }

  // The client's close_notify, EOF or the timer end it. A client still sending is an error
  // to OpenSSL ("application data after close notify"): linger on the raw socket instead,
  // as for plain HTTP, so its bytes do not turn our close into a reset.
  void on_tls_shutdown(error_code ec) {
    if (!ec || ec == net::error::eof || ec == beast::error::timeout || ec == net::error::operation_aborted)
      return close_now();
    drain_after_fin();
  }

  void drain_after_fin() {
    error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    m_buffer.clear();
    m_lingered = 0;
    drain();
  }

  // Below TLS, if any: what is left is discarded unread.
  void drain() { lowest().async_read_some(m_buffer.prepare(kReadChunk), bind(&Session::on_drained)); }

  void on_drained(error_code ec, std::size_t n) {
    m_lingered += n;
    m_buffer.clear();
    if (ec || m_lingered > kLingerMaxBytes) return close_now();  // EOF is the normal end
    drain();
  }

  void close_now() {
    m_phase = Phase::closing;
    error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  const TlsContextPtr m_tls;  // before m_stream: the stream's SSL refers to it
  Stream m_stream;
  ServerCore& m_core;
  const std::uint64_t m_id;
  const std::string m_remote;
  std::optional<ClientCertificate> m_client_certificate;
  beast::flat_buffer m_buffer;
  std::optional<bhttp::request_parser<bhttp::string_body>> m_parser;
  std::optional<bhttp::response<bhttp::string_body>> m_response;
  Phase m_phase = Phase::idle;
  bool m_stopping = false;
  bool m_keep_alive = false;
  bool m_head = false;
  bool m_header_checked = false;
  unsigned m_version = 11;
  int m_status = 0;
  std::size_t m_bytes = 0;
  std::size_t m_lingered = 0;
  SteadyClock::time_point m_started = SteadyClock::now();
  std::string m_request_id;
  std::string m_log_method;
  std::string m_log_path;
  std::string m_route;  // matched route pattern of the current request, for the observer
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Router r) : options(std::move(o)), router(std::move(r)) {}

  enum class State { created, running, stopping, stopped };

  // Declaration order is destruction order reversed: the io_context goes before `core`,
  // because destroying it destroys pending handlers, hence sessions, which unregister.
  ServerOptions options;
  Router router;
  ServerCore core{options, router};
  net::io_context ioc;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  net::steady_timer accept_retry{acceptor.get_executor()};
  std::vector<std::thread> threads;
  std::atomic<std::uint16_t> port{0};

  std::mutex lifecycle_mutex;  // guards state
  std::condition_variable state_changed;
  State state = State::created;

  std::mutex tls_mutex;  // guards tls_context
  TlsContextPtr tls_context;  // what new connections get; each session keeps its own copy

  core::Result<TlsContextPtr> make_tls_context(const TlsIdentity& identity) const {
    CARTORIO_TRY(auto native, detail::make_server_context(*options.tls, identity));
    return std::make_shared<net::ssl::context>(native.release());  // takes ownership
  }

  TlsContextPtr current_tls_context() {
    std::lock_guard lock(tls_mutex);
    return tls_context;
  }

  core::Result<void> set_tls_identity(const TlsIdentity& identity) {
    if (!options.tls) return core::Error{core::Errc::invalid_argument, "this server was configured without TLS"};
    CARTORIO_TRY(auto context, make_tls_context(identity));
    {
      std::lock_guard lock(tls_mutex);
      tls_context.swap(context);
    }
    // `context` now holds the previous one: released here, or by its last session.
    core::log::info("http.tls_identity_replaced", {{"serial", crypto::serial_hex(identity.certificate.get())},
                                                   {"port", static_cast<int>(port.load())}});
    return core::ok();
  }

  // The configured identity, unless set_tls_identity() already installed a newer one.
  // Runs before any thread does.
  core::Result<void> prepare_tls() {
    if (!options.tls) return core::ok();
    if (!current_tls_context()) {
      CARTORIO_TRY(auto context, make_tls_context(options.tls->identity));
      std::lock_guard lock(tls_mutex);
      if (!tls_context) tls_context = std::move(context);
    }
    // The context holds its own references; dropping ours lets a replaced key be freed
    // with the last connection that used it instead of living as long as the server.
    options.tls->identity = TlsIdentity{};
    return core::ok();
  }

  core::Result<void> start() {
    std::lock_guard lock(lifecycle_mutex);
    if (state != State::created) return core::Error{core::Errc::invalid_argument, "server already started"};
    CARTORIO_TRY(tcp::endpoint endpoint, parse_listen(options.listen));
    CARTORIO_TRY_VOID(prepare_tls());
    error_code ec;
    auto fail = [&](std::string_view what) {
      error_code ignored;
      acceptor.close(ignored);
      return core::Error{core::Errc::io_error,
                         "cannot listen on " + options.listen + ": " + std::string(what) + ": " + ec.message()};
    };
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return fail("socket");
    // Lets a restarted server rebind while old connections sit in TIME_WAIT; it does not
    // allow two listeners on one port.
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return fail("setsockopt");
    acceptor.bind(endpoint, ec);
    if (ec) return fail("bind");
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    port = acceptor.local_endpoint(ec).port();

    do_accept();
    unsigned n = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) threads.emplace_back([this] { run_loop(); });
    state = State::running;
    core::log::info("http.listening", {{"address", endpoint.address().to_string()},
                                       {"port", static_cast<int>(port.load())},
                                       {"threads", static_cast<int>(n)},
                                       {"tls", options.tls.has_value()}});
    return core::ok();
  }

  void run_loop() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {  // handlers should not throw; keep the thread alive
        core::log::error("http.loop_exception", {{"error", e.what()}});
      }
    }
  }

  void do_accept() {
    // Each connection gets its own strand: its handlers never run concurrently.
    acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning on a failing accept.
      core::log::warn("http.accept_failed", {{"error", ec.message()}});
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](error_code timer_ec) {
        if (!timer_ec) do_accept();
      });
      return;
    }
    // A response leaves in more than one write (TLS records, headers then body): with Nagle
    // the last one waits for the client's delayed ACK (up to 40 ms) on every request.
    error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);  // best effort: only latency depends on it
    error_code remote_ec;
    auto remote = socket.remote_endpoint(remote_ec);
    std::string remote_address = remote_ec ? "" : remote.address().to_string();
    TlsContextPtr tls = current_tls_context();
    std::shared_ptr<SessionBase> session;
    {
      std::lock_guard lock(core.mutex);
      if (core.stopping || core.sessions.size() >= options.max_connections) {
        if (!core.stopping) core::log::warn("http.connection_refused", {{"reason", "max_connections"}});
        error_code ignored;
        socket.close(ignored);
      } else {
        auto id = core.next_id;
        session = new_session(std::move(socket), std::move(tls), id, std::move(remote_address));
        if (session) {
          ++core.next_id;
          core.sessions.emplace(id, session);
        }
      }
    }
    if (session) session->start();
    do_accept();
  }

  // Null when the session cannot be built (SSL_new out of memory): the socket closes
  // with it and the accept loop carries on.
  std::shared_ptr<SessionBase> new_session(tcp::socket socket, TlsContextPtr tls, std::uint64_t id, std::string remote) {
    try {
      if (tls) return std::make_shared<Session<TlsStream>>(std::move(socket), std::move(tls), core, id, std::move(remote));
      return std::make_shared<Session<PlainStream>>(std::move(socket), nullptr, core, id, std::move(remote));
    } catch (const std::exception& e) {
      core::log::error("http.session_failed", {{"error", e.what()}});
      return nullptr;
    }
  }

  void stop() {
    {
      std::unique_lock lock(lifecycle_mutex);
      if (state == State::created || state == State::stopped) {
        state = State::stopped;
        state_changed.notify_all();
        return;
      }
      if (state == State::stopping) {  // another thread is stopping it: wait for that
        state_changed.wait(lock, [&] { return state == State::stopped; });
        return;
      }
      state = State::stopping;
    }
    net::post(acceptor.get_executor(), [this] {
      error_code ignored;
      acceptor.close(ignored);
      accept_retry.cancel();
    });

    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(core.mutex);
      core.stopping = true;  // on_accept refuses from now on
      for (auto& [id, weak] : core.sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->request_stop();
    live.clear();  // holding them would keep them registered

    {
      std::unique_lock lock(core.mutex);
      bool drained = core.drained.wait_for(lock, options.stop_timeout, [&] { return core.sessions.empty(); });
      if (!drained)
        core::log::warn("http.stop_timeout", {{"connections_dropped", static_cast<std::int64_t>(core.sessions.size())}});
    }
    // Abandons whatever is left; those sessions die with the io_context. A handler that
    // never returns still blocks the join below: nothing can interrupt a thread.
    ioc.stop();
    for (auto& t : threads) t.join();
    threads.clear();
    {
      std::lock_guard lock(lifecycle_mutex);
      state = State::stopped;
    }
    state_changed.notify_all();
    core::log::info("http.stopped", {{"port", static_cast<int>(port.load())}});
  }

  void wait() {
    std::unique_lock lock(lifecycle_mutex);
    state_changed.wait(lock, [&] { return state == State::stopped || state == State::created; });
  }
};

Server::Server(ServerOptions options, Router router)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() { m_impl->stop(); }

core::Result<void> Server::start() { return m_impl->start(); }

std::uint16_t Server::port() const { return m_impl->port; }

core::Result<void> Server::set_tls_identity(const TlsIdentity& identity) { return m_impl->set_tls_identity(identity); }

void Server::stop() { m_impl->stop(); }

void Server::wait() { m_impl->wait(); }

}  // namespace cartorio::http
