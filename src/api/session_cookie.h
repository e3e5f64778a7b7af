// The browser session of the web portal (docs/portal.md): the access token rides in an
// HttpOnly cookie the page's script cannot read, and a request that changes anything also
// carries the CSRF token the session answer gave the script (header X-CSRF-Token).
#pragma once

#include "http/request.h"

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::api {

// __Host-: Secure, Path=/, no Domain — no other host or path can plant or shadow it.
inline constexpr std::string_view kSessionCookie = "__Host-cartorio-session";
// The refresh token travels only to the session endpoints.
inline constexpr std::string_view kRefreshCookie = "__Secure-cartorio-refresh";
inline constexpr std::string_view kRefreshCookiePath = "/api/v1/session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The value of cookie `name` in the request's Cookie header(s) (RFC 6265 5.4), if any.
std::optional<std::string_view> cookie_value(const http::Request& req, std::string_view name);

// "name=value; Path=...; Secure; HttpOnly; SameSite=Strict"; an empty value with Max-Age=0
// deletes the cookie.
std::string set_cookie(std::string_view name, std::string_view value, std::string_view path, bool remove = false);

// A request that a cross-site page can make a browser send: anything but GET/HEAD/OPTIONS.
bool changes_state(const http::Request& req);

// Sec-Fetch-Site: cross-site says another site's page made this request.
bool cross_site(const http::Request& req);

}  // namespace cartorio::api
