// The HTTPS listener's identity as the server holds it (loaded from the managed secret
// server-tls, see app/server_certificate.h) and the TLS options built from it.
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

// The TLS options of the HTTPS listener: the identity, server.client_auth, and the TLS CA as
// the only trust anchor for client certificates.
core::Result<http::TlsOptions> tls_options(const Runtime& rt, const ServerIdentity& identity);

// A verified client certificate -> the service it names: it must be a tls-client
// certificate this installation issued (looked up by serial) and not revoked. The principal
// is "service:<CN>" with the service role. Errc::unauthenticated otherwise.
core::Result<identity::Principal> principal_for_client_certificate(store::CertificateRepository& certificates,
                                                                   const http::ClientCertificate& cert);

}  // namespace cartorio::app
