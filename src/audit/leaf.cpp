#include "audit/leaf.h"

#include "crypto/primitives.h"

namespace cartorio::audit {
namespace {

void put_u32(crypto::Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// SHA-256 of the certificate's DER (the base64 body of its PEM, decoded without parsing
// the certificate: leaves are rebuilt for every certificate when a log is loaded); "" when
// the PEM is damaged, and the leaf then differs from the one published.
std::string certificate_digest(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----", kEnd = "-----END CERTIFICATE-----";
  const auto begin = pem.find(kBegin);
  const auto end = pem.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) return {};
  std::string body;
  body.reserve(end - begin);
  for (char c : pem.substr(begin + kBegin.size(), end - begin - kBegin.size()))
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body += c;
  auto der = crypto::from_base64(body);
  if (!der || der->empty()) return {};
  return crypto::to_hex(crypto::sha256(*der));
}

}  // namespace

crypto::Bytes encode_leaf(const LeafFields& fields) {
  crypto::Bytes out;
  std::size_t total = 4;
  for (const auto& f : fields) total += 4 + f.size();
  out.reserve(total);
  put_u32(out, static_cast<std::uint32_t>(fields.size()));
  for (const auto& f : fields) {
    put_u32(out, static_cast<std::uint32_t>(f.size()));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

LeafFields audit_event_fields(const store::AuditEvent& e) {
  return {"audit-event/v1", std::to_string(e.id), std::to_string(e.time), e.actor,    e.action,
          e.target,         e.result,             e.source,             e.request_id, e.details};
}

LeafFields transparency_fields(const store::TransparencyEntry& e) {
  const bool certificate = e.kind == "certificate";
  LeafFields f{certificate ? "certificate/v1" : "document/v1", std::to_string(e.id), std::to_string(e.time), e.ref};
  if (!e.found) {
    f.resize(8);
    return f;
  }
  if (certificate) {
    f.insert(f.end(), {e.issuer, std::to_string(e.not_before), std::to_string(e.not_after), certificate_digest(e.pem)});
  } else {
    f.insert(f.end(), {e.signed_sha256, e.original_sha256, e.signer_serial, e.level});
  }
  return f;
}

core::Result<std::vector<LeafRecord>> AuditLeafSource::next(std::int64_t after_id, int limit) {
  store::AuditFilter filter;
  filter.after_id = after_id;
  filter.limit = limit;
  CARTORIO_TRY(auto events, m_audit.list_audit_events(filter));
  std::vector<LeafRecord> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back({e.id, audit_event_fields(e)});
  return out;
}

core::Result<std::vector<LeafRecord>> TransparencyLeafSource::next(std::int64_t after_id, int limit) {
  CARTORIO_TRY(auto entries, m_log.list_transparency_entries(after_id, limit));
  std::vector<LeafRecord> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back({e.id, transparency_fields(e)});
  return out;
}

}  // namespace cartorio::audit
