#include "documents/document_service.h"

#include "core/log.h"
#include "crypto/key_pair.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"
#include "documents/document_id.h"
#include "pki/certificate_issuer.h"
#include "signing/visible_stamp.h"

#include <ctime>

namespace cartorio::documents {
namespace {

using core::Errc;

// At most `max` bytes of UTF-8, cut at a character boundary.
std::string utf8_prefix(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

core::Result<void> check_text(const std::string& what, const std::string& s, std::size_t max) {
  if (s.size() > max) return core::Error{Errc::invalid_argument, what + " is longer than " + std::to_string(max) + " bytes"};
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return core::Error{Errc::invalid_argument, what + " holds control characters"};
  return core::ok();
}

core::Error no_personal_data() {
  return core::Error{Errc::not_initialized,
                     "personal data (signer_cpf, signer_name, signer_email) is not set up on this instance: "
                     "pii.index_key_file is missing (docs/personal-data.md)"};
}

std::string utc_minute(core::TimePoint t) {
  const std::time_t s = core::to_unix(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

core::Result<SignedDocument> DocumentService::sign(const SignDocumentRequest& request) {
  CARTORIO_TRY_VOID(check_text("the title", request.title, 200));
  CARTORIO_TRY_VOID(check_text("the signer's name", request.signer_name, 128));
  CARTORIO_TRY_VOID(check_text("the reason", request.reason, 200));
  if (request.owner.empty()) return core::Error{Errc::invalid_argument, "a document needs an owner"};
  CARTORIO_TRY(Signatory signatory, parse_signatory(request.signatory));
  if (!signatory.empty() && !m_deps.personal_data) return no_personal_data();
  const signing::PadesLevel level = request.level.value_or(m_options.default_level);
  if (level != signing::PadesLevel::b_b && !m_deps.timestamps)
    return core::Error{Errc::tsa_unavailable, "no time-stamp authority is configured"};

  // 1. Bad input is refused before a certificate exists for it.
  CARTORIO_TRY(const auto info, signing::inspect_pdf(request.pdf, m_options.max_pdf_bytes));
  const std::string id = new_document_id();
  // Sealed before the certificate exists: a key ring failure then costs nothing.
  SignedDocument out;
  auto& rec = out.record;
  rec.id = id;
  if (!signatory.empty()) CARTORIO_TRY_VOID(m_deps.personal_data->seal(signatory, rec));
  crypto::Sha256 input_hash;
  input_hash.update(request.pdf);
  const auto original_digest = input_hash.digest();
  const std::string signer_name = request.signer_name.empty() ? request.owner : request.signer_name;
  const std::string verify_url = m_options.verify_base_url + "/verify/" + id;
  std::optional<signing::SignatureAppearance> stamp;
  if (request.visible) {
    CARTORIO_TRY(stamp, signing::make_stamp(info, request.page,
                                            {signer_name, utc_minute(m_deps.clock->now()), id, verify_url}, request.rect));
  }

  // 2-3. A key for this document only, and its certificate.
  CARTORIO_TRY(auto key, crypto::generate_key(crypto::KeyAlgorithm::ec_p256));
  crypto::CsrSpec csr;
  csr.subject = {{"CN", utf8_prefix(signer_name, 64)}, {"O", m_options.organization}};
  if (!request.title.empty()) csr.subject.push_back({"OU", utf8_prefix(request.title, 64)});
  csr.uri_sans = {"ni:///sha-256;" + crypto::to_base64url(crypto::ByteView(original_digest.data(), original_digest.size())),
                  verify_url};
  CARTORIO_TRY(const auto csr_der, crypto::make_csr_der(key.get(), csr));
  pki::CertificateIssuer issuer(*m_deps.hierarchy, *m_deps.keys, *m_deps.store, *m_deps.clock, m_deps.urls);
  pki::IssueRequest issue;
  issue.profile = "document-signing";
  issue.csr = csr_der;
  issue.issuer = pki::kDocumentCa;
  issue.validity_days = m_options.certificate_validity_days;
  issue.requester = request.owner;
  CARTORIO_TRY(const auto issued, issuer.issue(issue));
  const std::string serial = issued.record.serial;

  // From here on a failure abandons the certificate (and the stored object, if any).
  bool stored = false;
  auto fail = [&](core::Error e) -> core::Error {
    if (stored) {
      if (auto r = m_deps.objects->erase(object_key(id)); !r)
        core::log::error("document.cleanup_failed", {{"document", id}, {"error", r.error().to_string()}});
    }
    if (m_deps.abandon) m_deps.abandon(serial);
    core::log::warn("document.sign_failed", {{"document", id}, {"serial", serial}, {"error", e.to_string()}});
    return e;
  };

  auto cert = crypto::parse_certificate(crypto::as_bytes(issued.record.pem));
  if (!cert) return fail(cert.error());
  CARTORIO_TRY(const auto* document_ca, m_deps.hierarchy->get(pki::kDocumentCa));
  CARTORIO_TRY(const auto* root, m_deps.hierarchy->get(pki::kRoot));

  // 4. The signature.
  signing::PadesRequest pades;
  pades.pdf = request.pdf;
  pades.level = level;
  pades.signer = {key.get(), cert->get(), {document_ca->cert.get(), root->cert.get()}};
  pades.signing_time = m_deps.clock->now();
  pades.name = signer_name;
  pades.reason = request.reason.empty() ? "Assinatura digital pelo " + m_options.organization : request.reason;
  pades.contact_info = verify_url;
  pades.appearance = std::move(stamp);
  pades.max_bytes = m_options.max_pdf_bytes;
  pades.pdf_hash = &input_hash;
  auto signed_pdf = signing::sign_pades(pades, {m_deps.timestamps, m_deps.validation});
  key.reset();  // the per-document key is never stored
  if (!signed_pdf) return fail(signed_pdf.error());

  // 5. The object, then 6. the record and its audit event together.
  objectstore::PutOptions put;
  put.content_type = "application/pdf";
  put.metadata = {{"document-id", id}};
  if (signed_pdf->sha256)
    put.sha256_hex = crypto::to_hex(crypto::ByteView(signed_pdf->sha256->data(), signed_pdf->sha256->size()));
  auto object = m_deps.objects->put(object_key(id), signed_pdf->pdf, put);
  if (!object) return fail(object.error());
  stored = true;
  rec.owner = request.owner;
  rec.title = request.title;
  rec.original_sha256 = crypto::to_hex(crypto::ByteView(original_digest.data(), original_digest.size()));
  rec.signed_sha256 = object->etag;  // the object store's ETag is the SHA-256 of the bytes
  rec.signed_size = static_cast<std::int64_t>(signed_pdf->pdf.size());
  rec.object_key = object_key(id);
  rec.signer_serial = serial;
  rec.level = std::string(signing::to_string(level));
  rec.created_at = core::to_unix(m_deps.clock->now());
  store::AuditEvent event;
  event.time = rec.created_at;
  event.actor = request.owner;
  event.action = "document.sign";
  event.target = id;
  event.result = "success";
  event.source = request.source;
  event.request_id = request.request_id;
  event.details = R"({"serial":")" + serial + R"(","level":")" + rec.level + R"(","signed_sha256":")" +
                  rec.signed_sha256 + R"(","field":")" + signed_pdf->field_name + R"("})";
  if (auto r = m_deps.store->insert_document(rec, event); !r) return fail(r.error());

  // 7. The link.
  out.download_path = m_deps.links->make(id, m_options.link_lifetime);
  out.link_expires_at = rec.created_at + m_options.link_lifetime.count();
  out.pdf = std::move(signed_pdf->pdf);
  out.signatory = std::move(signatory);
  return out;
}

core::Result<Signatory> DocumentService::signatory(const store::DocumentRecord& rec) const {
  if (rec.signer_cpf.empty() && rec.signer_name.empty() && rec.signer_email.empty()) return Signatory{};
  if (!m_deps.personal_data) return no_personal_data();
  return m_deps.personal_data->open(rec);
}

core::Result<std::string> DocumentService::signer_cpf_index(std::string_view cpf) const {
  CARTORIO_TRY(const Signatory parsed, parse_signatory({std::string(cpf), {}, {}}));
  if (!parsed.cpf) return core::Error{Errc::invalid_cpf, "CPF is empty"};
  if (!m_deps.personal_data) return no_personal_data();
  return m_deps.personal_data->cpf_index(*parsed.cpf);
}

core::Result<std::string> DocumentService::content(const std::string& document_id) {
  if (!is_document_id(document_id)) return core::Error{Errc::not_found, "no such document"};
  CARTORIO_TRY(const auto rec, m_deps.store->get_document(document_id));
  CARTORIO_TRY(auto object, m_deps.objects->get(rec.object_key));
  return std::move(object.data);
}

}  // namespace cartorio::documents
