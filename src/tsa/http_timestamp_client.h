// HttpTimestampClient: time-stamps from an external RFC 3161 TSA over HTTP(S) (tsa.url),
// RFC 3161 3.4: POST application/timestamp-query, answer application/timestamp-reply.
//
// Each call: one libcurl request with the configured timeout (connect and total), no
// redirects, http/https only; for https TLS 1.2 or later with the peer certificate and
// host name verified (the system trust store, or `ca_file`). The reply must be HTTP 200
// with Content-Type application/timestamp-reply and at most `max_reply_bytes`; then it is
// checked as TimestampRequest::check_reply says.
//
// Errors: Errc::tsa_unavailable when the TSA cannot be reached (DNS, connect, timeout,
// TLS handshake, a reset connection) or answers HTTP 502/503/504; Errc::tsa_error for a
// refused or wrong answer (other HTTP statuses, wrong media type, a reply over the limit,
// a certificate that does not verify, a rejection, a token for another request).
//
// Thread-safe: calls share nothing (one curl handle per call).
#pragma once

#include "core/config.h"
#include "tsa/time_stamp_authority.h"
#include "tsa/timestamp_client.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace cartorio::tsa {

struct HttpTimestampClientOptions {
  std::string url;  // http:// or https://
  std::chrono::seconds timeout{10};
  std::string ca_file;  // PEM trust anchors for https; empty: the system's
  std::size_t max_reply_bytes = 64 * 1024;
};

class HttpTimestampClient final : public TimestampClient {
 public:
  // Errc::config_invalid unless the URL is http:// or https:// and the timeout positive.
  static core::Result<std::unique_ptr<HttpTimestampClient>> create(HttpTimestampClientOptions options);

  core::Result<std::string> timestamp(const EVP_MD* md, crypto::ByteView digest) override;

  explicit HttpTimestampClient(HttpTimestampClientOptions options);

 private:
  // The raw reply body of one POST (checked for status, media type and size).
  core::Result<std::string> post(const std::string& body) const;
  HttpTimestampClientOptions m_options;
};

// The client documents are time-stamped with: HttpTimestampClient for tsa.url (with
// tsa.timeout_seconds) when set, else a LocalTimestampClient over `own` (which must outlive
// it; Errc::tsa_unavailable when it is null). `actor` is recorded with the own TSA's key use.
core::Result<std::unique_ptr<TimestampClient>> make_timestamp_client(const core::Config& config,
                                                                     const TimeStampAuthority* own,
                                                                     std::string actor = "documents");

}  // namespace cartorio::tsa
