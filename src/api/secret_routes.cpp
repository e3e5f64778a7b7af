#include "api/secret_routes.h"

#include "api/error_response.h"
#include "api/json_body.h"
#include "secrets/secret_json.h"

#include <nlohmann/json.hpp>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::Permission;
using identity::Principal;

namespace {

using secrets::info_json;

secrets::Caller caller_of(const Request& req, const Principal& who) {
  return {who.subject, req.remote_address().empty() ? "local" : req.remote_address(), req.request_id()};
}

Response list(secrets::SecretManager& m) {
  auto all = m.list();
  if (!all) return error_response(all.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : *all) out.push_back(info_json(i));
  return Response::json(nlohmann::json{{"secrets", out}}.dump());
}

Response versions(secrets::SecretManager& m, const Request& req) {
  auto all = m.versions(req.param("name"));
  if (!all) return error_response(all.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : *all) out.push_back(info_json(i));
  return Response::json(nlohmann::json{{"name", req.param("name")}, {"versions", out}}.dump());
}

Response reveal(secrets::SecretManager& m, const Request& req, const Principal& who) {
  std::optional<std::int64_t> version;
  if (req.query_param("version")) {
    auto v = int_query(req, "version", 1, 1'000'000'000, 0);
    if (!v) return bad_request("request.invalid_field", "version must be a positive integer");
    version = *v;
  }
  auto secret = m.reveal(req.param("name"), version, caller_of(req, who));
  if (!secret) return error_response(secret.error());
  auto body = info_json(secret->info);
  body["value"] = secret->value;
  return Response::json(body.dump());  // the server sends Cache-Control: no-store
}

Response put(secrets::SecretManager& m, const Request& req, const Principal& who) {
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.malformed", "the body must be a JSON object");
  auto value = string_field(*body, "value");
  if (!value) return bad_request("request.invalid_field", "value (a string) is required");
  std::optional<int> days;
  if (body->contains("rotation_days")) {
    const auto& d = (*body)["rotation_days"];
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0 || d.get<std::int64_t>() > 3660)
      return bad_request("request.invalid_field", "rotation_days must be an integer from 0 to 3660");
    days = d.get<int>();
  }
  auto info = m.put(req.param("name"), *value, days, caller_of(req, who));
  if (!info) return error_response(info.error());
  return Response::json(info_json(*info).dump(), info->version == 1 ? 201 : 200);
}

// An optional body {"kind": "service-certificate"} creates the secret when it is new.
Response rotate(secrets::SecretManager& m, const Request& req, const Principal& who) {
  std::optional<secrets::Kind> create;
  if (!req.body().empty()) {
    auto body = parse_json_object(req);
    if (!body) return bad_request("request.malformed", "the body, when given, must be a JSON object");
    if (body->contains("kind")) {
      auto text = string_field(*body, "kind");
      create = text ? secrets::parse_kind(*text) : std::nullopt;
      if (!create) return bad_request("request.invalid_field", "kind must be generic or service-certificate");
    }
  }
  auto info = m.rotate(req.param("name"), caller_of(req, who), "rotate", create);
  if (!info) return error_response(info.error());
  return Response::json(info_json(*info).dump(), 201);
}

}  // namespace

core::Result<void> add_secret_routes(SecuredRouter& router, secrets::SecretManager* m) {
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/secrets", Permission::secret_list,
                               [m](const Request&, const Principal&) { return list(*m); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/secrets/{name}", Permission::secret_read,
                               [m](const Request& r, const Principal& p) { return reveal(*m, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/secrets/{name}/versions", Permission::secret_list,
                               [m](const Request& r, const Principal&) { return versions(*m, r); }));
  CARTORIO_TRY_VOID(router.add(Method::put, "/api/v1/secrets/{name}", Permission::secret_rotate,
                               [m](const Request& r, const Principal& p) { return put(*m, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/secrets/{name}/rotate", Permission::secret_rotate,
                               [m](const Request& r, const Principal& p) { return rotate(*m, r, p); }));
  return core::ok();
}

}  // namespace cartorio::api
