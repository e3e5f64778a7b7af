// Helpers shared by the IdentityService implementation files. Internal to identity/.
#pragma once

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "identity/principal.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::identity::detail {

// Opaque random identifiers: "<prefix><hex of n random bytes>".
inline std::string random_id(std::string_view prefix, std::size_t n) {
  return std::string(prefix) + crypto::to_hex(crypto::random_bytes(n));
}

// 256-bit random secret as 43 base64url characters (refresh tokens, API key secrets).
inline constexpr std::size_t kOpaqueTokenChars = 43;
inline std::string random_opaque_token() { return crypto::to_base64url(crypto::random_bytes(32)); }
inline bool is_opaque_token(std::string_view s) {
  return s.size() == kOpaqueTokenChars && crypto::from_base64url(s).has_value();
}

inline std::string sha256_hex(std::string_view s) { return crypto::to_hex(crypto::sha256(crypto::as_bytes(s))); }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

// Roles in the canonical order of all_roles(), without duplicates.
inline std::vector<Role> canonical_roles(const std::vector<Role>& roles) {
  std::vector<Role> out;
  for (Role r : all_roles())
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) out.push_back(r);
  return out;
}

inline std::vector<std::string> role_names(const std::vector<Role>& roles) {
  std::vector<std::string> out;
  for (Role r : canonical_roles(roles)) out.emplace_back(to_string(r));
  return out;
}

// Unknown names (a newer release's role) are dropped: deny by default.
inline std::vector<Role> parse_roles(const std::vector<std::string>& names) {
  std::vector<Role> out;
  for (const auto& n : names)
    if (auto r = parse_role(n)) out.push_back(*r);
  return canonical_roles(out);
}

inline std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace cartorio::identity::detail
