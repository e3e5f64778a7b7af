// The JSON shapes of users and API keys, shared by `cartorio user|apikey ... --json` and the
// REST API (docs/api.md): roles as names, times as unix seconds, never a secret.
#pragma once

#include "identity/identity_service.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace cartorio::identity {

nlohmann::json roles_json(const std::vector<Role>& roles);
nlohmann::json to_json(const UserView& u);
nlohmann::json to_json(const ApiKeyView& k);

}  // namespace cartorio::identity
