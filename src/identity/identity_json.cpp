#include "identity/identity_json.h"

namespace cartorio::identity {

nlohmann::json roles_json(const std::vector<Role>& roles) {
  nlohmann::json a = nlohmann::json::array();
  for (auto r : roles) a.push_back(std::string(to_string(r)));
  return a;
}

nlohmann::json to_json(const UserView& u) {
  return {{"username", u.username},       {"display_name", u.display_name}, {"roles", roles_json(u.roles)},
          {"mfa_enabled", u.mfa_enabled}, {"mfa_required", u.mfa_required}, {"disabled", u.disabled},
          {"locked_until", u.locked_until}, {"created_at", u.created_at},   {"updated_at", u.updated_at}};
}

nlohmann::json to_json(const ApiKeyView& k) {
  return {{"prefix", k.prefix},         {"name", k.name},
          {"roles", roles_json(k.roles)}, {"owner", k.owner},
          {"created_at", k.created_at}, {"last_used_at", k.last_used_at},
          {"revoked_at", k.revoked_at}};
}

}  // namespace cartorio::identity
