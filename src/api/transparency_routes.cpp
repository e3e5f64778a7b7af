#include "api/transparency_routes.h"

#include "api/detail/log_proofs.h"
#include "api/error_response.h"
#include "audit/leaf.h"
#include "pki/certificate_issuer.h"

#include <functional>
#include <variant>

namespace cartorio::api {

using http::Method;
using http::Request;
using http::Response;

namespace {

using Add = std::function<core::Result<void>(std::string_view pattern, http::Handler handler)>;

Response not_found(const std::string& what) {
  return Response::problem(404, "transparency.not_found", "Not in the log", what + " was not issued or signed here");
}

nlohmann::json certificate_json(const store::CertificateRecord& c) {
  nlohmann::json j{{"serial", c.serial},
                   {"issuer", c.issuer},
                   {"not_before", c.not_before},
                   {"not_after", c.not_after},
                   {"status", c.status == store::CertificateStatus::revoked ? "revoked" : "good"}};
  if (c.status == store::CertificateStatus::revoked) {
    j["revoked_at"] = c.revoked_at;
    j["revocation_reason"] = pki::revocation_reason_name(c.revocation_reason);
  }
  return j;
}

// The log entry for (kind, ref), its inclusion proof against the latest head (null while no
// head covers it yet) and that head.
std::variant<nlohmann::json, Response> log_part(const TransparencyServices& s, const std::string& kind,
                                                const std::string& ref) {
  auto entry = s.store->find_transparency_entry(kind, ref);
  if (!entry) {
    if (entry.error().code == core::Errc::not_found) return not_found(kind + " " + ref);
    return detail::log_unavailable("entry", entry.error());
  }
  nlohmann::json out{{"entry_id", entry->id}};
  auto head = s.heads->latest();
  if (!head) return detail::log_unavailable("tree-head", head.error());
  out["tree_head"] = *head ? nlohmann::json::parse((*head)->to_json()) : nlohmann::json();
  out["inclusion"] = nullptr;
  if (*head && (*head)->tree_size > 0) {
    auto proof = detail::inclusion(*s.heads, entry->id, (*head)->tree_size, audit::transparency_fields(*entry));
    if (auto* j = std::get_if<nlohmann::json>(&proof)) out["inclusion"] = std::move(*j);
    else if (std::get<Response>(proof).status() != 404) return std::get<Response>(std::move(proof));
  }
  // Not yet under a signed head: the next checkpoint covers it.
  out["pending"] = out["inclusion"].is_null();
  return out;
}

std::variant<nlohmann::json, Response> document_answer(const TransparencyServices& s,
                                                       const store::DocumentRecord& d) {
  nlohmann::json out{{"document",
                      {{"id", d.id},
                       {"signed_sha256", d.signed_sha256},
                       {"original_sha256", d.original_sha256},
                       {"level", d.level},
                       {"signed_at", d.created_at}}}};
  auto cert = s.store->get_certificate(d.signer_serial);
  if (!cert) return detail::log_unavailable("certificate", cert.error());
  out["certificate"] = certificate_json(*cert);
  auto log = log_part(s, "document", d.id);
  if (auto* r = std::get_if<Response>(&log)) return std::move(*r);
  out["log"] = std::move(std::get<nlohmann::json>(log));
  return out;
}

Response as_response(std::variant<nlohmann::json, Response> v) {
  if (auto* r = std::get_if<Response>(&v)) return std::move(*r);
  Response r = Response::json(std::get<nlohmann::json>(v).dump());
  r.set_header("Cache-Control", "public, max-age=60");
  return r;
}

Response document_by_id(const TransparencyServices& s, const std::string& id) {
  auto d = s.store->get_document(id);
  if (!d) {
    if (d.error().code == core::Errc::not_found) return not_found("document " + id);
    return detail::log_unavailable("document", d.error());
  }
  return as_response(document_answer(s, *d));
}

Response documents_by_digest(const TransparencyServices& s, const Request& req) {
  auto digest = req.query_param("sha256");
  if (!digest) return bad_request("request.missing_field", "pass ?sha256=<hex digest of the PDF>");
  auto docs = s.store->find_documents_by_digest(*digest);
  if (!docs) return error_response(docs.error());
  if (docs->empty()) return not_found("a document with that digest");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : *docs) {
    auto one = document_answer(s, d);
    if (auto* r = std::get_if<Response>(&one)) return std::move(*r);
    out.push_back(std::move(std::get<nlohmann::json>(one)));
  }
  return as_response(nlohmann::json{{"documents", out}});
}

Response certificate_by_serial(const TransparencyServices& s, const std::string& serial) {
  auto c = s.store->get_certificate(serial);
  if (!c) {
    if (c.error().code == core::Errc::not_found || c.error().code == core::Errc::invalid_serial)
      return not_found("certificate " + serial);
    return detail::log_unavailable("certificate", c.error());
  }
  nlohmann::json out{{"certificate", certificate_json(*c)}};
  auto log = log_part(s, "certificate", serial);
  if (auto* r = std::get_if<Response>(&log)) return std::move(*r);
  out["log"] = std::move(std::get<nlohmann::json>(log));
  return as_response(std::move(out));
}

std::string html_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string utc(std::int64_t unix_seconds) {
  char buf[32];
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// The page the stamp's QR code opens: the document's facts, in Portuguese and English.
Response verify_page(const TransparencyServices& s, const std::string& id) {
  std::string body;
  int status = 200;
  auto d = s.store->get_document(id);
  if (!d && d.error().code != core::Errc::not_found) return detail::log_unavailable("document", d.error());
  std::variant<nlohmann::json, Response> answer = d ? document_answer(s, *d) : std::variant<nlohmann::json, Response>(not_found(id));
  if (auto* j = std::get_if<nlohmann::json>(&answer)) {
    const auto& doc = (*j)["document"];
    const auto& cert = (*j)["certificate"];
    const bool revoked = cert["status"] == "revoked";
    const bool pending = (*j)["log"]["pending"].get<bool>();
    body += revoked ? "<h1 class=\"bad\" id=\"status\" data-status=\"revoked\">&#10006; Assinatura revogada / Signature withdrawn</h1>"
                      "<p>O cartório revogou o certificado deste documento em " +
                          utc(cert["revoked_at"].get<std::int64_t>()) + " (" +
                          html_escape(cert.value("revocation_reason", std::string())) +
                          "): a assinatura não vale mais. / The office revoked this document's certificate: the "
                          "signature no longer stands.</p>"
                    : "<h1 class=\"ok\" id=\"status\" data-status=\"good\">&#10004; Documento assinado / Signed document</h1>";
    body += "<dl><dt>Documento / Document</dt><dd><code>" + html_escape(doc["id"].get<std::string>()) + "</code></dd>";
    body += "<dt>Assinado em / Signed at</dt><dd>" + utc(doc["signed_at"].get<std::int64_t>()) + "</dd>";
    body += "<dt>Nível / Level</dt><dd>PAdES " + html_escape(doc["level"].get<std::string>()) + "</dd>";
    body += "<dt>SHA-256 do PDF assinado / of the signed PDF</dt><dd><code>" +
            html_escape(doc["signed_sha256"].get<std::string>()) + "</code></dd>";
    body += "<dt>Certificado / Certificate</dt><dd><code>" + html_escape(cert["serial"].get<std::string>()) +
            "</code> (" + (revoked ? "revogado em / revoked at " + utc(cert["revoked_at"].get<std::int64_t>()) : "válido / good") +
            ")</dd>";
    body += "<dt>Registro público / Transparency log</dt><dd>" +
            std::string(pending ? "registrado; entra na próxima árvore assinada / recorded, in the next signed tree head"
                                : "incluído na árvore assinada de " +
                                      std::to_string((*j)["log"]["inclusion"]["tree_size"].get<std::uint64_t>()) +
                                      " entradas / included in the signed tree head") +
            "</dd></dl>";
    body += "<p>Compare o SHA-256 acima com o do seu arquivo (<code>sha256sum arquivo.pdf</code>). "
            "Prova verificável / verifiable proof: <a href=\"/transparency/documents/" + html_escape(id) +
            "\">JSON</a>. <a href=\"/portal/#/verify\">Verificar um PDF / Verify a PDF</a>.</p>";
  } else {
    status = std::get<Response>(answer).status();
    if (status != 404) return std::get<Response>(std::move(answer));
    body = "<h1>Documento não encontrado / Document not found</h1><p>Nenhum documento <code>" + html_escape(id) +
           "</code> foi assinado por este cartório. / No such document was signed here.</p>";
  }
  Response r = Response::bytes("text/html; charset=utf-8",
                               "<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                               "content=\"width=device-width\"><title>Verificação / Verification</title><style>body{font-family:"
                               "sans-serif;max-width:46em;margin:2em auto;padding:0 1em}dt{font-weight:bold;margin-top:.6em}"
                               "code{word-break:break-all}h1.ok{color:#0a5c2b}h1.bad{color:#a4161a}</style></head><body>" +
                                   body + "</body></html>",
                               status);
  r.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  return r;
}

core::Result<void> add_all(const Add& add, const TransparencyServices& s) {
  CARTORIO_TRY_VOID(add("/transparency/tree-head", [&s](const Request&) {
    Response r = detail::latest_head(*s.heads);
    if (r.status() == 200) r.set_header("Cache-Control", "public, max-age=60");
    return r;
  }));
  CARTORIO_TRY_VOID(add("/transparency/key", [&s](const Request&) {
    Response r = Response::bytes("application/x-pem-file", s.public_key_pem);
    r.set_header("Cache-Control", "public, max-age=3600");
    return r;
  }));
  CARTORIO_TRY_VOID(add("/transparency/proofs/consistency",
                        [&s](const Request& req) { return detail::consistency(*s.heads, req); }));
  CARTORIO_TRY_VOID(add("/transparency/documents/{id}",
                        [&s](const Request& req) { return document_by_id(s, std::string(req.param("id"))); }));
  CARTORIO_TRY_VOID(add("/transparency/documents", [&s](const Request& req) { return documents_by_digest(s, req); }));
  CARTORIO_TRY_VOID(add("/transparency/certificates/{serial}", [&s](const Request& req) {
    return certificate_by_serial(s, std::string(req.param("serial")));
  }));
  CARTORIO_TRY_VOID(add("/verify/{id}", [&s](const Request& req) { return verify_page(s, std::string(req.param("id"))); }));
  return core::ok();
}

}  // namespace

core::Result<void> add_transparency_routes(http::Router& router, const TransparencyServices& services) {
  return add_all([&router](std::string_view p, http::Handler h) { return router.get(p, std::move(h)); }, services);
}

core::Result<void> add_transparency_routes(SecuredRouter& router, const TransparencyServices& services) {
  return add_all([&router](std::string_view p, http::Handler h) { return router.add_public(Method::get, p, std::move(h)); },
                 services);
}

}  // namespace cartorio::api
