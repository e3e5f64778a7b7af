#include "api/ocsp_routes.h"

#include "http/headers.h"

#include "crypto/bytes.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

namespace cartorio::api {

using http::Request;
using http::Response;

namespace {

constexpr const char* kResponseType = "application/ocsp-response";

Response render(const ocsp::OcspResult& result, const core::TimePoint now) {
  Response r = Response::bytes(kResponseType, crypto::ByteView(result.der));
  if (result.status != ocsp::ResponseStatus::successful || !result.cacheable || !result.next_update ||
      !result.this_update)
    return r;  // the server's default Cache-Control: no-store
  // RFC 5019 6.2: let HTTP caches keep the response until nextUpdate, and no longer.
  const auto max_age =
      std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(*result.next_update - now).count());
  r.set_header("Cache-Control", "max-age=" + std::to_string(max_age) + ", public, no-transform, must-revalidate");
  r.set_header("Last-Modified", http::http_date(core::to_unix(*result.this_update)));
  r.set_header("Expires", http::http_date(core::to_unix(*result.next_update)));
  r.set_header("ETag", result.etag.empty() ? ocsp::entity_tag(result.der) : result.etag);
  return r;
}

Response unknown_ca(const std::string& name) {
  return Response::problem(404, "pki.ca_not_found", "Unknown CA",
                           "no OCSP responder for \"" + name + "\" (root, tls, document)");
}

Response too_large() {
  return Response::problem(413, "ocsp.request_too_large", "Request too large",
                           "OCSP requests are limited to 64 KiB");
}

// The URL form (RFC 6960 A.1): base64 of the DER, URL-encoded. The router has already
// percent-decoded it; a '+' some clients leave raw may have reached us as a space.
std::optional<crypto::Bytes> decode_get_request(std::string text) {
  std::replace(text.begin(), text.end(), ' ', '+');
  text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return c == '\r' || c == '\n'; }),
             text.end());
  while (text.size() % 4 != 0) text.push_back('=');  // tolerate stripped padding
  return crypto::from_base64(text);
}

bool is_ocsp_request_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string v(content_type->substr(0, content_type->find(';')));
  v.erase(std::remove_if(v.begin(), v.end(), [](unsigned char c) { return std::isspace(c); }), v.end());
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "application/ocsp-request";
}

}  // namespace

core::Result<void> add_ocsp_routes(http::Router& router, ocsp::SourceMap sources, const core::Clock& clock) {
  auto shared = std::make_shared<const ocsp::SourceMap>(std::move(sources));
  auto source_for = [shared](std::string_view ca) -> ocsp::ResponseSource* {
    auto it = shared->find(std::string(ca));
    return it == shared->end() ? nullptr : it->second.get();
  };
  auto now = [&clock] { return clock.now(); };

  CARTORIO_TRY_VOID(router.get("/ocsp/{ca}/{request...}", [source_for, now](const Request& req) {
    auto* source = source_for(req.param("ca"));
    if (!source) return unknown_ca(std::string(req.param("ca")));
    const std::string_view text = req.param("request");
    if (text.size() > kMaxOcspRequestBytes * 4 / 3 + 4) return too_large();
    auto der = decode_get_request(std::string(text));
    // Undecodable base64 is a malformed OCSP request: the source answers that for empty input.
    return render(source->respond(der ? crypto::ByteView(*der) : crypto::ByteView{}), now());
  }));
  CARTORIO_TRY_VOID(router.post("/ocsp/{ca}", [source_for, now](const Request& req) {
    auto* source = source_for(req.param("ca"));
    if (!source) return unknown_ca(std::string(req.param("ca")));
    if (!is_ocsp_request_type(req.header("Content-Type")))
      return Response::problem(415, "ocsp.unsupported_media_type", "Unsupported media type",
                               "OCSP requests are sent as application/ocsp-request");
    if (req.body().size() > kMaxOcspRequestBytes) return too_large();
    return render(source->respond(crypto::as_bytes(req.body())), now());
  }));
  return core::ok();
}

}  // namespace cartorio::api
