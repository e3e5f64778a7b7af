// Outgoing webhooks: one JSON document POSTed to an operator's URL (deploy triggers, failure
// notifications). libcurl, no redirects, a time limit for the whole exchange, TLS verified
// against the system's CAs. A 2xx answer is success; anything else is an error naming the
// URL's scheme and host only (a webhook's path or query often carries a token).
#pragma once

#include "core/error.h"

#include <chrono>
#include <string>
#include <string_view>

namespace cartorio::http {

// Errc::invalid_argument for a URL that is not http(s)://, Errc::io_error when the receiver
// cannot be reached or answers other than 2xx, Errc::timed_out past `timeout`.
core::Result<void> post_json(const std::string& url, std::string_view json, std::chrono::milliseconds timeout);

// "https://hooks.example.com" of "https://hooks.example.com/T0K3N?x=1": what may be logged.
std::string redacted_url(std::string_view url);

}  // namespace cartorio::http
