#include "objectstore/s3/s3_client.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "objectstore/s3/s3_xml.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

namespace cartorio::objectstore::s3 {
using core::Errc;

namespace {

constexpr std::size_t kMaxResponseBytes = 512ull * 1024 * 1024;  // above any object we accept
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool curl_ready() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ok;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

// Called from C: must not throw.
std::size_t on_body(char* ptr, std::size_t size, std::size_t nmemb, void* userdata) noexcept {
  auto& out = *static_cast<S3Response*>(userdata);
  const std::size_t n = size * nmemb;
  if (out.body.size() + n > kMaxResponseBytes) return 0;
  try {
    out.body.append(ptr, n);
  } catch (...) {
    return 0;
  }
  return n;
}

std::size_t on_header(char* ptr, std::size_t size, std::size_t nmemb, void* userdata) noexcept {
  auto& out = *static_cast<S3Response*>(userdata);
  const std::size_t n = size * nmemb;
  try {
    std::string_view line(ptr, n);
    if (line.starts_with("HTTP/")) {
      out.headers.clear();  // a new response (after 100 Continue): keep only the final one's
      return n;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos)
      out.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  } catch (...) {
    return 0;
  }
  return n;
}

bool retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct S3Client::Handle {
  struct Deleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
  };
  std::unique_ptr<CURL, Deleter> curl{curl_easy_init()};
};

S3Query& S3Query::add(std::string name, std::string_view value) {
  m_params[std::move(name)] = percent_encode(value);
  return *this;
}

std::string S3Query::str() const {
  std::string out;
  for (const auto& [name, value] : m_params) {
    out += out.empty() ? '?' : '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string S3Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

S3Client::S3Client(S3ClientOptions options)
    : m_options(std::move(options)), m_sigv4("aws:amz:" + m_options.region + ":s3") {
  curl_ready();
}

S3Client::~S3Client() = default;

std::unique_ptr<S3Client::Handle> S3Client::borrow() const {
  {
    std::lock_guard lock(m_mutex);
    if (!m_idle.empty()) {
      auto h = std::move(m_idle.back());
      m_idle.pop_back();
      return h;
    }
  }
  return std::make_unique<Handle>();
}

void S3Client::give_back(std::unique_ptr<Handle> h) const {
  constexpr std::size_t kMaxIdle = 16;
  std::lock_guard lock(m_mutex);
  if (m_idle.size() < kMaxIdle) m_idle.push_back(std::move(h));
}

core::Result<S3Response> S3Client::perform(const S3Request& request) const {
  if (!curl_ready()) return core::Error(Errc::store_unavailable, "libcurl could not be initialised");
  const std::string sha = !request.body_sha256_hex.empty() ? request.body_sha256_hex
                          : request.body.empty()           ? std::string(kEmptySha256)
                                                           : crypto::to_hex(crypto::sha256(crypto::as_bytes(request.body)));
  std::mt19937_64 rng(std::random_device{}());
  auto backoff = m_options.initial_backoff;
  core::Result<S3Response> last = core::Error(Errc::store_unavailable, "S3: no attempt made");
  for (int attempt = 1; attempt <= std::max(1, m_options.max_attempts); ++attempt) {
    if (attempt > 1) {
      // Full jitter (random in [0, backoff]): many clients retrying together spread out.
      std::uniform_int_distribution<long long> jitter(0, backoff.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
      backoff *= 2;
    }
    auto h = borrow();
    if (!h->curl) return core::Error(Errc::store_unavailable, "libcurl: no easy handle");
    bool transient = false;
    last = perform_once(*h, request, sha, transient);
    give_back(std::move(h));
    if (!last) {
      if (transient) continue;
      return last;
    }
    if (last->status < 500) return last;
  }
  return last;
}

core::Result<S3Response> S3Client::perform_once(Handle& h, const S3Request& r, const std::string& sha,
                                                bool& transient) const {
  CURL* c = h.curl.get();
  curl_easy_reset(c);  // keeps the connection cache, forgets every option of the last call
  S3Response out;
  const std::string url = m_options.endpoint + r.path + r.query;
  Slist headers;
  auto add_header = [&](std::string_view name, std::string_view value) {
    std::string line(name);
    line += ": ";
    line += value;
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next) {
      (void)headers.release();
      headers.reset(next);
    }
    return next != nullptr;
  };
  // No "Name:" lines to suppress headers libcurl adds (Expect:, Content-Type:): libcurl
  // 7.88 signs them as empty headers it then does not send, and the server answers 403.
  bool ok = add_header("x-amz-content-sha256", sha);
  bool has_type = false;
  for (const auto& [name, value] : r.headers) {
    ok = ok && add_header(name, value);
    if (lower(name) == "content-type") has_type = true;
  }
  // libcurl would label a body application/x-www-form-urlencoded.
  const bool sends_body = r.method == "PUT" || r.method == "POST";
  if (sends_body && !has_type) ok = ok && add_header("Content-Type", "application/octet-stream");
  if (r.method == "DELETE") ok = ok && add_header("Content-Length", "0");  // else Swift waits for a body
  if (!ok) return core::Error(Errc::store_unavailable, "S3: out of memory building headers");

  ok = curl_easy_setopt(c, CURLOPT_URL, url.c_str()) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_AWS_SIGV4, m_sigv4.c_str()) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_USERNAME, m_options.access_key.c_str()) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_PASSWORD, m_options.secret_key.c_str()) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout.count())) ==
           CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.request_timeout.count())) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_WRITEDATA, &out) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
       curl_easy_setopt(c, CURLOPT_HEADERDATA, &out) == CURLE_OK;
  if (ok && !m_options.ca_file.empty()) ok = curl_easy_setopt(c, CURLOPT_CAINFO, m_options.ca_file.c_str()) == CURLE_OK;
  if (ok && r.method == "HEAD") {
    ok = curl_easy_setopt(c, CURLOPT_NOBODY, 1L) == CURLE_OK;
  } else if (ok && sends_body) {
    // The body from memory with its Content-Length; CUSTOMREQUEST turns the POST into a PUT.
    ok = curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size())) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.data()) == CURLE_OK &&
         (r.method == "POST" || curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT") == CURLE_OK);
  } else if (ok && r.method != "GET") {
    ok = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str()) == CURLE_OK;
  }
  if (!ok) return core::Error(Errc::store_unavailable, "S3: libcurl refused an option (is it 7.75 or newer?)");

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    transient = retryable(rc);
    return core::Error(Errc::store_unavailable, "S3 " + r.method + " " + m_options.endpoint + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

core::Error s3_error(const S3Response& response, std::string_view what) {
  std::string detail = "HTTP " + std::to_string(response.status);
  if (auto e = parse_error(response.body); e && !e->code.empty())
    detail += " " + e->code + (e->message.empty() ? "" : ": " + e->message);
  const std::string msg = "S3 " + std::string(what) + ": " + detail;
  if (response.status == 404) return {Errc::not_found, msg};
  if (response.status == 403 || response.status >= 500) return {Errc::store_unavailable, msg};
  return {Errc::store_error, msg};
}

}  // namespace cartorio::objectstore::s3
