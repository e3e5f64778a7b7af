// core::Error -> RFC 9457 problem+json with the error's stable code (errc_name) as the
// problem code, and the HTTP status its class calls for.
#pragma once

#include "core/error.h"
#include "http/response.h"

namespace cartorio::api {

int http_status_for(core::Errc code);
http::Response error_response(const core::Error& error);
// 400 with a caller-chosen code (e.g. "request.invalid_json").
http::Response bad_request(std::string_view code, std::string_view detail);

}  // namespace cartorio::api
