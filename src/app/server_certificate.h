// The HTTPS listener's certificate as a managed secret, `server-tls` (kind
// server-certificate: PEM key + tls-server certificate for server.tls_names + chain), so every
// `serve` instance presents the same one and the cert-expiry-check job (wherever it runs)
// renews it for all of them:
//   - at start, `serve` loads the latest version, and issues a new one (a new version, as
//     `serve`, audited) when there is none, or it is expired, unreadable, or for other names
//     than server.tls_names;
//   - the per-process `tls.reload` job looks every renewal.reload_seconds for a newer version
//     and swaps it in without a restart (http::Server::set_tls_identity).
// The key is in the secret store (sealed under the data keys), no longer only in memory.
#pragma once

#include "app/jobs.h"
#include "app/runtime.h"
#include "app/server_identity.h"
#include "secrets/secret_manager.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace cartorio::app {

class ServerCertificateSource {
 public:
  explicit ServerCertificateSource(const Runtime& rt);  // `rt` must outlive it

  // The latest usable version, issuing one first when needed (see above).
  core::Result<ServerIdentity> load();
  // The identity to switch to when a newer version exists (or the loaded one has expired);
  // nullopt when the loaded one stays.
  core::Result<std::optional<ServerIdentity>> refresh();
  std::int64_t version() const { return m_version; }
  // Makes the next refresh() load again (the identity it returned could not be applied).
  void forget() { m_version = 0; }

 private:
  const Runtime& m_rt;
  std::unique_ptr<secrets::SecretManager> m_manager;
  std::int64_t m_version = 0;
  core::TimePoint m_not_after{};
};

// The `tls.reload` job (every renewal.reload_seconds): refresh(), then `apply` the new
// identity (e.g. the HTTPS server's set_tls_identity). Per process: every server runs it.
void add_tls_reload_job(JobRunner& runner, const Runtime& rt, std::shared_ptr<ServerCertificateSource> source,
                        std::function<core::Result<void>(const http::TlsIdentity&)> apply);

}  // namespace cartorio::app
