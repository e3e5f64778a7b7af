#include "api/audit_routes.h"

#include "api/detail/log_proofs.h"
#include "api/error_response.h"

#include <nlohmann/json.hpp>

#include <variant>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::Permission;
using identity::Principal;
using detail::parse_int;

namespace {

// An optional non-negative integer query parameter: nullopt when absent; an error response
// when present but not a number.
std::variant<std::optional<std::int64_t>, Response> int_param(const Request& req, std::string_view name) {
  auto v = req.query_param(name);
  if (!v) return std::optional<std::int64_t>();
  auto n = parse_int(*v);
  if (!n || *n < 0)
    return bad_request("request.invalid_field", std::string(name) + " must be a non-negative integer");
  return std::optional<std::int64_t>(*n);
}

nlohmann::json event_json(const store::AuditEvent& e) {
  auto details = nlohmann::json::parse(e.details, nullptr, false);
  return {{"id", e.id},           {"time", e.time},     {"actor", e.actor},
          {"action", e.action},   {"target", e.target}, {"result", e.result},
          {"source", e.source},   {"request_id", e.request_id},
          {"details", details.is_discarded() ? nlohmann::json(e.details) : details}};
}

Response list_events(store::AuditLog& events, const Request& req) {
  store::AuditFilter f;
  for (auto [name, field] : {std::pair{"since", &f.since}, std::pair{"until", &f.until}}) {
    auto v = int_param(req, name);
    if (auto* r = std::get_if<Response>(&v)) return std::move(*r);
    *field = std::get<0>(v);
  }
  auto after = int_param(req, "after_id");
  if (auto* r = std::get_if<Response>(&after)) return std::move(*r);
  f.after_id = std::get<0>(after).value_or(0);
  auto limit = int_param(req, "limit");
  if (auto* r = std::get_if<Response>(&limit)) return std::move(*r);
  const auto n = std::get<0>(limit).value_or(100);
  if (n < 1 || n > 1000) return bad_request("request.invalid_field", "limit must be 1..1000");
  f.limit = static_cast<int>(n);
  f.actor = req.query_param("actor");
  f.action = req.query_param("action");
  f.target = req.query_param("target");
  auto list = events.list_audit_events(f);
  if (!list) return error_response(list.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : *list) out.push_back(event_json(e));
  nlohmann::json body{{"events", out}};
  // A full page may have a next one: the client continues after the last id.
  if (static_cast<std::int64_t>(list->size()) == n) body["next_after_id"] = list->back().id;
  return Response::json(body.dump());
}

}  // namespace

core::Result<void> add_audit_routes(SecuredRouter& router, AuditRouteServices s) {
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/audit/events", Permission::audit_read,
                               [s](const Request& req, const Principal&) { return list_events(*s.events, req); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/audit/tree-head", Permission::audit_read,
                               [s](const Request&, const Principal&) { return detail::latest_head(*s.heads); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/audit/tree-head", Permission::audit_read,
                               [s](const Request&, const Principal&) {
                                 auto head = s.heads->publish();
                                 if (!head) return detail::log_unavailable("publish", head.error());
                                 return Response::json(head->to_json(), 201);
                               }));
  CARTORIO_TRY_VOID(router.add(
      Method::get, "/api/v1/audit/proofs/inclusion", Permission::audit_read, [s](const Request& req, const Principal&) {
        auto id = req.query_param("id");
        auto n = id ? parse_int(*id) : std::nullopt;
        if (!n || *n < 1) return bad_request("request.invalid_field", "id must be an audit event id");
        store::AuditFilter f;
        f.after_id = *n - 1;
        f.limit = 1;
        auto events = s.events->list_audit_events(f);
        if (!events) return detail::log_unavailable("events", events.error());
        if (events->empty() || events->front().id != *n)
          return Response::problem(404, "store.not_found", "Not found", "no audit event " + std::to_string(*n));
        std::uint64_t tree_size = 0;  // the latest head's
        if (auto t = req.query_param("tree_size")) {
          auto v = parse_int(*t);
          if (!v || *v < 1) return bad_request("request.invalid_field", "tree_size must be a positive integer");
          tree_size = static_cast<std::uint64_t>(*v);
        }
        auto proof = detail::inclusion(*s.heads, *n, tree_size, audit::audit_event_fields(events->front()));
        if (auto* r = std::get_if<Response>(&proof)) return std::move(*r);
        return Response::json(std::get<nlohmann::json>(proof).dump());
      }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/audit/proofs/consistency", Permission::audit_read,
                               [s](const Request& req, const Principal&) { return detail::consistency(*s.heads, req); }));
  return core::ok();
}

}  // namespace cartorio::api
