// The ACME server of `serve` (docs/acme.md), composed from the configuration (acme.*), and
// the External Account Binding keys kept in the secret store.
#pragma once

#include "acme/acme_server.h"
#include "app/runtime.h"
#include "secrets/secret_manager.h"

#include <memory>
#include <string>

namespace cartorio::app {

using AcmeRevokeFunction = std::function<core::Result<store::CertificateRecord>(
    const std::string& serial, int reason, const std::string& actor, const std::string& source)>;

// nullptr when acme.allowed_domains is empty (no ACME server). `rt`, `hierarchy` and
// `secrets` must outlive the server.
core::Result<std::unique_ptr<acme::AcmeServer>> open_acme_server(const Runtime& rt,
                                                                 std::shared_ptr<const pki::Hierarchy> hierarchy,
                                                                 AcmeRevokeFunction revoke,
                                                                 secrets::SecretManager& secrets);

// An External Account Binding key: its id and the HMAC key (base64url) a client registers with.
struct EabKey {
  std::string kid;
  std::string hmac_key;
};
// Made by `cartorio acme eab create`: 32 random bytes, kept as the secret acme-eab.<kid>
// (never rotated: it is used once, at registration).
core::Result<EabKey> create_eab_key(secrets::SecretManager& secrets, const secrets::Caller& who);

}  // namespace cartorio::app
