// S3Client: signed HTTP requests to one S3-compatible endpoint, with retries.
//
// Signing is libcurl's own AWS Signature V4 (CURLOPT_AWS_SIGV4), which signs the path and
// query exactly as written: callers pass paths of unreserved characters only and queries
// already sorted by name, every parameter with '=' (S3Query builds them). Every request
// carries x-amz-content-sha256 (the body's hex SHA-256; libcurl 7.88 does not add it and
// servers refuse a request without it), so the server also checks the body's integrity.
//
// Retries: a request that could not be sent or got no answer (connection refused, reset,
// timeout) or got a 5xx/503 SlowDown is retried up to max_attempts times, with exponential
// backoff and full jitter. Every S3 call this backend makes is idempotent (a retried PUT
// at worst leaves one more noncurrent version), so every method is retried alike.
//
// Thread-safety: perform() may be called from several threads; each call borrows a curl
// easy handle from a small pool (handles keep their connections alive between calls).
#pragma once

#include "core/error.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::objectstore::s3 {

struct S3ClientOptions {
  std::string endpoint;  // "http://127.0.0.1:9000", "https://s3.sa-east-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string ca_file;  // PEM bundle to verify an https endpoint; empty: the system's
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{100};
};

// A query string whose parameters come out sorted by name, each as name=value with the
// value percent-encoded (uppercase hex, unreserved characters kept), as SigV4 wants.
class S3Query {
 public:
  S3Query& add(std::string name, std::string_view value = {});
  std::string str() const;  // "" or "?a=1&b=" ...

 private:
  std::map<std::string, std::string> m_params;
};

std::string percent_encode(std::string_view s);

struct S3Request {
  std::string method = "GET";
  std::string path;   // "/bucket" or "/bucket/key", unreserved characters and '/' only
  std::string query;  // S3Query::str()
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string_view body;
  std::string body_sha256_hex;  // the body's hex SHA-256 when the caller has it
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; the last of repeats
  std::string body;
  std::string header(const std::string& lower_name) const;
};

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // The response, whatever its status (after retries for 5xx); Errc::store_unavailable
  // when the server could not be reached at all.
  core::Result<S3Response> perform(const S3Request& request) const;
  const S3ClientOptions& options() const { return m_options; }

 private:
  struct Handle;
  std::unique_ptr<Handle> borrow() const;
  void give_back(std::unique_ptr<Handle> h) const;
  // transient: the failure was the network's (nothing or no answer got through): retry.
  core::Result<S3Response> perform_once(Handle& h, const S3Request& request, const std::string& sha,
                                        bool& transient) const;

  S3ClientOptions m_options;
  std::string m_sigv4;
  mutable std::mutex m_mutex;
  mutable std::vector<std::unique_ptr<Handle>> m_idle;
};

// The error a non-2xx response stands for, with the S3 error code and message from its
// XML body: 404 -> not_found, 403 and 5xx -> store_unavailable, other 4xx -> store_error.
core::Error s3_error(const S3Response& response, std::string_view what);

}  // namespace cartorio::objectstore::s3
