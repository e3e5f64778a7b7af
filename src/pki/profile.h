// Certificate profiles: what a certificate of each kind may contain and which CA issues it.
// A profile is policy, enforced on every CSR before anything is signed or stored.
#pragma once

#include "core/error.h"

#include <string>
#include <string_view>
#include <vector>

namespace cartorio::pki {

enum class SanKind { dns, ip, email, uri };

struct Profile {
  std::string name;
  std::vector<std::string> issuers;  // CA names allowed to issue it; the first is the default
  int default_validity_days = 90;
  int max_validity_days = 397;
  int min_rsa_bits = 2048;
  int max_rsa_bits = 8192;
  std::vector<std::string> ec_curves = {"P-256", "P-384"};
  // keyUsage as an OpenSSL conf value, for RSA and EC keys respectively.
  std::string key_usage_rsa = "critical,digitalSignature";
  std::string key_usage_ec = "critical,digitalSignature";
  std::string extended_key_usage;  // conf value, e.g. "serverAuth" or "critical,timeStamping"
  std::vector<SanKind> allowed_sans;
  bool requires_san = false;      // at least one SAN of an allowed kind
  bool ocsp_no_check = false;     // id-pkix-ocsp-nocheck (delegated OCSP responders)
  bool include_ocsp_url = true;   // AIA OCSP (pointless for a no-check responder)
  std::string description;
};

// All end-entity profiles: tls-server, tls-client, document-signing, ocsp, tsa.
const std::vector<Profile>& profiles();
// Errc::unknown_profile naming the known ones.
core::Result<const Profile*> find_profile(std::string_view name);

}  // namespace cartorio::pki
