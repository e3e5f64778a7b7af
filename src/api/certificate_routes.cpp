#include "api/certificate_routes.h"

#include "api/error_response.h"
#include "api/json_body.h"
#include "crypto/bytes.h"
#include "crypto/x509.h"
#include "pki/certificate_issuer.h"
#include "pki/certificate_json.h"

#include <nlohmann/json.hpp>

#include <openssl/x509.h>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::Permission;
using identity::Principal;

namespace {

constexpr int kMaxPageSize = 1000;

// The store spells serials in lowercase hex without leading zeros; accept any hex form.
core::Result<std::string> canonical_serial(std::string_view text) {
  CARTORIO_TRY(auto serial, crypto::serial_from_hex(text));
  return crypto::serial_hex(serial.get());
}

Response issue(const CertificateServices& s, const Request& req, const Principal& who) {
  auto body = parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  const auto profile = body->value("profile", std::string());
  const auto csr = body->value("csr", std::string());
  if (profile.empty() || csr.empty()) return bad_request("request.missing_field", "profile and csr are required");
  if (csr.size() > kMaxCsrBytes) return bad_request("csr.too_large", "the CSR is limited to 64 KiB");
  pki::IssueRequest ir;
  ir.profile = profile;
  ir.csr = crypto::as_bytes(csr);
  ir.requester = who.subject;
  if (body->contains("issuer")) {
    if (!(*body)["issuer"].is_string()) return bad_request("request.invalid_field", "issuer must be a string");
    ir.issuer = (*body)["issuer"].get<std::string>();
  }
  if (body->contains("validity_days")) {
    const auto& v = (*body)["validity_days"];
    // The profile bounds it further; this only keeps the number an int.
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 36500)
      return bad_request("request.invalid_field", "validity_days must be an integer in 1..36500");
    ir.validity_days = v.get<int>();
  }
  pki::CertificateIssuer issuer(*s.hierarchy, *s.keys, *s.store, *s.clock, s.urls);
  auto issued = issuer.issue(ir);
  if (!issued) return error_response(issued.error());
  auto j = pki::to_json(issued->record, true);
  j["chain_pem"] = issued->chain_pem;
  Response r = Response::json(j.dump(), 201);
  r.set_header("Location", "/api/v1/certificates/" + issued->record.serial);
  return r;
}

Response list(const CertificateServices& s, const Request& req) {
  store::CertificateFilter f;
  auto limit = int_query(req, "limit", 1, kMaxPageSize, 100);
  auto offset = int_query(req, "offset", 0, 1'000'000'000, 0);
  auto within = int_query(req, "expiring_within_days", 0, 36500, -1);
  if (!limit || !offset || !within)
    return bad_request("request.invalid_query", "limit (1..1000), offset (>= 0) and expiring_within_days (0..36500)");
  f.limit = *limit;
  f.offset = *offset;
  if (auto status = req.query_param("status")) {
    if (*status == "good") f.status = store::CertificateStatus::good;
    else if (*status == "revoked") f.status = store::CertificateStatus::revoked;
    else return bad_request("request.invalid_query", "status is good or revoked");
  }
  if (auto profile = req.query_param("profile")) f.profile = *profile;
  if (auto issuer = req.query_param("issuer")) f.issuer = *issuer;
  if (*within >= 0) {
    const auto now = core::to_unix(s.clock->now());
    f.not_after_after = now;  // already expired is not "expiring"
    f.not_after_before = now + static_cast<std::int64_t>(*within) * 86400;
  }
  auto page = s.store->list_certificates(f);
  if (!page) return error_response(page.error());
  nlohmann::ordered_json j;
  j["items"] = nlohmann::ordered_json::array();
  for (const auto& rec : *page) j["items"].push_back(pki::to_json(rec, false));
  // A full page may have a successor; an empty next page is the end.
  if (static_cast<int>(page->size()) == f.limit) j["next_offset"] = f.offset + f.limit;
  return Response::json(j.dump());
}

core::Result<store::CertificateRecord> find(const CertificateServices& s, const Request& req) {
  CARTORIO_TRY(auto serial, canonical_serial(req.param("serial")));
  return s.store->get_certificate(serial);
}

Response chain(const CertificateServices& s, const Request& req) {
  auto rec = find(s, req);
  if (!rec) return error_response(rec.error());
  auto issuers = s.hierarchy->chain_pem(rec->issuer);
  if (!issuers) return error_response(issuers.error());
  return Response::bytes("application/pem-certificate-chain", rec->pem + *issuers);
}

Response revoke(const CertificateServices& s, const Request& req, const Principal& who) {
  auto serial = canonical_serial(req.param("serial"));
  if (!serial) return error_response(serial.error());
  // Every field is optional: an empty body revokes with reason "unspecified".
  auto body = req.body().empty() ? std::optional<nlohmann::json>(nlohmann::json::object()) : parse_json_object(req);
  if (!body) return bad_request("request.invalid_json", "the body must be a JSON object");
  if (body->contains("reason") && !(*body)["reason"].is_string())
    return bad_request("request.invalid_field", "reason must be a string");
  const auto reason_name = body->value("reason", std::string("unspecified"));
  auto reason = pki::parse_revocation_reason(reason_name);
  if (!reason) return error_response(reason.error());
  auto rec = s.revoke(*serial, *reason, who.subject, req.remote_address());
  if (!rec) return error_response(rec.error());
  return Response::json(pki::to_json(*rec, false).dump());
}

Response list_cas(const CertificateServices& s) {
  auto all = s.store->list_authorities();
  if (!all) return error_response(all.error());
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& a : *all) {
    auto cert = crypto::parse_certificate(crypto::as_bytes(a.cert_pem));
    if (!cert) return error_response(cert.error());
    j.push_back({{"name", a.name},
                 {"subject", crypto::name_to_string(X509_get_subject_name(cert->get()))},
                 {"not_after", pki::iso8601(crypto::asn1_time_to_unix(X509_get0_notAfter(cert->get())))},
                 {"pem", a.cert_pem}});
  }
  return Response::json(j.dump());
}

}  // namespace

core::Result<void> add_certificate_routes(SecuredRouter& router, CertificateServices services) {
  auto s = std::make_shared<const CertificateServices>(std::move(services));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/certificates", Permission::certificate_issue,
                               [s](const Request& req, const Principal& who) { return issue(*s, req, who); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/certificates", Permission::certificate_read,
                               [s](const Request& req, const Principal&) { return list(*s, req); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/certificates/{serial}", Permission::certificate_read,
                               [s](const Request& req, const Principal&) {
                                 auto rec = find(*s, req);
                                 if (!rec) return error_response(rec.error());
                                 return Response::json(pki::to_json(*rec, true).dump());
                               }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/certificates/{serial}/chain", Permission::certificate_read,
                               [s](const Request& req, const Principal&) { return chain(*s, req); }));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/certificates/{serial}/revoke", Permission::certificate_revoke,
                               [s](const Request& req, const Principal& who) { return revoke(*s, req, who); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/ca", Permission::ca_read,
                               [s](const Request&, const Principal&) { return list_cas(*s); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/ca/{name}/chain", Permission::ca_read,
                               [s](const Request& req, const Principal&) {
                                 auto pem = s->hierarchy->chain_pem(std::string(req.param("name")));
                                 if (!pem) return error_response(pem.error());
                                 return Response::bytes("application/pem-certificate-chain", *pem);
                               }));
  return core::ok();
}

}  // namespace cartorio::api
