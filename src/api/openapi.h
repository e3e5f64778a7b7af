// GET /openapi.json: the OpenAPI 3.1 description of the HTTPS API (src/api/openapi.json,
// compiled in). Each operation names the permission its route declares in
// "x-permission" ("public" for none); tests/api/openapi_test.cpp keeps the document and
// SecuredRouter::routes() in step.
#pragma once

#include "api/secured_router.h"

#include <string_view>

namespace cartorio::api {

std::string_view openapi_document();

core::Result<void> add_openapi_route(SecuredRouter& router);

}  // namespace cartorio::api
