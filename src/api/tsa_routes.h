// RFC 3161 over HTTP (3.4): POST /tsa, Content-Type application/timestamp-query, body a DER
// TimeStampReq of at most 64 KiB; the answer is 200 application/timestamp-reply with the
// TimeStampResp the authority produced, granted or a rejection (a rejection is an RFC 3161
// answer, not an HTTP error). Only HTTP-level problems are problem+json: wrong media type
// (415, tsa.unsupported_media_type), a body over 64 KiB (413, tsa.request_too_large).
//
// Public: a token is a signed object, so the route is served on the plain-HTTP listener (next
// to OCSP) and on the HTTPS listener, where it is declared through SecuredRouter::add_public.
#pragma once

#include "api/secured_router.h"
#include "http/router.h"
#include "tsa/time_stamp_authority.h"

#include <cstddef>
#include <memory>

namespace cartorio::api {

inline constexpr std::size_t kMaxTimestampRequestBytes = tsa::kMaxRequestBytes;

// `authority` may be null only where no request is served (route listings in tests): the
// route then answers 503.
core::Result<void> add_tsa_routes(http::Router& router, std::shared_ptr<const tsa::TimeStampAuthority> authority);
core::Result<void> add_tsa_routes(SecuredRouter& router, std::shared_ptr<const tsa::TimeStampAuthority> authority);

}  // namespace cartorio::api
