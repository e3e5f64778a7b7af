#include "api/portal_routes.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <map>
#include <memory>
#include <string>

namespace cartorio::api {

using http::Request;
using http::Response;

namespace {

struct Asset {
  std::string_view bytes;
  std::string content_type;
  std::string etag;
};

std::string content_type_of(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},    {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".ico", "image/x-icon"},
      {".json", "application/json"},          {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : types)
    if (path.ends_with(ext)) return std::string(type);
  return "application/octet-stream";
}

// RFC 9110 13.1.2: If-None-Match is a list of entity tags, or "*".
bool matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.find('*') != std::string_view::npos) return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

Response serve(const Asset& a, const Request& req) {
  const bool fresh = req.header("If-None-Match") && matches(*req.header("If-None-Match"), a.etag);
  Response r = fresh ? Response::text("", 304) : Response::bytes(a.content_type, std::string(a.bytes));
  r.set_header("ETag", a.etag);
  r.set_header("Cache-Control", "no-cache");  // revalidate: a new binary brings new files
  r.set_header("Content-Security-Policy", std::string(kPortalContentSecurityPolicy));
  r.set_header("Cross-Origin-Opener-Policy", "same-origin");
  return r;
}

Response redirect_to_portal() {
  Response r = Response::text("", 302);
  r.set_header("Location", "/portal/");
  return r;
}

}  // namespace

core::Result<void> add_portal_routes(http::Router& router, std::span<const core::EmbeddedFile> files) {
  auto assets = std::make_shared<std::map<std::string, Asset, std::less<>>>();
  for (const auto& f : files) {
    const auto digest = crypto::sha256(crypto::as_bytes(f.bytes));
    (*assets)[std::string(f.path)] = {f.bytes, content_type_of(f.path),
                                      "\"" + crypto::to_hex(crypto::ByteView(digest.data(), 16)) + "\""};
  }
  if (!assets->contains("index.html")) return core::Error{core::Errc::config_invalid, "the portal has no index.html"};
  CARTORIO_TRY_VOID(router.get("/", [](const Request&) { return redirect_to_portal(); }));
  CARTORIO_TRY_VOID(router.get("/portal", [](const Request&) { return redirect_to_portal(); }));
  CARTORIO_TRY_VOID(router.get("/portal/", [assets](const Request& req) { return serve(assets->at("index.html"), req); }));
  return router.get("/portal/{path...}", [assets](const Request& req) {
    auto it = assets->find(req.param("path"));
    if (it == assets->end()) return Response::problem(404, "http.not_found", "Not Found", "No such file in the portal.");
    return serve(it->second, req);
  });
}

}  // namespace cartorio::api
