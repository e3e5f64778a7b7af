// The identity service of an installation: its data key file and options from the config.
// `serve` and the `user` commands open it the same way.
#pragma once

#include "app/runtime.h"
#include "identity/identity_service.h"

#include <memory>

namespace cartorio::app {

// Reads identity.data_key_file (32 bytes, hex; mode 0600; app/secret_key_file.h). With
// `create` (only `init`), a missing file is made. Without it a missing file is
// Errc::not_initialized: an instance that made its own key would seal TOTP secrets the
// other instances cannot open. Errc::config_invalid for a file of the wrong form or
// readable by group or others.
core::Result<crypto::SecretBytes> identity_data_key(const core::Config& config, bool create = false);

// The service over the runtime's store, keys, cache and clock, with a current JWT signing
// key (created on first use). The runtime must outlive it.
core::Result<std::unique_ptr<identity::IdentityService>> open_identity(const Runtime& rt);

}  // namespace cartorio::app
