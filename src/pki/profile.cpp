#include "pki/profile.h"

namespace cartorio::pki {

const std::vector<Profile>& profiles() {
  static const std::vector<Profile> all = [] {
    std::vector<Profile> v;
    {
      Profile p;
      p.name = "tls-server";
      p.issuers = {"tls"};
      p.default_validity_days = 90;
      p.max_validity_days = 397;  // CA/Browser Forum limit
      p.key_usage_rsa = "critical,digitalSignature,keyEncipherment";
      p.extended_key_usage = "serverAuth";
      p.allowed_sans = {SanKind::dns, SanKind::ip};
      p.requires_san = true;
      p.description = "HTTPS servers: DNS/IP names required";
      v.push_back(p);
    }
    {
      Profile p;
      p.name = "tls-client";
      p.issuers = {"tls"};
      p.default_validity_days = 90;
      p.max_validity_days = 397;
      p.extended_key_usage = "clientAuth";
      p.allowed_sans = {SanKind::dns, SanKind::email, SanKind::uri};
      p.description = "mutual-TLS clients (services)";
      v.push_back(p);
    }
    {
      Profile p;
      p.name = "document-signing";
      p.issuers = {"document"};
      p.default_validity_days = 30;
      p.max_validity_days = 397;
      p.key_usage_rsa = "critical,digitalSignature,nonRepudiation";
      p.key_usage_ec = "critical,digitalSignature,nonRepudiation";
      // emailProtection is what NSS (pdfsig) and Acrobat check; 1.3.6.1.5.5.7.3.36 is
      // id-kp-documentSigning (RFC 9336).
      p.extended_key_usage = "emailProtection,1.3.6.1.5.5.7.3.36";
      p.allowed_sans = {SanKind::email, SanKind::uri};
      p.description = "per-document PAdES signing certificates";
      v.push_back(p);
    }
    {
      Profile p;
      p.name = "ocsp";
      p.issuers = {"tls", "document"};
      p.default_validity_days = 365;
      p.max_validity_days = 397;
      p.extended_key_usage = "critical,OCSPSigning";
      p.ocsp_no_check = true;
      p.include_ocsp_url = false;
      p.description = "delegated OCSP responders (RFC 6960 4.2.2.2)";
      v.push_back(p);
    }
    {
      Profile p;
      p.name = "tsa";
      p.issuers = {"document"};
      p.default_validity_days = 3 * 365;
      p.max_validity_days = 5 * 365;
      p.key_usage_rsa = "critical,digitalSignature,nonRepudiation";
      p.key_usage_ec = "critical,digitalSignature,nonRepudiation";
      p.extended_key_usage = "critical,timeStamping";  // RFC 3161 2.3: must be critical
      p.description = "RFC 3161 time-stamp authority";
      v.push_back(p);
    }
    return v;
  }();
  return all;
}

core::Result<const Profile*> find_profile(std::string_view name) {
  std::string known;
  for (const auto& p : profiles()) {
    if (p.name == name) return &p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return core::Error{core::Errc::unknown_profile,
                     "unknown profile \"" + std::string(name) + "\" (known: " + known + ")"};
}

}  // namespace cartorio::pki
