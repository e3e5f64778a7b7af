#include "secrets/secret_store.h"

#include "core/log.h"
#include "pii/field_cipher.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

namespace cartorio::secrets {

using core::Errc;
using core::Error;

namespace {

constexpr std::string_view kFormat = "cartorio-secret/v1";
constexpr std::string_view kContentType = "application/json";
constexpr int kVersionDigits = 12;

std::string object_key(std::string_view name, std::int64_t version) {
  char digits[kVersionDigits + 1];
  std::snprintf(digits, sizeof digits, "%012lld", static_cast<long long>(version));
  return std::string(kSecretsPrefix) + std::string(name) + "/" + digits;
}

// Everything but the value, in one fixed form: the sealed value's associated data (as the
// FieldContext row id), so none of it can be changed without the value failing to open.
std::string bound_fields(const SecretInfo& i) {
  return nlohmann::json::array({i.version, to_string(i.kind), i.created_at, i.created_by, i.reason, i.rotation_days})
      .dump();
}

pii::FieldContext context(const SecretInfo& info, const std::string& bound) {
  return {"secrets", info.name, bound};
}

struct VersionKey {
  std::string_view name;
  std::int64_t version = 0;
};

// "<name>/<12 digits>" (a key without the secrets/ prefix); nullopt for anything else.
std::optional<VersionKey> parse_version_key(std::string_view rest) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view digits = rest.substr(slash + 1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || digits.size() != kVersionDigits || v < 1)
    return std::nullopt;
  return VersionKey{rest.substr(0, slash), v};
}

Error damaged(std::string_view key, std::string_view why) {
  return Error(Errc::store_error, "secret object " + std::string(key) + " is damaged: " + std::string(why));
}

}  // namespace

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::generic: return "generic";
    case Kind::postgres_password: return "postgres-password";
    case Kind::jwt_signing_key: return "jwt-signing-key";
    case Kind::service_certificate: return "service-certificate";
    case Kind::server_certificate: return "server-certificate";
    case Kind::tls_certificate: return "tls-certificate";
  }
  return "unknown";
}

std::optional<Kind> parse_kind(std::string_view text) {
  for (Kind k : {Kind::generic, Kind::postgres_password, Kind::jwt_signing_key, Kind::service_certificate,
                 Kind::server_certificate, Kind::tls_certificate})
    if (to_string(k) == text) return k;
  return std::nullopt;
}

std::optional<std::int64_t> SecretInfo::rotation_due() const {
  if (rotation_days <= 0) return std::nullopt;
  return created_at + static_cast<std::int64_t>(rotation_days) * 86400;
}

core::Result<void> check_secret_name(std::string_view name) {
  auto ok_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'; };
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), ok_char) || name[0] == '.' ||
      name[0] == '_' || name[0] == '-')
    return Error(Errc::invalid_argument,
                 "a secret name is 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
  return core::ok();
}

core::Result<void> SecretStore::write(const SecretInfo& info, std::string_view value) {
  CARTORIO_TRY_VOID(check_secret_name(info.name));
  if (value.empty()) return Error(Errc::invalid_argument, "a secret value cannot be empty");
  if (value.size() > kMaxValueBytes)
    return Error(Errc::invalid_argument, "a secret value is at most " + std::to_string(kMaxValueBytes) + " bytes");
  if (info.version < 1) return Error(Errc::invalid_argument, "secret versions start at 1");
  if (info.rotation_days < 0) return Error(Errc::invalid_argument, "rotation_days cannot be negative");
  const auto bound = bound_fields(info);
  CARTORIO_TRY(auto token, pii::FieldCipher(m_ring).seal(context(info, bound), value));
  const nlohmann::json doc{{"format", kFormat},          {"name", info.name},
                           {"kind", to_string(info.kind)}, {"version", info.version},
                           {"created_at", info.created_at}, {"created_by", info.created_by},
                           {"reason", info.reason},       {"rotation_days", info.rotation_days},
                           {"value", token}};
  objectstore::PutOptions options;
  options.content_type = std::string(kContentType);
  CARTORIO_TRY(bool created, m_objects.put_if_absent(object_key(info.name, info.version), doc.dump(), options));
  if (!created)
    return Error(Errc::conflict, "secret " + info.name + " version " + std::to_string(info.version) +
                                     " was written by someone else first");
  std::lock_guard lock(m_mutex);
  auto& newest = m_written[info.name];
  newest = std::max(newest, info.version);
  return core::ok();
}

core::Result<std::int64_t> SecretStore::newest_version(std::string_view name) {
  CARTORIO_TRY(auto numbers, version_numbers(name));
  std::int64_t newest = numbers.empty() ? 0 : numbers.back();
  std::lock_guard lock(m_mutex);
  if (auto it = m_written.find(name); it != m_written.end()) newest = std::max(newest, it->second);
  return newest;
}

core::Result<std::vector<std::int64_t>> SecretStore::version_numbers(std::string_view name) {
  CARTORIO_TRY_VOID(check_secret_name(name));
  const std::string prefix = std::string(kSecretsPrefix) + std::string(name) + "/";
  std::vector<std::int64_t> out;
  std::string after;
  for (;;) {
    CARTORIO_TRY(auto page, m_objects.list(prefix, objectstore::kMaxListLimit, after));
    for (const auto& e : page.entries)
      if (auto k = parse_version_key(std::string_view(e.key).substr(kSecretsPrefix.size())); k && k->name == name)
        out.push_back(k->version);
    if (!page.truncated) break;
    after = page.next_start_after;
  }
  std::sort(out.begin(), out.end());
  return out;
}

core::Result<std::pair<SecretInfo, std::string>> SecretStore::load(std::string_view name, std::int64_t version) {
  const auto key = object_key(name, version);
  auto object = m_objects.get(key);
  if (!object) {
    if (object.error().code == Errc::not_found)
      return Error(Errc::not_found, "secret " + std::string(name) + " has no version " + std::to_string(version));
    return std::move(object).error();
  }
  auto doc = nlohmann::json::parse(object->data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != kFormat) return damaged(key, "not a secret");
  SecretInfo info;
  try {
    info.name = doc.at("name").get<std::string>();
    auto kind = parse_kind(doc.at("kind").get<std::string>());
    if (!kind) return damaged(key, "unknown kind");
    info.kind = *kind;
    info.version = doc.at("version").get<std::int64_t>();
    info.created_at = doc.at("created_at").get<std::int64_t>();
    info.created_by = doc.at("created_by").get<std::string>();
    info.reason = doc.at("reason").get<std::string>();
    info.rotation_days = doc.at("rotation_days").get<int>();
    if (info.name != name || info.version != version) return damaged(key, "it names another secret or version");
    return std::pair{std::move(info), doc.at("value").get<std::string>()};
  } catch (const nlohmann::json::exception&) {
    return damaged(key, "a field is missing or of the wrong type");
  }
}

core::Result<Secret> SecretStore::read(std::string_view name, std::optional<std::int64_t> version) {
  if (!version) {
    CARTORIO_TRY(auto newest, newest_version(name));
    if (newest == 0) return Error(Errc::not_found, "no secret " + std::string(name));
    version = newest;
  } else {
    CARTORIO_TRY_VOID(check_secret_name(name));
  }
  CARTORIO_TRY(auto loaded, load(name, *version));
  auto& [info, token] = loaded;
  const auto bound = bound_fields(info);
  auto value = pii::FieldCipher(m_ring).open(context(info, bound), token);
  if (!value) return Error(value.error().code, "secret " + info.name + " version " + std::to_string(info.version) +
                                                   " does not open: " + value.error().message);
  return Secret{std::move(info), std::move(*value)};
}

core::Result<SecretInfo> SecretStore::latest(std::string_view name) {
  CARTORIO_TRY(auto newest, newest_version(name));
  if (newest == 0) return Error(Errc::not_found, "no secret " + std::string(name));
  CARTORIO_TRY(auto loaded, load(name, newest));
  return std::move(loaded.first);
}

core::Result<std::vector<SecretInfo>> SecretStore::versions(std::string_view name) {
  CARTORIO_TRY(auto numbers, version_numbers(name));
  std::vector<SecretInfo> out;
  for (auto it = numbers.rbegin(); it != numbers.rend(); ++it) {
    CARTORIO_TRY(auto loaded, load(name, *it));
    out.push_back(std::move(loaded.first));
  }
  return out;
}

core::Result<std::vector<SecretInfo>> SecretStore::list() {
  std::map<std::string, std::int64_t> newest;
  std::string after;
  for (;;) {
    CARTORIO_TRY(auto page, m_objects.list(kSecretsPrefix, objectstore::kMaxListLimit, after));
    for (const auto& e : page.entries)
      if (auto k = parse_version_key(std::string_view(e.key).substr(kSecretsPrefix.size()))) {
        auto& slot = newest[std::string(k->name)];
        slot = std::max(slot, k->version);
      }
    if (!page.truncated) break;
    after = page.next_start_after;
  }
  std::vector<SecretInfo> out;
  for (const auto& [name, version] : newest) {
    auto loaded = load(name, version);
    if (!loaded && loaded.error().code == Errc::store_error) {
      core::log::error("secret.damaged", {{"secret", name}, {"error", loaded.error().to_string()}});
      continue;
    }
    if (!loaded) return std::move(loaded).error();
    out.push_back(std::move(loaded->first));
  }
  return out;
}

}  // namespace cartorio::secrets
