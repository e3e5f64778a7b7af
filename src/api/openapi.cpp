#include "api/openapi.h"

namespace cartorio::api {

core::Result<void> add_openapi_route(SecuredRouter& router) {
  return router.add_public(http::Method::get, "/openapi.json", [](const http::Request&) {
    auto r = http::Response::bytes("application/json", std::string(openapi_document()));
    r.set_header("Cache-Control", "public, max-age=300");
    return r;
  });
}

}  // namespace cartorio::api
