#include "identity/access_token.h"

#include "identity/jwt.h"

#include <nlohmann/json.hpp>

namespace cartorio::identity {

namespace {

using core::Errc;
using core::Error;

Error refused(std::string why) { return Error(Errc::unauthenticated, std::move(why)); }

std::optional<std::string> string_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::int64_t> int_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    return std::nullopt;
  return it->get<std::int64_t>();
}

std::optional<std::vector<std::string>> strings_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::vector<std::string>{};
  if (!it->is_array()) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

core::Result<AccessClaims> decode_access_token(std::string_view token, const AccessTokenRules& rules,
                                               const AccessTokenVerifier& verify) {
  CARTORIO_TRY(auto jws, jwt::split_compact(token));
  const auto header = nlohmann::json::parse(jws.header_json, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return refused("JWT header is not a JSON object");
  if (string_member(header, "alg") != "ES256") return refused("JWT alg is not ES256");
  const auto typ = string_member(header, "typ");
  if (typ != kAccessTokenType && typ != "application/at+jwt") return refused("JWT typ is not at+jwt");
  if (header.contains("crit")) return refused("JWT has critical header parameters");
  auto kid = string_member(header, "kid");
  if (!kid || kid->empty()) return refused("JWT has no kid");
  auto verified = verify(*kid, jws.signing_input, jws.signature);
  if (!verified) return verified.error();
  if (!*verified) return refused("JWT signature does not verify with a current key (kid " + *kid + ")");

  const auto claims = nlohmann::json::parse(jws.payload_json, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return refused("JWT claims are not a JSON object");
  if (string_member(claims, "iss") != rules.issuer) return refused("JWT iss is not ours");
  bool audience_ok = string_member(claims, "aud") == rules.audience;
  if (auto aud = claims.find("aud"); !audience_ok && aud != claims.end() && aud->is_array())
    for (const auto& a : *aud) audience_ok = audience_ok || (a.is_string() && a.get<std::string>() == rules.audience);
  if (!audience_ok) return refused("JWT aud is not ours");

  auto sub = string_member(claims, "sub");
  auto jti = string_member(claims, "jti");
  auto exp = int_member(claims, "exp");
  auto iat = int_member(claims, "iat");
  auto nbf = int_member(claims, "nbf");
  auto roles = strings_member(claims, "roles");
  auto amr = strings_member(claims, "amr");
  if (!sub || sub->empty() || !jti || !exp || !iat || !roles || !amr) return refused("JWT lacks a required claim");
  if (rules.check_expiry && *exp + rules.leeway_seconds <= rules.now) return refused("JWT expired");
  if (nbf && *nbf - rules.leeway_seconds > rules.now) return refused("JWT not yet valid");
  if (*iat - rules.leeway_seconds > rules.now) return refused("JWT issued in the future");
  AccessClaims c;
  c.kid = std::move(*kid);
  c.sub = std::move(*sub);
  c.jti = std::move(*jti);
  c.exp = *exp;
  c.iat = *iat;
  c.nbf = nbf;
  c.roles = std::move(*roles);
  c.amr = std::move(*amr);
  c.scope = string_member(claims, "scope").value_or("");
  c.sid = string_member(claims, "sid").value_or("");
  c.client_id = string_member(claims, "client_id").value_or("");
  if (auto cnf = claims.find("cnf"); cnf != claims.end()) {
    auto x5t = cnf->is_object() ? string_member(*cnf, "x5t#S256") : std::nullopt;
    if (!x5t || x5t->empty()) return refused("JWT cnf has no x5t#S256");
    c.cnf_x5t = std::move(*x5t);
  }
  return c;
}

}  // namespace cartorio::identity
