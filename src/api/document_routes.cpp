#include "api/document_routes.h"

#include "api/error_response.h"
#include "api/json_body.h"
#include "http/multipart.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <memory>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;
using identity::Permission;
using identity::Principal;

namespace {

// The uploaded PDF and its options, from either request form.
struct Upload {
  std::string_view pdf;
  std::map<std::string, std::string> fields;
};

core::Result<Upload> read_upload(const Request& req, std::size_t max_pdf_bytes) {
  const std::string content_type(req.header("Content-Type").value_or(""));
  Upload up;
  if (auto boundary = http::multipart_boundary(content_type)) {
    CARTORIO_TRY(auto parts, http::parse_multipart(req.body(), *boundary));
    bool have_file = false;
    for (const auto& p : parts) {
      if (p.name == "file") {
        up.pdf = p.data;
        have_file = true;
      } else if (p.data.size() <= 1024) {
        up.fields[p.name] = std::string(p.data);
      }
    }
    if (!have_file) return core::Error{core::Errc::invalid_argument, "the multipart body has no \"file\" part"};
  } else if (content_type.rfind("application/pdf", 0) == 0) {
    up.pdf = req.body();
    for (const char* name :
         {"title", "level", "visible", "page", "reason", "signer", "signer_cpf", "signer_name", "signer_email"})
      if (auto v = req.query_param(name)) up.fields[name] = *v;
  } else {
    return core::Error{core::Errc::invalid_argument,
                       "send the PDF as application/pdf or multipart/form-data (part \"file\")"};
  }
  if (up.pdf.size() > max_pdf_bytes)
    return core::Error{core::Errc::pdf_too_large, "the PDF is larger than " + std::to_string(max_pdf_bytes) + " bytes"};
  return up;
}

Response unsupported_media(const core::Error& e) {
  return Response::problem(415, "request.unsupported_media_type", "Unsupported media type", e.message);
}

nlohmann::json record_json(const store::DocumentRecord& r) {
  return {{"id", r.id},
          {"title", r.title},
          {"owner", r.owner},
          {"level", r.level},
          {"original_sha256", r.original_sha256},
          {"signed_sha256", r.signed_sha256},
          {"signed_size", r.signed_size},
          {"signer_serial", r.signer_serial},
          {"created_at", r.created_at}};
}

// The signatory's fields, in the clear, for a caller who may see the record.
void add_signatory(nlohmann::json& body, const documents::Signatory& s) {
  if (s.cpf) body["signer_cpf"] = s.cpf->formatted();
  if (!s.name.empty()) body["signer_name"] = s.name;
  if (!s.email.empty()) body["signer_email"] = s.email;
}

// The record with its signatory opened; Errc::store_error for a token that does not open.
core::Result<nlohmann::json> document_json(const DocumentRouteServices& s, const store::DocumentRecord& r) {
  auto body = record_json(r);
  CARTORIO_TRY(const auto signatory, s.service->signatory(r));
  add_signatory(body, signatory);
  return body;
}

// Owners see their own; those who may sign (notaries) see the office's. Whoever sees a
// record sees its signatory's personal data too: the owner entered it, a notary acts for
// the office. Other roles (admin, auditor) have no document route at all.
bool may_see(const Principal& who, const store::DocumentRecord& r) {
  return r.owner == who.subject || who.allows(Permission::document_sign);
}

Response sign(const DocumentRouteServices& s, const Request& req, const Principal& who) {
  auto up = read_upload(req, s.max_pdf_bytes);
  if (!up) return up.error().code == core::Errc::invalid_argument ? unsupported_media(up.error()) : error_response(up.error());
  documents::SignDocumentRequest sr;
  sr.pdf = up->pdf;
  sr.owner = who.subject;
  auto field = [&](const char* n) { return up->fields.count(n) ? up->fields.at(n) : std::string(); };
  sr.title = field("title");
  sr.reason = field("reason");
  sr.signer_name = field("signer").empty() ? who.subject.substr(who.subject.find(':') + 1) : field("signer");
  sr.signatory = {field("signer_cpf"), field("signer_name"), field("signer_email")};
  if (!field("level").empty()) {
    auto level = signing::parse_pades_level(field("level"));
    if (!level) return error_response(level.error());
    sr.level = *level;
  }
  const std::string visible = field("visible");
  sr.visible = visible == "true" || visible == "1" || visible == "on";
  if (!field("page").empty()) {
    const std::string p = field("page");
    int page = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), page);
    if (ec != std::errc() || end != p.data() + p.size() || page < 1)
      return bad_request("request.invalid_page", "page must be a positive integer");
    sr.page = page;
  }
  sr.source = req.remote_address();
  sr.request_id = req.request_id();
  auto signed_doc = s.service->sign(sr);
  if (!signed_doc) return error_response(signed_doc.error());
  auto body = record_json(signed_doc->record);
  add_signatory(body, signed_doc->signatory);  // what the caller just sent, validated
  body["download_url"] = signed_doc->download_path;
  body["download_expires_at"] = signed_doc->link_expires_at;
  auto res = Response::json(body.dump(), 201);
  res.set_header("Location", "/api/v1/documents/" + signed_doc->record.id);
  return res;
}

Response list(const DocumentRouteServices& s, const Request& req, const Principal& who) {
  const auto limit = int_query(req, "limit", 1, 1000, 100);
  if (!limit) return bad_request("request.invalid_limit", "limit must be between 1 and 1000");
  store::DocumentFilter f;
  f.owner = who.subject;
  f.limit = *limit;
  if (auto cpf = req.query_param("signer_cpf")) {
    // An exact lookup through the blind index; a malformed CPF is bad input, not "none".
    auto index = s.service->signer_cpf_index(*cpf);
    if (!index) return error_response(index.error());
    f.signer_cpf_index = std::move(*index);
    // The same reach as GET /documents/{id}: a notary searches the office's documents.
    if (who.allows(Permission::document_sign)) f.owner.reset();
  }
  auto docs = s.documents->list_documents(f);
  if (!docs) return error_response(docs.error());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& d : *docs) {
    auto item = document_json(s, d);
    if (!item) return error_response(item.error());
    items.push_back(std::move(*item));
  }
  return Response::json(nlohmann::json{{"documents", items}}.dump());
}

Response get(const DocumentRouteServices& s, const Request& req, const Principal& who) {
  const std::string id(req.param("id"));
  auto rec = s.documents->get_document(id);
  if (!rec && rec.error().code != core::Errc::not_found) return error_response(rec.error());
  if (!rec || !may_see(who, *rec))
    return Response::problem(404, "store.not_found", "Not found", "no such document");  // others' ids reveal nothing
  auto body = document_json(s, *rec);
  if (!body) return error_response(body.error());
  (*body)["download_url"] = s.links->make(id, s.link_lifetime);
  (*body)["download_expires_at"] = core::to_unix(s.clock->now()) + s.link_lifetime.count();
  return Response::json(body->dump());
}

Response content(const DocumentRouteServices& s, const Request& req) {
  const std::string id(req.param("id"));
  if (auto ok = s.links->check(id, req.query_param("expires").value_or(""), req.query_param("sig").value_or("")); !ok)
    return error_response(ok.error());
  auto pdf = s.service->content(id);
  if (!pdf) return error_response(pdf.error());
  auto res = Response::bytes("application/pdf", std::move(*pdf));
  res.set_header("Content-Disposition", "attachment; filename=\"" + id + ".pdf\"");
  res.set_header("Cache-Control", "private, no-store");
  return res;
}

Response verify(const DocumentRouteServices& s, const Request& req) {
  auto up = read_upload(req, s.max_pdf_bytes);
  if (!up) return up.error().code == core::Errc::invalid_argument ? unsupported_media(up.error()) : error_response(up.error());
  auto report = s.verify(up->pdf);
  if (!report) return error_response(report.error());
  if (req.query_param("format").value_or("") == "text")
    return Response::bytes("text/plain; charset=utf-8", signing::to_text(*report));
  return Response::json(signing::to_json(*report).dump());
}

}  // namespace

core::Result<void> add_document_routes(SecuredRouter& router, DocumentRouteServices services) {
  auto s = std::make_shared<const DocumentRouteServices>(std::move(services));
  CARTORIO_TRY_VOID(router.add(Method::post, "/api/v1/documents", Permission::document_sign,
                               [s](const Request& r, const Principal& p) { return sign(*s, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/documents", Permission::document_request,
                               [s](const Request& r, const Principal& p) { return list(*s, r, p); }));
  CARTORIO_TRY_VOID(router.add(Method::get, "/api/v1/documents/{id}", Permission::document_request,
                               [s](const Request& r, const Principal& p) { return get(*s, r, p); }));
  // The signed link is the permission (it names the document and its expiry under our key).
  CARTORIO_TRY_VOID(router.add_public(Method::get, "/api/v1/documents/{id}/content",
                                      [s](const Request& r) { return content(*s, r); }));
  CARTORIO_TRY_VOID(router.add_public(Method::post, "/api/v1/verify", [s](const Request& r) { return verify(*s, r); }));
  return core::ok();
}

}  // namespace cartorio::api
