#include "app/identity_setup.h"

#include "app/secret_key_file.h"

namespace cartorio::app {

core::Result<crypto::SecretBytes> identity_data_key(const core::Config& config, bool create) {
  return read_secret_key_file({config.path(config.identity.data_key_file), "identity.data_key_file",
                               "identity data key", " before any user enrols MFA"},
                              create);
}

core::Result<std::unique_ptr<identity::IdentityService>> open_identity(const Runtime& rt) {
  CARTORIO_TRY(auto key, identity_data_key(rt.config));
  identity::IdentityOptions o;
  o.issuer = rt.config.pki.public_base_url;
  o.access_token_ttl = std::chrono::minutes(rt.config.identity.access_token_minutes);
  o.refresh_token_ttl = std::chrono::hours(24 * rt.config.identity.refresh_token_days);
  CARTORIO_TRY(auto service, identity::IdentityService::create(identity::IdentityStores::of(*rt.store), *rt.keys,
                                                                *rt.cache, *rt.clock, std::move(key), o));
  CARTORIO_TRY_VOID(service->ensure_signing_key());
  return service;
}

}  // namespace cartorio::app
