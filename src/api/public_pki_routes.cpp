#include "api/public_pki_routes.h"

#include "core/files.h"
#include "core/log.h"
#include "crl/crl_generator.h"
#include "crypto/x509.h"
#include "pki/hierarchy.h"

#include <nlohmann/json.hpp>

namespace cartorio::api {

using http::Request;
using http::Response;

namespace {

Response unknown_ca(const std::string& name) {
  return Response::problem(404, "pki.ca_not_found", "Unknown CA", "no CA named \"" + name + "\" (root, tls, document)");
}

}  // namespace

core::Result<void> add_public_pki_routes(http::Router& router, store::Store& store, objectstore::ObjectStore& objects) {
  CARTORIO_TRY_VOID(router.get("/ca/{name}.crt", [&store](const Request& req) {
    const std::string name(req.param("name"));
    if (!pki::is_ca_name(name)) return unknown_ca(name);
    auto rec = store.get_authority(name);
    if (!rec) return Response::problem(503, "pki.not_initialized", "Not initialised", "the CA hierarchy is not available");
    auto cert = crypto::parse_certificate(crypto::as_bytes(rec->cert_pem));
    if (!cert) return Response::problem(500, "internal", "Internal error", "stored CA certificate is damaged");
    Response r = Response::bytes("application/pkix-cert", crypto::to_der(cert->get()));
    r.set_header("Cache-Control", "public, max-age=3600");
    return r;
  }));
  CARTORIO_TRY_VOID(router.get("/crl/{name}.crl", [&objects](const Request& req) {
    const std::string name(req.param("name"));
    if (!pki::is_ca_name(name)) return unknown_ca(name);
    auto object = objects.get(crl::crl_key(name));
    if (!object && object.error().code == core::Errc::not_found)
      return Response::problem(404, "crl.not_published", "No CRL", "no CRL has been published for " + name);
    if (!object) {
      core::log::error("crl.read_failed", {{"ca", name}, {"error", object.error().to_string()}});
      return Response::problem(503, "objects.unavailable", "CRL unavailable", "the CRL cannot be read right now");
    }
    Response r = Response::bytes("application/pkix-crl", std::move(object->data));
    // Relying parties may cache up to the regeneration interval; a revocation republishes
    // at once, so keep it short.
    r.set_header("Cache-Control", "public, max-age=300");
    return r;
  }));
  return core::ok();
}

core::Result<void> add_health_routes(http::Router& router, store::Store& store, keys::KeyStore& keys,
                                     cache::Cache& cache) {
  CARTORIO_TRY_VOID(router.get("/healthz", [](const Request&) { return Response::json(R"({"status":"ok"})"); }));
  CARTORIO_TRY_VOID(router.get("/readyz", [&store, &keys, &cache](const Request&) {
    nlohmann::json checks;
    bool ready = true;
    // Details (hosts, paths, users) go to the log, not to anonymous clients.
    auto s = store.check();
    if (!s) core::log::warn("readyz.store_failed", {{"error", s.error().to_string()}});
    checks["store"] = s ? "ok" : "failed";
    ready = ready && s.has_value();
    auto k = keys.check();
    if (!k) core::log::warn("readyz.keys_failed", {{"error", k.error().to_string()}});
    checks["keys"] = k ? "ok" : "failed";
    ready = ready && k.has_value();
    const auto c = cache.health();
    if (c.state != cache::CacheState::ok)
      core::log::warn("readyz.cache_" + std::string(cache::to_string(c.state)), {{"detail", c.detail}});
    checks["cache"] = std::string(cache::to_string(c.state));
    ready = ready && c.state != cache::CacheState::unavailable;
    // Degraded still serves traffic (200): load balancers keep it, monitoring sees the word.
    const char* status = !ready ? "unavailable" : c.state == cache::CacheState::degraded ? "degraded" : "ready";
    nlohmann::json body = {{"status", status}, {"checks", checks}};
    return Response::json(body.dump(), ready ? 200 : 503);
  }));
  return core::ok();
}

}  // namespace cartorio::api
