#include "http/webhook_client.h"

#include "http/curl_easy.h"

namespace cartorio::http {

using core::Errc;

namespace {

// The answer's body is not needed: read and dropped, so a chatty receiver cannot fill memory.
std::size_t discard(char*, std::size_t size, std::size_t nmemb, void*) { return size * nmemb; }

}  // namespace

std::string redacted_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(not a URL)";
  const auto end = url.find_first_of("/?#", scheme + 3);
  std::string_view authority = url.substr(0, end);
  // user:password@host: the credentials go too.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos && at > scheme)
    return std::string(url.substr(0, scheme + 3)) + std::string(authority.substr(at + 1));
  return std::string(authority);
}

core::Result<void> post_json(const std::string& url, std::string_view json, std::chrono::milliseconds timeout) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return core::Error{Errc::invalid_argument, "a webhook must be an http:// or https:// URL"};
  if (!curl_ready()) return core::Error{Errc::internal, "libcurl could not be initialised"};
  CurlHandle curl(curl_easy_init());
  if (!curl) return core::Error{Errc::internal, "libcurl could not make a handle"};
  CurlList headers;
  for (const char* h : {"Content-Type: application/json", "Expect:"})
    if (!curl_append(headers, h)) return core::Error{Errc::internal, "out of memory"};
  const long timeout_ms = static_cast<long>(timeout.count());
  CURL* c = curl.get();
  const bool set = curl_easy_setopt(c, CURLOPT_URL, url.c_str()) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_POSTFIELDS, json.data()) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size())) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_USERAGENT, "cartorio") == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
                   curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &discard) == CURLE_OK;
  if (!set) return core::Error{Errc::internal, "libcurl rejected an option"};
  const std::string where = " (" + redacted_url(url) + ")";
  const CURLcode code = curl_easy_perform(c);
  if (code == CURLE_OPERATION_TIMEDOUT)
    return core::Error{Errc::timed_out, "the webhook did not answer within " + std::to_string(timeout.count()) +
                                            " ms" + where};
  // libcurl's error text names the whole URL: only the code's generic text is kept.
  if (code != CURLE_OK)
    return core::Error{Errc::io_error, std::string("webhook request failed: ") + curl_easy_strerror(code) + where};
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299)
    return core::Error{Errc::io_error, "the webhook answered HTTP " + std::to_string(status) + where};
  return core::ok();
}

}  // namespace cartorio::http
