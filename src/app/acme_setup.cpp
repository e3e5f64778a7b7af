#include "app/acme_setup.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

namespace cartorio::app {

namespace {

constexpr std::string_view kEabPrefix = "acme-eab.";

bool is_lower_hex(std::string_view s) {
  return !s.empty() && s.size() <= 40 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

core::Result<std::unique_ptr<acme::AcmeServer>> open_acme_server(const Runtime& rt,
                                                                 std::shared_ptr<const pki::Hierarchy> hierarchy,
                                                                 AcmeRevokeFunction revoke,
                                                                 secrets::SecretManager& secrets) {
  const auto& cfg = rt.config.acme;
  CARTORIO_TRY(auto policy, acme::IdentifierPolicy::parse(cfg.allowed_domains));
  if (policy.empty()) return std::unique_ptr<acme::AcmeServer>();
  CARTORIO_TRY(auto networks, acme::NetworkPolicy::parse(cfg.validation_networks));
  acme::NetworkValidatorOptions validation;
  validation.http01_port = cfg.http01_port;
  validation.tls_alpn01_port = cfg.tls_alpn01_port;
  validation.timeout = std::chrono::seconds(cfg.validation_timeout_seconds);
  validation.networks = std::move(networks);

  acme::AcmeServices s;
  s.store = rt.store.get();
  s.cache = rt.cache.get();
  s.clock = rt.clock.get();
  s.validator = std::make_shared<acme::NetworkValidator>(std::move(validation));
  s.policy = std::move(policy);
  s.issue = [&rt, hierarchy](const pki::IssueRequest& req) {
    pki::CertificateIssuer issuer(*hierarchy, *rt.keys, *rt.store, *rt.clock, rt.urls());
    return issuer.issue(req);
  };
  s.chain_pem = [hierarchy = std::move(hierarchy)] { return hierarchy->chain_pem("tls"); };
  s.revoke = std::move(revoke);
  s.eab_key = [&secrets](const std::string& kid) -> core::Result<crypto::Bytes> {
    if (!is_lower_hex(kid)) return core::Error(core::Errc::not_found, "not an EAB key id");
    CARTORIO_TRY(auto secret, secrets.reveal(std::string(kEabPrefix) + kid, std::nullopt, {"acme", "local", ""}));
    auto key = crypto::from_base64url(secret.value);
    if (!key) return core::Error(core::Errc::internal, "EAB key " + kid + " is not base64url");
    return std::move(*key);
  };

  acme::AcmeOptions o;
  o.base_url = cfg.base_url;
  o.require_eab = cfg.require_eab;
  o.new_orders_per_hour = cfg.new_orders_per_hour;
  o.validity_days = cfg.validity_days;
  o.processing_timeout = std::chrono::seconds(2 * cfg.validation_timeout_seconds + 60);
  return std::make_unique<acme::AcmeServer>(std::move(s), std::move(o));
}

core::Result<EabKey> create_eab_key(secrets::SecretManager& secrets, const secrets::Caller& who) {
  EabKey key;
  key.kid = crypto::to_hex(crypto::random_bytes(10));
  key.hmac_key = crypto::to_base64url(crypto::random_bytes(32));
  CARTORIO_TRY_VOID(secrets.put(std::string(kEabPrefix) + key.kid, key.hmac_key, 0, who));
  return key;
}

}  // namespace cartorio::app
