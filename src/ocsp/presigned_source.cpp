#include "ocsp/presigned_source.h"

#include "core/files.h"
#include "core/log.h"
#include "crypto/x509.h"
#include "ocsp/detail/ocsp_common.h"
#include "ocsp/root_presigner.h"

#include <openssl/objects.h>

namespace cartorio::ocsp {

using core::Errc;
using detail::error_result;

PresignedSource::PresignedSource(crypto::X509Ptr issuer, std::string dir, const core::Clock& clock)
    : m_issuer(std::move(issuer)), m_dir(std::move(dir)), m_clock(clock) {}

OcspResult PresignedSource::respond(crypto::ByteView request_der) {
  auto req = detail::parse_request(request_der);
  if (!req) return error_result(ResponseStatus::malformed_request);
  const auto ids = detail::cert_ids(req.get());
  if (ids.size() != 1) return error_result(ResponseStatus::malformed_request);
  OCSP_CERTID* id = ids.front();
  if (!detail::issued_by(id, m_issuer.get())) return error_result(ResponseStatus::unauthorized);

  ASN1_OBJECT* md_oid = nullptr;
  OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr, id);
  const int nid = OBJ_obj2nid(md_oid);
  if (nid != NID_sha1 && nid != NID_sha256) return error_result(ResponseStatus::unauthorized);
  const std::string serial = detail::serial_of(id);
  // RFC 5280 serials have at most 20 octets: anything longer was never pre-signed (and
  // would make an over-long file name and log line).
  if (serial.empty() || serial.size() > 40) return error_result(ResponseStatus::unauthorized);
  // The serial comes from the request: it is hex digits only, so it cannot escape the directory.
  auto file = core::read_file(presigned_file(m_dir, serial, nid == NID_sha1 ? CertIdHash::sha1 : CertIdHash::sha256));
  if (!file) {
    if (file.error().code == Errc::not_found) return error_result(ResponseStatus::unauthorized);
    core::log::error("ocsp.presigned_read_failed", {{"serial", serial}, {"error", file.error().to_string()}});
    return error_result(ResponseStatus::internal_error);
  }

  const auto* p = reinterpret_cast<const unsigned char*>(file->data());
  crypto::OcspResponse resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(file->size())));
  crypto::OcspBasicResp basic(resp ? OCSP_response_get1_basic(resp.get()) : nullptr);
  OCSP_SINGLERESP* single = basic ? OCSP_resp_get0(basic.get(), 0) : nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (!single || OCSP_single_get0_status(single, nullptr, nullptr, &this_update, &next_update) < 0 || !this_update ||
      !next_update || OCSP_id_cmp(OCSP_SINGLERESP_get0_id(single), id) != 0) {
    core::log::error("ocsp.presigned_damaged", {{"serial", serial}});
    return error_result(ResponseStatus::internal_error);
  }
  const auto next = core::from_unix(crypto::asn1_time_to_unix(next_update));
  if (next <= m_clock.now()) {
    core::log::warn("ocsp.presigned_expired", {{"serial", serial}});
    return error_result(ResponseStatus::try_later);
  }
  OcspResult out;
  out.der = crypto::Bytes(file->begin(), file->end());
  out.status = ResponseStatus::successful;
  out.this_update = core::from_unix(crypto::asn1_time_to_unix(this_update));
  out.next_update = next;
  out.cacheable = true;
  return out;
}

}  // namespace cartorio::ocsp
