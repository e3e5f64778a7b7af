// The ACME server (RFC 8555) on the TLS CA: directory, nonces, accounts (with External
// Account Binding and key change), orders, authorizations, http-01 and tls-alpn-01
// challenges, finalize, certificate download and revocation. docs/acme.md.
//
// Every POST is a JWS (acme/jws.h) whose nonce (acme/nonces.h) is redeemed exactly once and
// whose "url" must be the URL it was sent to. Requests are judged by the account key alone: no
// bearer token or client certificate is involved. Validation runs on the server's own
// threads, never in the request: a challenge POST answers "processing" at once.
//
// State lives in the store (store::AcmeRepository) and the cache (nonces, rate limits), so
// any number of instances can serve one installation.
#pragma once

#include "acme/policy.h"
#include "acme/validation.h"
#include "cache/cache.h"
#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "http/router.h"
#include "pki/certificate_issuer.h"
#include "store/store.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cartorio::acme {

struct AcmeOptions {
  std::string base_url;            // "https://host[:port]"; empty: https:// + the request's Host
  bool require_eab = false;
  int new_orders_per_hour = 300;   // per account
  int validity_days = 90;
  std::chrono::hours order_lifetime{24 * 7};
  std::chrono::minutes nonce_lifetime{60};
  int validation_threads = 2;
  // A challenge processing for longer (its validation lost with a crashed or restarted
  // process) is started again when polled. Keep it above the validation time limit.
  std::chrono::seconds processing_timeout{120};
};

struct AcmeServices {
  store::Store* store = nullptr;
  cache::Cache* cache = nullptr;
  const core::Clock* clock = nullptr;
  std::shared_ptr<ChallengeValidator> validator;
  IdentifierPolicy policy;
  // Issues from the TLS CA (pki::CertificateIssuer::issue): stored, audited, in the
  // transparency log like every certificate.
  std::function<core::Result<pki::IssuedCertificate>(const pki::IssueRequest&)> issue;
  // The issuer chain served after the leaf (pki::Hierarchy::chain_pem("tls")).
  std::function<core::Result<std::string>()> chain_pem;
  // Revokes and publishes (CRL, OCSP cache), as the REST API does.
  std::function<core::Result<store::CertificateRecord>(const std::string& serial, int reason, const std::string& actor,
                                                       const std::string& source)>
      revoke;
  // The HMAC key of an External Account Binding key id; Errc::not_found for an unknown one.
  std::function<core::Result<crypto::Bytes>(const std::string& kid)> eab_key;
};

class AcmeServer {
 public:
  AcmeServer(AcmeServices services, AcmeOptions options);
  ~AcmeServer();  // waits for the validations in flight
  AcmeServer(const AcmeServer&) = delete;
  AcmeServer& operator=(const AcmeServer&) = delete;

  // The /acme/... routes. The server must outlive the router's use.
  core::Result<void> add_routes(http::Router& router);

  // Blocks until no validation is queued or running (tests).
  void wait_idle();

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cartorio::acme
