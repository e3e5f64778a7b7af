// OCSP over HTTP (RFC 6960 appendix A, RFC 5019 profile), on the plain-HTTP listener:
//   GET  /ocsp/{ca}/{base64 DER OCSPRequest, URL-encoded, may contain '/'}
//   POST /ocsp/{ca}   Content-Type: application/ocsp-request
// ca is root, tls or document. Answers application/ocsp-response; OCSP-level failures
// (malformed, unauthorized, tryLater...) are OCSP responses with HTTP 200, as clients expect.
// Only HTTP-level problems are problem+json: unknown CA (404), wrong media type (415), a
// request over 64 KiB (413), bad base64 in the URL (still an OCSP malformedRequest, 200).
// Successful responses carry RFC 5019 caching headers (max-age to nextUpdate, Last-Modified,
// Expires, ETag).
#pragma once

#include "core/clock.h"
#include "http/router.h"
#include "ocsp/ocsp_sources.h"

#include <string>

namespace cartorio::api {

inline constexpr std::size_t kMaxOcspRequestBytes = 64 * 1024;

// Serves the given sources (one per CA name); `clock` (must outlive the router) dates max-age.
core::Result<void> add_ocsp_routes(http::Router& router, ocsp::SourceMap sources, const core::Clock& clock);

}  // namespace cartorio::api
