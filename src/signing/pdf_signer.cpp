#include "signing/pdf_signer.h"

#include "crypto/primitives.h"
#include "crypto/x509.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace cartorio::signing {
namespace {

using core::Errc;

// Room for a time-stamp token: TSTInfo, the TSA's signature and its chain (own TSA: about
// 5 KB; external TSAs with longer chains fit too).
constexpr std::size_t kTimestampRoom = 16 * 1024;
constexpr std::size_t kSignatureRoom = 2 * 1024;  // attributes, signature value, framing

std::size_t der_size(const X509* cert) { return crypto::to_der(cert).size(); }

core::Result<std::string> timestamp_of(tsa::TimestampClient* tsa, crypto::ByteView data) {
  if (!tsa) return core::Error{Errc::tsa_unavailable, "no time-stamp authority is configured"};
  const auto digest = crypto::sha256(data);
  return tsa->timestamp(EVP_sha256(), crypto::ByteView(digest.data(), digest.size()));
}

}  // namespace

core::Result<PadesLevel> parse_pades_level(std::string_view text) {
  if (text == "B-B") return PadesLevel::b_b;
  if (text == "B-T") return PadesLevel::b_t;
  if (text == "B-LT") return PadesLevel::b_lt;
  if (text == "B-LTA") return PadesLevel::b_lta;
  return core::Error{Errc::invalid_argument, "unknown PAdES level \"" + std::string(text) + "\" (B-B, B-T, B-LT, B-LTA)"};
}

std::string_view to_string(PadesLevel level) {
  switch (level) {
    case PadesLevel::b_b: return "B-B";
    case PadesLevel::b_t: return "B-T";
    case PadesLevel::b_lt: return "B-LT";
    case PadesLevel::b_lta: return "B-LTA";
  }
  return "B-B";
}

core::Result<SignedPdf> sign_pades(const PadesRequest& request, const PadesServices& services) {
  const bool timestamped = request.level != PadesLevel::b_b;
  SignatureField field;
  field.contents_bytes = kSignatureRoom + der_size(request.signer.certificate) + (timestamped ? kTimestampRoom : 0);
  for (const X509* c : request.signer.chain) field.contents_bytes += der_size(c);
  field.signing_time = pdf_date(request.signing_time);
  field.name = request.name;
  field.reason = request.reason;
  field.location = request.location;
  field.contact_info = request.contact_info;
  field.appearance = request.appearance;
  CARTORIO_TRY(auto prepared, prepare_signature(request.pdf, field, request.max_bytes));

  const auto digest = covered_digest(prepared, request.pdf_hash, request.pdf.size());
  CARTORIO_TRY(auto cms, build_pades_cms(request.signer, crypto::ByteView(digest.data(), digest.size())));
  std::string token;
  if (timestamped) {
    CARTORIO_TRY(const auto value, signature_value(cms.get()));
    CARTORIO_TRY(token, timestamp_of(services.timestamps, value));
    CARTORIO_TRY_VOID(add_signature_timestamp(cms.get(), crypto::as_bytes(token)));
  }
  CARTORIO_TRY(const auto der, cms_to_der(cms.get()));
  CARTORIO_TRY_VOID(embed_contents(prepared, der));
  SignedPdf out{std::move(prepared.pdf), std::move(prepared.field_name), std::nullopt};
  if (request.level == PadesLevel::b_b || request.level == PadesLevel::b_t) {
    // The output begins with the input (an incremental update, as covered_digest relies on
    // too): its digest continues from the input's.
    if (request.pdf_hash)
      out.sha256 = crypto::Sha256(*request.pdf_hash).update(std::string_view(out.pdf).substr(request.pdf.size())).digest();
    return out;
  }

  // B-LT: validation data for the signer's chain and the TSA's.
  if (!services.validation) return core::Error{Errc::internal, "no validation data source for B-LT"};
  std::vector<X509*> certificates{request.signer.certificate};
  certificates.insert(certificates.end(), request.signer.chain.begin(), request.signer.chain.end());
  CARTORIO_TRY(auto tsa_certs, cms_certificates(crypto::as_bytes(token)));
  for (auto& c : tsa_certs) certificates.push_back(c.get());
  CARTORIO_TRY(const auto data, services.validation->collect(certificates));
  CARTORIO_TRY(out.pdf, append_dss(out.pdf, data, request.max_bytes + 1024 * 1024));
  if (request.level == PadesLevel::b_lt) return out;

  // B-LTA: a document time-stamp over everything so far.
  SignatureField doc_ts;
  doc_ts.document_timestamp = true;
  doc_ts.contents_bytes = kTimestampRoom;
  CARTORIO_TRY(auto archive, prepare_signature(out.pdf, doc_ts, request.max_bytes + 2 * 1024 * 1024));
  const auto archive_digest = covered_digest(archive);
  if (!services.timestamps) return core::Error{Errc::tsa_unavailable, "no time-stamp authority is configured"};
  CARTORIO_TRY(const auto archive_token,
               services.timestamps->timestamp(EVP_sha256(), crypto::ByteView(archive_digest.data(), archive_digest.size())));
  CARTORIO_TRY_VOID(embed_contents(archive, crypto::as_bytes(archive_token)));
  out.pdf = std::move(archive.pdf);
  return out;
}

}  // namespace cartorio::signing
