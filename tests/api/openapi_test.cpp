// The OpenAPI document (src/api/openapi.json, served at GET /openapi.json) against the
// routes the HTTPS API really declares: every route registered through SecuredRouter has
// its operation, with the same permission in "x-permission"; every documented HTTPS
// operation is a real route; path templates, $refs, security schemes and operationIds are
// consistent. The routes come from the real registration functions over a real
// IdentityService (registration calls no service; the certificate services stay empty).
#include "api/audit_routes.h"
#include "api/certificate_routes.h"
#include "api/document_routes.h"
#include "api/identity_routes.h"
#include "api/openapi.h"
#include "api/session_routes.h"
#include "api/job_routes.h"
#include "api/secret_routes.h"
#include "api/secured_router.h"
#include "api/transparency_routes.h"
#include "api/tsa_routes.h"
#include "api/identity_backends.h"
#include "http/router.h"
#include "identity/identity_service.h"
#include "identity/principal.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace cartorio::api {
namespace {

using nlohmann::json;

const std::vector<std::string>& operation_methods() {
  static const std::vector<std::string> m = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
  return m;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A router pattern as an OpenAPI path: "{name...}" (rest parameter) becomes "{name}";
// "{name}" and affixed parameters ("{name}.crl") are written the same way in both.
std::string openapi_path(std::string_view pattern) {
  std::string out(pattern);
  for (std::size_t p; (p = out.find("...}")) != std::string::npos;) out.erase(p, 3);
  return out;
}

// The parameter names of a path template: "/a/{x}/b{y}.c" -> {x, y}.
std::vector<std::string> template_params(const std::string& path) {
  std::vector<std::string> out;
  for (std::size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
    const auto close = path.find('}', open);
    if (close == std::string::npos) break;
    out.push_back(path.substr(open + 1, close - open - 1));
  }
  return out;
}

// Follows a local "$ref" ("#/components/..."); null when it does not resolve.
const json* resolve(const json& doc, const json& node) {
  const json* cur = &node;
  for (int depth = 0; depth < 8 && cur->is_object() && cur->contains("$ref"); ++depth) {
    const auto& ref = (*cur)["$ref"];
    if (!ref.is_string() || !ref.get<std::string>().starts_with("#/")) return nullptr;
    try {
      cur = &doc.at(json::json_pointer(ref.get<std::string>().substr(1)));
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  return cur;
}

void collect_refs(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "$ref" && it->is_string()) out.push_back(it->get<std::string>());
      else collect_refs(*it, out);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) collect_refs(v, out);
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(m_backends.open());
    m_auth.authenticator = m_backends.identity.get();
    m_auth.audit = m_backends.store.get();
    m_auth.clock = &m_backends.clock;
    m_secured = std::make_unique<SecuredRouter>(m_router, m_auth);
    // Registration does not dereference the services: empty ones are enough here.
    ASSERT_OK(add_certificate_routes(*m_secured, CertificateServices{}));
    ASSERT_OK(add_identity_routes(*m_secured, *m_backends.identity));
    ASSERT_OK(add_session_routes(*m_secured, *m_backends.identity));
    ASSERT_OK(add_openapi_route(*m_secured));
    ASSERT_OK(add_tsa_routes(*m_secured, nullptr));  // also public over HTTPS
    ASSERT_OK(add_document_routes(*m_secured, DocumentRouteServices{}));
    ASSERT_OK(add_audit_routes(*m_secured, AuditRouteServices{}));
    ASSERT_OK(add_secret_routes(*m_secured, nullptr));
    ASSERT_OK(add_job_routes(*m_secured, nullptr, {}));
    ASSERT_OK(add_transparency_routes(*m_secured, m_transparency));  // also public over HTTPS

    m_doc = json::parse(openapi_document(), nullptr, false);
    ASSERT_FALSE(m_doc.is_discarded()) << "openapi.json is not JSON";
    ASSERT_TRUE(m_doc.is_object());
    ASSERT_TRUE(m_doc.contains("paths") && m_doc["paths"].is_object());
  }

  const std::vector<RouteInfo>& routes() const { return m_secured->routes(); }

  // Every operation of the document as (path, method) -> operation.
  std::vector<std::tuple<std::string, std::string, const json*>> operations() const {
    std::vector<std::tuple<std::string, std::string, const json*>> out;
    for (auto p = m_doc["paths"].begin(); p != m_doc["paths"].end(); ++p)
      for (const auto& m : operation_methods())
        if (p->contains(m)) out.emplace_back(p.key(), m, &(*p)[m]);
    return out;
  }

  testing::IdentityBackends m_backends;
  AuthContext m_auth;
  http::Router m_router;
  std::unique_ptr<SecuredRouter> m_secured;
  TransparencyServices m_transparency;  // outlives the routes that refer to it
  json m_doc;
};

TEST_F(OpenApiTest, IsOpenApi31) {
  ASSERT_TRUE(m_doc.contains("openapi") && m_doc["openapi"].is_string());
  EXPECT_TRUE(m_doc["openapi"].get<std::string>().starts_with("3.1")) << m_doc["openapi"];
  ASSERT_TRUE(m_doc.contains("info") && m_doc["info"].is_object());
  EXPECT_TRUE(m_doc["info"].contains("title"));
  EXPECT_TRUE(m_doc["info"].contains("version"));
  EXPECT_FALSE(routes().empty());
}

TEST_F(OpenApiTest, EveryDeclaredRouteIsDocumentedWithItsPermission) {
  for (const auto& r : routes()) {
    const std::string path = openapi_path(r.pattern);
    const std::string method = lower(http::method_name(r.method));
    const std::string expected = r.permission ? std::string(identity::to_string(*r.permission)) : "public";
    SCOPED_TRACE(method + " " + path);
    ASSERT_TRUE(m_doc["paths"].contains(path)) << "route not documented: " << method << " " << r.pattern;
    const auto& item = m_doc["paths"][path];
    ASSERT_TRUE(item.contains(method)) << "route not documented: " << method << " " << r.pattern;
    const auto& op = item[method];
    ASSERT_TRUE(op.contains("x-permission")) << "no x-permission";
    EXPECT_EQ(op["x-permission"], expected);
    EXPECT_EQ(op.value("x-listener", std::string()), "https");
    // Who may call it: public routes need nothing, the others name the API's schemes.
    if (!r.permission) {
      EXPECT_TRUE(op.contains("security") && op["security"].is_array() && op["security"].empty())
          << "a public route declares security: []";
    } else {
      const json& security = op.contains("security") ? op["security"] : m_doc.value("security", json::array());
      ASSERT_TRUE(security.is_array() && !security.empty()) << "a secured route needs a security requirement";
      for (const auto& requirement : security) EXPECT_FALSE(requirement.empty()) << "{} would make it optional";
      ASSERT_TRUE(op.contains("responses"));
      for (const char* status : {"401", "403", "429"})
        EXPECT_TRUE(op["responses"].contains(status)) << "secured routes answer " << status;
    }
  }
}

TEST_F(OpenApiTest, EveryHttpsOperationIsADeclaredRoute) {
  std::set<std::pair<std::string, std::string>> declared;
  for (const auto& r : routes()) declared.emplace(openapi_path(r.pattern), lower(http::method_name(r.method)));
  for (const auto& [path, method, op] : operations()) {
    SCOPED_TRACE(method + " " + path);
    ASSERT_TRUE(op->contains("x-listener")) << "every operation says which listener serves it";
    const auto listener = (*op)["x-listener"].get<std::string>();
    EXPECT_TRUE(listener == "https" || listener == "http") << listener;
    ASSERT_TRUE(op->contains("x-permission"));
    if (listener == "https") {
      EXPECT_TRUE(declared.contains({path, method})) << "documented but not declared (stale docs?)";
    } else {
      // The plain-HTTP listener serves public, signed PKI objects and probes only.
      EXPECT_EQ((*op)["x-permission"], "public");
      EXPECT_FALSE(declared.contains({path, method})) << "a SecuredRouter route is served over HTTPS";
    }
  }
}

TEST_F(OpenApiTest, EveryPathParameterIsDeclared) {
  for (auto p = m_doc["paths"].begin(); p != m_doc["paths"].end(); ++p) {
    const std::string path = p.key();
    ASSERT_TRUE(path.starts_with("/")) << path;
    const auto names = template_params(path);
    for (const auto& [op_path, method, op] : operations()) {
      if (op_path != path) continue;
      SCOPED_TRACE(method + " " + path);
      // Path-level parameters, overridden by operation-level ones of the same name and "in".
      std::map<std::string, const json*> declared;
      const json* path_item = &*p;
      for (const json* level : {path_item, op}) {
        if (!level->contains("parameters")) continue;
        for (const auto& raw : (*level)["parameters"]) {
          const json* param = resolve(m_doc, raw);
          ASSERT_NE(param, nullptr) << raw.dump();
          ASSERT_TRUE(param->contains("name") && param->contains("in")) << param->dump();
          if ((*param)["in"] == "path") declared[(*param)["name"].get<std::string>()] = param;
        }
      }
      for (const auto& name : names) {
        ASSERT_TRUE(declared.contains(name)) << "path parameter {" << name << "} is not declared";
        EXPECT_EQ(declared[name]->value("required", false), true) << "path parameters are required";
        EXPECT_TRUE(declared[name]->contains("schema")) << name;
      }
      for (const auto& [name, param] : declared)
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
            << "path parameter " << name << " is not in the template";
    }
  }
}

TEST_F(OpenApiTest, OperationIdsAreUnique) {
  std::set<std::string> seen;
  for (const auto& [path, method, op] : operations()) {
    SCOPED_TRACE(method + " " + path);
    ASSERT_TRUE(op->contains("operationId") && (*op)["operationId"].is_string());
    const auto id = (*op)["operationId"].get<std::string>();
    EXPECT_FALSE(id.empty());
    EXPECT_TRUE(seen.insert(id).second) << "duplicate operationId " << id;
    EXPECT_TRUE(op->contains("summary"));
    EXPECT_TRUE(op->contains("responses") && !(*op)["responses"].empty());
  }
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
  std::vector<std::string> refs;
  collect_refs(m_doc, refs);
  EXPECT_FALSE(refs.empty());
  for (const auto& ref : refs) {
    ASSERT_TRUE(ref.starts_with("#/")) << "only local references: " << ref;
    EXPECT_NO_THROW((void)m_doc.at(json::json_pointer(ref.substr(1)))) << "unresolved " << ref;
  }
}

TEST_F(OpenApiTest, SecurityRequirementsNameDeclaredSchemes) {
  ASSERT_TRUE(m_doc.contains("components") && m_doc["components"].contains("securitySchemes"));
  const auto& schemes = m_doc["components"]["securitySchemes"];
  for (const char* name : {"bearerAuth", "apiKeyAuthorization", "apiKeyHeader", "mutualTLS"})
    EXPECT_TRUE(schemes.contains(name)) << name;
  for (const auto& [path, method, op] : operations()) {
    if (!op->contains("security")) continue;
    for (const auto& requirement : (*op)["security"])
      for (auto it = requirement.begin(); it != requirement.end(); ++it)
        EXPECT_TRUE(schemes.contains(it.key())) << method << " " << path << ": unknown scheme " << it.key();
  }
}

TEST_F(OpenApiTest, ServedAtOpenApiJson) {
  auto req = http::Request::create("GET", "/openapi.json");
  ASSERT_TRUE(req) << req.error().to_string();
  const auto response = m_router.dispatch(*req);
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(response.body(), std::string(openapi_document()));
}

}  // namespace
}  // namespace cartorio::api
