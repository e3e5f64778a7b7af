#include "pki/certificate_json.h"

#include "pki/certificate_issuer.h"

#include <ctime>

namespace cartorio::pki {

std::string iso8601(std::int64_t t) {
  if (t == 0) return "";
  std::time_t s = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::ordered_json to_json(const store::CertificateRecord& r, bool with_pem) {
  nlohmann::ordered_json j;
  j["serial"] = r.serial;
  j["issuer"] = r.issuer;
  j["profile"] = r.profile;
  j["subject"] = r.subject;
  j["sans"] = r.sans;
  j["not_before"] = iso8601(r.not_before);
  j["not_after"] = iso8601(r.not_after);
  j["status"] = std::string(store::to_string(r.status));
  if (r.status == store::CertificateStatus::revoked) {
    j["revoked_at"] = iso8601(r.revoked_at);
    j["revocation_reason"] = revocation_reason_name(r.revocation_reason);
  }
  j["requester"] = r.requester;
  if (with_pem) j["pem"] = r.pem;
  return j;
}

}  // namespace cartorio::pki
