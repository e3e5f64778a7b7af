// The HTTPS listener's own identity: a fresh P-256 key made in memory at every start (never
// written anywhere) and a short-lived tls-server certificate for server.tls_names issued
// by the installation's TLS CA (recorded and audited like any issuance). Renewed in-process
// before it ages (see needs_renewal), so nobody has to rotate it by hand.
//
// Also the mTLS side: which client certificates are trusted, and who they are.
#pragma once

#include "app/runtime.h"
#include "http/request.h"
#include "http/tls.h"
#include "identity/principal.h"

namespace cartorio::app {

struct ServerIdentity {
  http::TlsIdentity tls;
  core::TimePoint not_before;
  core::TimePoint not_after;
};

// Errc::invalid_argument for an unusable server.tls_names; issuance errors as they come.
core::Result<ServerIdentity> issue_server_identity(const Runtime& rt);

// True once two thirds of the certificate's lifetime have passed.
bool needs_renewal(const ServerIdentity& identity, core::TimePoint now);

// The TLS options of the HTTPS listener: the identity, server.client_auth, and the TLS CA as
// the only trust anchor for client certificates.
core::Result<http::TlsOptions> tls_options(const Runtime& rt, const ServerIdentity& identity);

// A verified client certificate -> the service it names: it must be a tls-client
// certificate this installation issued (looked up by serial) and not revoked. The principal
// is "service:<CN>" with the service role. Errc::unauthenticated otherwise.
core::Result<identity::Principal> principal_for_client_certificate(store::CertificateRepository& certificates,
                                                                   const http::ClientCertificate& cert);

}  // namespace cartorio::app
