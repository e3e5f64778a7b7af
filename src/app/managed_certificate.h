// The TLS certificates the installation manages as versioned secrets (docs/secrets.md):
//   server-certificate  the HTTPS listener's own (name server-tls), for server.tls_names,
//                       server.tls_certificate_days; every `serve` instance loads it
//   tls-certificate     any TLS server certificate registered with `cartorio cert manage`;
//                       renewed with the same names and lifetime
//   service-certificate a service's mTLS identity (secrets_setup.h), also renewed here when
//                       its expiry comes before its rotation
// Each version's value is PEM: the private key (a new P-256 key every time), the certificate
// (tls-server profile, issued by the TLS CA through the normal issuer: recorded, audited),
// the issuer chain. Renewal is a rotation of the secret (SecretManager: audited, write-once).
#pragma once

#include "app/runtime.h"
#include "core/clock.h"
#include "crypto/ossl.h"
#include "pki/csr_validator.h"
#include "secrets/secret_manager.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::app {

// A managed certificate secret's value, opened.
struct ManagedCertificate {
  crypto::PKey key;
  crypto::X509Ptr leaf;
  std::string chain_pem;  // the certificate then its issuers, PEM: what a deploy step gets (no key)
  std::string serial;     // lowercase hex
  core::TimePoint not_before;
  core::TimePoint not_after;
};

// Errc::malformed_input when the value lacks a key or a certificate, or they do not match.
core::Result<ManagedCertificate> parse_managed_certificate(std::string_view pem);

// Kinds whose value is key + certificate + chain and that cert-expiry-check renews.
bool is_managed_certificate_kind(secrets::Kind kind);

// When renewal is due: `window` before not_after — or, for a certificate whose whole life
// is shorter than three windows, once two thirds of it have passed (a 7-day certificate is
// not renewed on every run).
core::TimePoint renewal_due_at(core::TimePoint not_before, core::TimePoint not_after, std::chrono::seconds window);

// "a.example,10.0.0.1" -> DNS and IP names. Errc::invalid_argument for an empty one.
core::Result<std::vector<pki::SubjectAltName>> parse_tls_names(const std::string& list);

// Rotators for server-certificate and tls-certificate (the manager must not outlive `rt`).
void add_managed_certificate_rotators(secrets::SecretManager& manager, const Runtime& rt);

// Registers a TLS server certificate for automatic renewal: version 1 of a tls-certificate
// secret `name` with a new key and a certificate for `sans` (the first is the CN) valid
// `validity_days` (1..397). Errc::already_exists when `name` exists, Errc::invalid_argument
// for bad names; issuance errors as they come.
core::Result<secrets::SecretInfo> manage_tls_certificate(const Runtime& rt, const std::string& name,
                                                         const std::vector<pki::SubjectAltName>& sans,
                                                         int validity_days, const secrets::Caller& who);

}  // namespace cartorio::app
