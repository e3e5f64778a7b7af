// OAuth 2.0 answers shared by the token endpoint (identity_routes) and the portal's session
// endpoints (session_routes). Internal to api/.
#pragma once

#include "http/response.h"
#include "identity/identity_service.h"

#include <chrono>
#include <string_view>

namespace cartorio::api::detail {

// Cache-Control: no-store and Pragma: no-cache (RFC 6749 5.1): answers that carry tokens.
http::Response no_store(http::Response r);

// RFC 6749 5.2: {"error", "error_description"} with the error's status; Retry-After when
// throttled; WWW-Authenticate for invalid_client.
http::Response oauth_error(identity::OAuthError error, std::string_view description,
                           std::chrono::seconds retry_after = std::chrono::seconds(0), bool basic_auth = false);

}  // namespace cartorio::api::detail
