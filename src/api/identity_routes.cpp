#include "api/identity_routes.h"

#include "api/detail/oauth_response.h"
#include "api/error_response.h"
#include "api/json_body.h"
#include "crypto/bytes.h"
#include "identity/identity_json.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <set>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::IdentityService;
using identity::Permission;
using identity::Principal;
using nlohmann::json;

namespace detail {

Response no_store(Response r) {
  r.set_header("Cache-Control", "no-store");
  r.set_header("Pragma", "no-cache");
  return r;
}

Response oauth_error(identity::OAuthError error, std::string_view description, std::chrono::seconds retry_after,
                     bool basic_auth) {
  Response r = no_store(Response::json(
      json{{"error", identity::to_string(error)}, {"error_description", description}}.dump(),
      identity::http_status(error)));
  if (retry_after.count() > 0) r.set_header("Retry-After", std::to_string(retry_after.count()));
  if (error == identity::OAuthError::invalid_client)
    r.set_header("WWW-Authenticate", basic_auth ? R"(Basic realm="cartorio")" : R"(Bearer realm="cartorio")");
  return r;
}

}  // namespace detail

namespace {

identity::Actor actor_of(const Request& req, const Principal& who) {
  return {who.subject, req.remote_address().empty() ? "local" : req.remote_address(), req.request_id()};
}

// {"roles": ["notary", ...]} -> roles; a 400 response for anything else.
std::variant<std::vector<identity::Role>, Response> roles_of(const json& body) {
  if (!body.contains("roles")) return bad_request("request.missing_field", "roles is required");
  if (!body["roles"].is_array())
    return bad_request("request.invalid_field", "roles must be an array of role names");
  std::vector<identity::Role> out;
  for (const auto& r : body["roles"]) {
    auto role = r.is_string() ? identity::parse_role(r.get<std::string>()) : std::nullopt;
    if (!role) return bad_request("request.invalid_field", "unknown role; roles are admin, notary, clerk, auditor, service");
    out.push_back(*role);
  }
  return out;
}

// --- OAuth 2.0 (RFC 6749 5.1/5.2, RFC 7009) ---------------------------------------------------

using detail::no_store;
using detail::oauth_error;

using Form = std::vector<std::pair<std::string, std::string>>;

// The form of a token or revocation request, or the error to answer (RFC 6749 3.2: POST,
// form-encoded; a parameter sent twice is invalid_request).
std::variant<Form, Response> read_form(const Request& req) {
  std::string type(req.header("Content-Type").value_or(""));
  if (const auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type != "application/x-www-form-urlencoded")
    return oauth_error(identity::OAuthError::invalid_request, "the body must be application/x-www-form-urlencoded");
  if (req.body().size() > kMaxTokenRequestBytes)
    return oauth_error(identity::OAuthError::invalid_request, "the request is too large");
  auto form = http::parse_form(req.body());
  if (!form) return oauth_error(identity::OAuthError::invalid_request, "the form is malformed");
  std::set<std::string_view> seen;
  for (const auto& [name, value] : *form)
    if (!seen.insert(name).second)
      return oauth_error(identity::OAuthError::invalid_request, "a parameter is repeated");
  return std::move(*form);
}

std::string form_value(const Form& form, std::string_view name) {
  for (const auto& [k, v] : form)
    if (k == name) return v;
  return {};
}

// RFC 6749 2.3.1: "Authorization: Basic base64(urlencode(id):urlencode(secret))".
std::optional<std::pair<std::string, std::string>> basic_credentials(const Request& req) {
  auto h = req.header("Authorization");
  if (!h || h->size() < 6) return std::nullopt;
  std::string scheme(h->substr(0, 6));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "basic ") return std::nullopt;  // RFC 7617: the scheme is case-insensitive
  std::string_view encoded = h->substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  auto decoded = crypto::from_base64(encoded);
  if (!decoded) return std::nullopt;
  const std::string text(decoded->begin(), decoded->end());
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto pairs = http::parse_form("i=" + text.substr(0, colon) + "&s=" + text.substr(colon + 1));
  if (!pairs || pairs->size() != 2) return std::nullopt;
  return std::make_pair((*pairs)[0].second, (*pairs)[1].second);
}

Response token(IdentityService& identity, const ClientCertificateMapper& certificates, const Request& req) {
  auto form = read_form(req);
  if (auto* r = std::get_if<Response>(&form)) return std::move(*r);
  const auto& f = std::get<Form>(form);
  identity::TokenRequest tr;
  tr.grant_type = form_value(f, "grant_type");
  tr.username = form_value(f, "username");
  tr.password = form_value(f, "password");
  tr.otp = form_value(f, "otp");
  tr.client_id = form_value(f, "client_id");
  tr.client_secret = form_value(f, "client_secret");
  tr.refresh_token = form_value(f, "refresh_token");
  tr.source = req.remote_address().empty() ? "local" : req.remote_address();
  tr.request_id = req.request_id();
  const bool basic = req.header("Authorization").has_value();
  if (basic) {
    auto creds = basic_credentials(req);
    if (!creds || !tr.client_secret.empty())  // RFC 6749 2.3: one client authentication method
      return oauth_error(identity::OAuthError::invalid_client, "malformed client authentication", {}, true);
    tr.client_id = creds->first;
    tr.client_secret = creds->second;
  }
  if (tr.grant_type.empty()) return oauth_error(identity::OAuthError::invalid_request, "grant_type is required");
  // Mutual-TLS client authentication (RFC 8705 2.2): no secret, a verified certificate.
  if (tr.grant_type == "client_credentials" && tr.client_secret.empty() && req.client_certificate() && certificates) {
    auto service = certificates(*req.client_certificate());
    if (!service && service.error().code == core::Errc::store_unavailable)
      return oauth_error(identity::OAuthError::temporarily_unavailable, "the client cannot be checked right now");
    // RFC 8705 2: a client_id, when sent, must name the certificate's client.
    if (!service || (!tr.client_id.empty() && tr.client_id != service->subject))
      return oauth_error(identity::OAuthError::invalid_client, "client authentication failed");
    tr.certificate_client = std::move(*service);
    tr.certificate_thumbprint = certificate_thumbprint(*req.client_certificate());
  }
  auto result = identity.grant(tr);
  if (!result.ok()) {
    const auto& e = result.error();
    return oauth_error(e.error, e.description, e.retry_after, basic);
  }
  const auto& t = result.tokens();
  json body = {{"access_token", t.access_token}, {"token_type", t.token_type}, {"expires_in", t.expires_in}};
  if (!t.refresh_token.empty()) body["refresh_token"] = t.refresh_token;
  if (!t.scope.empty()) body["scope"] = t.scope;
  return no_store(Response::json(body.dump()));
}

Response revoke_token(IdentityService& identity, const Request& req) {
  auto form = read_form(req);
  if (auto* r = std::get_if<Response>(&form)) return std::move(*r);
  const auto value = form_value(std::get<Form>(form), "token");
  if (value.empty()) return oauth_error(identity::OAuthError::invalid_request, "token is required");
  identity::Actor actor{"oauth:revoke", req.remote_address().empty() ? "local" : req.remote_address(),
                        req.request_id()};
  if (auto r = identity.revoke(value, actor); !r)  // RFC 7009 2.2.1: OAuth errors here too
    return oauth_error(identity::OAuthError::temporarily_unavailable, "the token could not be revoked; retry later");
  return no_store(Response::json("{}"));  // RFC 7009 2.2: 200 whether or not it was known
}

// --- the caller's own account -------------------------------------------------------------------

bool is_user(const Principal& who) { return who.subject.starts_with("user:"); }

// Password and MFA belong to user accounts; an API key or a service certificate has none.
Response not_a_user() {
  return Response::problem(409, "identity.not_a_user", "Not a user account",
                           "this caller is a service (API key or client certificate), not a user account");
}

// What this caller may do now (a client such as the portal shows only what it can use).
json permissions_json(const Principal& who) {
  json out = json::array();
  for (auto p : identity::all_permissions())
    if (who.allows(p)) out.push_back(identity::to_string(p));
  return out;
}

// A user's account; for a service, who the server takes it for.
Response me(IdentityService& identity, const Request& req, const Principal& who) {
  if (!is_user(who))
    return Response::json(json{{"subject", who.subject},
                               {"roles", identity::roles_json(who.roles)},
                               {"permissions", permissions_json(who)},
                               {"auth_method", identity::to_string(who.method)}}
                              .dump());
  auto u = identity.me(actor_of(req, who));
  if (!u) return error_response(u.error());
  json out = identity::to_json(*u);
  out["permissions"] = permissions_json(who);
  return Response::json(out.dump());
}

Response change_password(IdentityService& identity, const Request& req, const Principal& who) {
  if (!is_user(who)) return not_a_user();
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  auto current = string_field(*body, "current_password");
  auto next = string_field(*body, "new_password");
  if (!current || !next) return bad_request("request.missing_field", "current_password and new_password are required");
  if (auto r = identity.change_password(actor_of(req, who), *current, *next); !r) return error_response(r.error());
  return Response::json(R"({"status":"changed"})");
}

Response start_totp(IdentityService& identity, const Request& req, const Principal& who) {
  if (!is_user(who)) return not_a_user();
  auto e = identity.start_totp_enrollment(actor_of(req, who));
  if (!e) return error_response(e.error());
  return no_store(Response::json(
      json{{"secret", e->secret_base32}, {"otpauth_uri", e->otpauth_uri}, {"qr_svg", e->qr_svg}}.dump()));
}

Response confirm_totp(IdentityService& identity, const Request& req, const Principal& who) {
  if (!is_user(who)) return not_a_user();
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  auto code = string_field(*body, "code");
  if (!code) return bad_request("request.missing_field", "code is required");
  auto codes = identity.confirm_totp_enrollment(actor_of(req, who), *code);
  if (!codes) return error_response(codes.error());
  return no_store(Response::json(json{{"recovery_codes", *codes}}.dump()));
}

// --- users ----------------------------------------------------------------------------------------

Response list_users(IdentityService& identity, const Request& req) {
  auto limit = int_query(req, "limit", 1, 1000, 100);
  auto offset = int_query(req, "offset", 0, 1'000'000'000, 0);
  if (!limit || !offset) return bad_request("request.invalid_query", "limit is 1..1000, offset >= 0");
  auto users = identity.list_users(*limit, *offset);
  if (!users) return error_response(users.error());
  json items = json::array();
  for (const auto& u : *users) items.push_back(identity::to_json(u));
  return Response::json(json{{"items", items}, {"limit", *limit}, {"offset", *offset}}.dump());
}

Response create_user(IdentityService& identity, const Request& req, const Principal& who) {
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  identity::NewUser nu;
  auto username = string_field(*body, "username");
  auto password = string_field(*body, "password");
  if (!username || !password) return bad_request("request.missing_field", "username, password and roles are required");
  nu.username = *username;
  nu.password = *password;
  if (body->contains("display_name") && !(*body)["display_name"].is_string())
    return bad_request("request.invalid_field", "display_name must be a string");
  nu.display_name = string_field(*body, "display_name").value_or("");
  auto roles = roles_of(*body);
  if (auto* r = std::get_if<Response>(&roles)) return std::move(*r);
  nu.roles = std::get<0>(roles);
  auto u = identity.create_user(actor_of(req, who), nu);
  if (!u) return error_response(u.error());
  Response r = Response::json(identity::to_json(*u).dump(), 201);
  r.set_header("Location", "/api/v1/users/" + u->username);
  return r;
}

Response get_user(IdentityService& identity, const Request& req) {
  auto u = identity.get_user(req.param("username"));
  if (!u) return error_response(u.error());
  return Response::json(identity::to_json(*u).dump());
}

Response update_user(IdentityService& identity, const Request& req, const Principal& who) {
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  identity::UserChange change;
  if (body->contains("roles")) {
    auto roles = roles_of(*body);
    if (auto* r = std::get_if<Response>(&roles)) return std::move(*r);
    change.roles = std::get<0>(roles);
  }
  if (body->contains("disabled")) {
    if (!(*body)["disabled"].is_boolean()) return bad_request("request.invalid_field", "disabled must be a boolean");
    change.disabled = (*body)["disabled"].get<bool>();
  }
  if (body->contains("display_name")) {
    auto name = string_field(*body, "display_name");
    if (!name) return bad_request("request.invalid_field", "display_name must be a string");
    change.display_name = *name;
  }
  if (!change.roles && !change.disabled && !change.display_name)
    return bad_request("request.missing_field", "nothing to change: roles, disabled or display_name");
  auto u = identity.update_user(actor_of(req, who), req.param("username"), change);
  if (!u) return error_response(u.error());
  return Response::json(identity::to_json(*u).dump());
}

Response reset_mfa(IdentityService& identity, const Request& req, const Principal& who) {
  if (auto r = identity.reset_mfa(actor_of(req, who), req.param("username")); !r) return error_response(r.error());
  return Response::json(R"({"status":"reset"})");
}

Response rotate_signing_key(IdentityService& identity, const Request& req, const Principal& who) {
  auto kid = identity.rotate_signing_key(actor_of(req, who));
  if (!kid) return error_response(kid.error());
  return Response::json(json{{"kid", *kid}}.dump());
}

// --- API keys ------------------------------------------------------------------------------------

Response list_api_keys(IdentityService& identity) {
  auto keys = identity.list_api_keys();
  if (!keys) return error_response(keys.error());
  json items = json::array();
  for (const auto& k : *keys) items.push_back(identity::to_json(k));
  return Response::json(json{{"items", items}}.dump());
}

Response create_api_key(IdentityService& identity, const Request& req, const Principal& who) {
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  auto name = string_field(*body, "name");
  if (!name) return bad_request("request.missing_field", "name and roles are required");
  auto roles = roles_of(*body);
  if (auto* r = std::get_if<Response>(&roles)) return std::move(*r);
  auto created = identity.create_api_key(actor_of(req, who), *name, std::get<0>(roles));
  if (!created) return error_response(created.error());
  auto j = identity::to_json(created->info);
  j["key"] = created->key;
  return no_store(Response::json(j.dump(), 201));
}

Response revoke_api_key(IdentityService& identity, const Request& req, const Principal& who) {
  if (auto r = identity.revoke_api_key(actor_of(req, who), req.param("prefix")); !r) return error_response(r.error());
  return Response::json(R"({"status":"revoked"})");
}

}  // namespace

core::Result<void> add_identity_routes(SecuredRouter& router, IdentityService& identity,
                                       ClientCertificateMapper client_certificates) {
  IdentityService* id = &identity;
  CARTORIO_TRY_VOID(router.add_public(Method::post, "/oauth/token", [id, certs = std::move(client_certificates)](
                                                                         const Request& r) { return token(*id, certs, r); }));
  CARTORIO_TRY_VOID(
      router.add_public(Method::post, "/oauth/revoke", [id](const Request& r) { return revoke_token(*id, r); }));
  CARTORIO_TRY_VOID(router.add_public(Method::get, "/.well-known/jwks.json", [id](const Request&) {
    auto jwks = id->jwks_json();
    if (!jwks) return error_response(jwks.error());
    Response r = Response::bytes("application/jwk-set+json", *jwks);
    r.set_header("Cache-Control", "public, max-age=60");
    return r;
  }));

  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/me", Permission::self_service,
                               [id](const Request& r, const Principal& p) { return me(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/me/password", Permission::self_service,
                               [id](const Request& r, const Principal& p) { return change_password(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/me/mfa/totp", Permission::mfa_enroll,
                               [id](const Request& r, const Principal& p) { return start_totp(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/me/mfa/totp/confirm", Permission::mfa_enroll,
                               [id](const Request& r, const Principal& p) { return confirm_totp(*id, r, p); }));

  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/users", Permission::user_admin,
                               [id](const Request& r, const Principal&) { return list_users(*id, r); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/users", Permission::user_admin,
                               [id](const Request& r, const Principal& p) { return create_user(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/users/{username}", Permission::user_admin,
                               [id](const Request& r, const Principal&) { return get_user(*id, r); }));
  CARTORIO_TRY_VOID(router.add(Method::patch, "/api/v1/users/{username}", Permission::user_admin,
                               [id](const Request& r, const Principal& p) { return update_user(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/users/{username}/mfa/reset", Permission::user_admin,
                               [id](const Request& r, const Principal& p) { return reset_mfa(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/identity/signing-keys/rotate", Permission::user_admin,
                               [id](const Request& r, const Principal& p) { return rotate_signing_key(*id, r, p); }));

  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/api-keys", Permission::api_key_admin,
                               [id](const Request&, const Principal&) { return list_api_keys(*id); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/api-keys", Permission::api_key_admin,
                               [id](const Request& r, const Principal& p) { return create_api_key(*id, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::delete_, "/api/v1/api-keys/{prefix}", Permission::api_key_admin,
                               [id](const Request& r, const Principal& p) { return revoke_api_key(*id, r, p); }));
  return core::ok();
}

}  // namespace cartorio::api
