#include "tsa/http_timestamp_client.h"

#include "http/curl_easy.h"
#include "tsa/local_timestamp_client.h"
#include "tsa/timestamp_request.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace cartorio::tsa {

using core::Errc;

namespace {

struct Body {
  std::string data;
  std::size_t limit = 0;
  bool too_large = false;
};

// Called from C: must not throw. Returning less than given aborts the transfer.
std::size_t write_body(char* ptr, std::size_t size, std::size_t nmemb, void* userdata) {
  auto& body = *static_cast<Body*>(userdata);
  const std::size_t n = size * nmemb;
  if (body.data.size() + n > body.limit) {
    body.too_large = true;
    return 0;
  }
  try {
    body.data.append(ptr, n);
  } catch (...) {
    return 0;
  }
  return n;
}

bool is_reply_type(const char* content_type) {
  if (!content_type) return false;
  std::string v(content_type);
  if (const auto semi = v.find(';'); semi != std::string::npos) v.resize(semi);
  v.erase(std::remove_if(v.begin(), v.end(), [](unsigned char c) { return std::isspace(c); }), v.end());
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "application/timestamp-reply";
}

// Transport failures that mean "not reachable now" rather than "answered wrongly".
bool is_unreachable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

core::Result<std::unique_ptr<HttpTimestampClient>> HttpTimestampClient::create(HttpTimestampClientOptions options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0)
    return {Errc::config_invalid, "tsa.url: must be an http:// or https:// URL"};
  if (options.timeout.count() < 1) return {Errc::config_invalid, "tsa.timeout_seconds: must be positive"};
  if (options.max_reply_bytes == 0) return {Errc::config_invalid, "the reply size limit must be positive"};
  return std::make_unique<HttpTimestampClient>(std::move(options));
}

HttpTimestampClient::HttpTimestampClient(HttpTimestampClientOptions options) : m_options(std::move(options)) {}

core::Result<std::string> HttpTimestampClient::timestamp(const EVP_MD* md, crypto::ByteView digest) {
  CARTORIO_TRY(auto request, TimestampRequest::create(md, digest));
  CARTORIO_TRY(auto reply, post(request.der()));
  return request.check_reply(crypto::as_bytes(reply));
}

core::Result<std::string> HttpTimestampClient::post(const std::string& body) const {
  if (!http::curl_ready()) return {Errc::internal, "libcurl could not be initialised"};
  http::CurlHandle curl(curl_easy_init());
  if (!curl) return {Errc::internal, "libcurl could not make a handle"};
  http::CurlList headers;
  for (const char* h : {"Content-Type: application/timestamp-query", "Accept: application/timestamp-reply",
                        "Expect:"})  // no 100-continue round trip for a small body
    if (!http::curl_append(headers, h)) return {Errc::internal, "out of memory"};
  Body reply;
  reply.limit = m_options.max_reply_bytes;
  char error_text[CURL_ERROR_SIZE] = {0};
  const long timeout_ms = static_cast<long>(std::chrono::milliseconds(m_options.timeout).count());
  CURL* c = curl.get();
  bool set = curl_easy_setopt(c, CURLOPT_URL, m_options.url.c_str()) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&  // threads: no SIGALRM for DNS timeouts
             curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data()) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_USERAGENT, "cartorio") == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(m_options.max_reply_bytes)) ==
                 CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &write_body) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text) == CURLE_OK;
  if (set && !m_options.ca_file.empty()) set = curl_easy_setopt(c, CURLOPT_CAINFO, m_options.ca_file.c_str()) == CURLE_OK;
  if (!set) return {Errc::internal, "libcurl rejected an option (built without https?)"};

  const CURLcode code = curl_easy_perform(c);
  const std::string where = " (" + m_options.url + ")";
  if (reply.too_large || code == CURLE_FILESIZE_EXCEEDED)
    return {Errc::tsa_error, "the TSA's reply is larger than " + std::to_string(m_options.max_reply_bytes) +
                                 " bytes" + where};
  if (code != CURLE_OK) {
    const std::string detail = error_text[0] ? error_text : curl_easy_strerror(code);
    return {is_unreachable(code) ? Errc::tsa_unavailable : Errc::tsa_error, "TSA request failed: " + detail + where};
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status == 502 || status == 503 || status == 504)
    return {Errc::tsa_unavailable, "the TSA answered HTTP " + std::to_string(status) + where};
  if (status != 200) return {Errc::tsa_error, "the TSA answered HTTP " + std::to_string(status) + where};
  const char* content_type = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &content_type);
  if (!is_reply_type(content_type))
    return {Errc::tsa_error, "the TSA answered " + std::string(content_type ? content_type : "no Content-Type") +
                                 ", not application/timestamp-reply" + where};
  return std::move(reply.data);
}

core::Result<std::unique_ptr<TimestampClient>> make_timestamp_client(const core::Config& config,
                                                                     const TimeStampAuthority* own,
                                                                     std::string actor) {
  if (!config.tsa.url.empty()) {
    HttpTimestampClientOptions o;
    o.url = config.tsa.url;
    o.timeout = std::chrono::seconds(config.tsa.timeout_seconds);
    CARTORIO_TRY(auto client, HttpTimestampClient::create(std::move(o)));
    return std::unique_ptr<TimestampClient>(std::move(client));
  }
  if (!own) return {Errc::tsa_unavailable, "no time-stamp authority: tsa.url is empty and the own TSA is not running"};
  return std::unique_ptr<TimestampClient>(std::make_unique<LocalTimestampClient>(*own, std::move(actor)));
}

}  // namespace cartorio::tsa
