// pdf_update.h: what needs the crypto headers (C++20) is here; the qpdf work is in
// detail/pdf_incremental.cpp, which is C++17-clean (see pdf_update_types.h).
#include "signing/pdf_update.h"

#include "signing/detail/pdf_incremental.h"

#include <ctime>
#include <string>

namespace cartorio::signing {

using core::Errc;

namespace detail {

std::string new_file_id() { return crypto::to_hex(crypto::random_bytes(16)); }

}  // namespace detail

std::string pdf_date(core::TimePoint t) {
  const std::time_t s = core::to_unix(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "D:%Y%m%d%H%M%S+00'00'", &tm);
  return buf;
}

core::Result<PdfInfo> inspect_pdf(std::string_view pdf, std::size_t max_bytes) {
  return detail::inspect_pdf(pdf, max_bytes);
}

core::Result<PreparedSignature> prepare_signature(std::string_view pdf, const SignatureField& field,
                                                  std::size_t max_bytes) {
  return detail::prepare_signature(pdf, field, max_bytes);
}

std::array<std::uint8_t, 32> covered_digest(const PreparedSignature& prepared, const crypto::Sha256* prefix,
                                            std::size_t prefix_len) {
  const std::string_view pdf = prepared.pdf;
  if (!prefix || prefix_len > prepared.hole_begin) prefix_len = 0;
  crypto::Sha256 h = prefix_len ? crypto::Sha256(*prefix) : crypto::Sha256();
  h.update(pdf.substr(prefix_len, prepared.hole_begin - prefix_len));
  h.update(pdf.substr(prepared.hole_end));
  return h.digest();
}

core::Result<void> embed_contents(PreparedSignature& prepared, crypto::ByteView der) {
  const std::size_t room = (prepared.hole_end - prepared.hole_begin - 2) / 2;
  if (der.size() > room)
    return core::Error{Errc::internal, "the signature (" + std::to_string(der.size()) + " bytes) exceeds the " +
                                           std::to_string(room) + " bytes reserved for it"};
  const std::string hex = crypto::to_hex(der, true);
  prepared.pdf.replace(prepared.hole_begin + 1, hex.size(), hex);
  return core::ok();
}

core::Result<std::string> append_dss(std::string_view pdf, const ValidationData& data, std::size_t max_bytes) {
  return detail::append_dss(pdf, data.certificates, data.ocsp_responses, data.crls, max_bytes);
}

}  // namespace cartorio::signing
