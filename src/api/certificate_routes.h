// REST: certificates and CAs under /api/v1 (docs/api.md, /openapi.json).
//   POST /api/v1/certificates                  certificate:issue   {profile, csr, issuer?, validity_days?}
//   GET  /api/v1/certificates                  certificate:read    ?status=&profile=&issuer=&expiring_within_days=&limit=&offset=
//   GET  /api/v1/certificates/{serial}         certificate:read
//   GET  /api/v1/certificates/{serial}/chain   certificate:read    PEM: leaf then issuers
//   POST /api/v1/certificates/{serial}/revoke  certificate:revoke  {reason}
//   GET  /api/v1/ca                            ca:read
//   GET  /api/v1/ca/{name}/chain               ca:read
#pragma once

#include "api/secured_router.h"
#include "core/clock.h"
#include "keys/key_store.h"
#include "pki/hierarchy.h"
#include "store/store.h"

#include <functional>
#include <memory>

namespace cartorio::api {

inline constexpr std::size_t kMaxCsrBytes = 64 * 1024;

// Revokes on behalf of `actor` from `source`, publishing the revocation (CRL, OCSP cache).
using RevokeFunction = std::function<core::Result<store::CertificateRecord>(
    const std::string& serial, int reason, const std::string& actor, const std::string& source)>;

struct CertificateServices {
  std::shared_ptr<const pki::Hierarchy> hierarchy;
  keys::KeyStore* keys = nullptr;
  store::Store* store = nullptr;
  const core::Clock* clock = nullptr;
  pki::PublicUrls urls;
  RevokeFunction revoke;
};

core::Result<void> add_certificate_routes(SecuredRouter& router, CertificateServices services);

}  // namespace cartorio::api
