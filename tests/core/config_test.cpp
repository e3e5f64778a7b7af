#include "core/config.h"

#include "support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cartorio::core {
namespace {

using cartorio::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// An environment made of a map, recording which names were asked for.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  std::shared_ptr<std::set<std::string>> asked = std::make_shared<std::set<std::string>>();
  EnvLookup lookup() const {
    return [vars = vars, asked = asked](const std::string& name) -> std::optional<std::string> {
      asked->insert(name);
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

void write_config(const TempDir& dir, const std::string& toml) {
  cartorio::testing::write_file(dir / "config.toml", toml);
}

// Every key set to a valid, non-default value; used as the file under the env tests.
const char* kFullToml = R"([server]
listen = "0.0.0.0:9443"
http_listen = "0.0.0.0:9080"

[pki]
public_base_url = "https://pki.example.com"
organization = "Cartorio Teste"
country = "PT"
root_validity_days = 7000
intermediate_validity_days = 1500
crl_validity_hours = 36

[store]
backend = "sqlite"
sqlite_path = "db/file.db"
postgres_url = "postgresql://file@db/cartorio"

[keys]
backend = "software"
software_dir = "k"
master_key_file = "k/master.key"
master_passphrase = "file-passphrase"
pkcs11_module = "/opt/file/libpkcs11.so"
pkcs11_token = "file-token"
pkcs11_pin_file = "pin.txt"
pkcs11_pin = "1111"

[log]
level = "debug"
)";

// ---- defaults and reading the file -------------------------------------------------------

TEST(LoadConfig, ReturnsDefaults_WhenNoFileAndNoEnv) {
  TempDir dir;
  auto r = load_config(dir.str(), no_env());
  ASSERT_TRUE(r) << r.error().to_string();
  const Config& c = *r;
  const Config d;  // the documented defaults live in config.h
  EXPECT_EQ(c.data_dir, std::filesystem::canonical(dir.path()).string());
  EXPECT_EQ(c.server.listen, d.server.listen);
  EXPECT_EQ(c.server.http_listen, d.server.http_listen);
  EXPECT_EQ(c.pki.public_base_url, d.pki.public_base_url);
  EXPECT_EQ(c.pki.organization, d.pki.organization);
  EXPECT_EQ(c.pki.country, d.pki.country);
  EXPECT_EQ(c.pki.root_validity_days, d.pki.root_validity_days);
  EXPECT_EQ(c.pki.intermediate_validity_days, d.pki.intermediate_validity_days);
  EXPECT_EQ(c.pki.crl_validity_hours, d.pki.crl_validity_hours);
  EXPECT_EQ(c.store.backend, d.store.backend);
  EXPECT_EQ(c.store.sqlite_path, d.store.sqlite_path);
  EXPECT_EQ(c.keys.backend, d.keys.backend);
  EXPECT_EQ(c.keys.software_dir, d.keys.software_dir);
  EXPECT_EQ(c.keys.master_key_file, d.keys.master_key_file);
  EXPECT_EQ(c.keys.pkcs11_module, d.keys.pkcs11_module);
  EXPECT_EQ(c.keys.pkcs11_token, d.keys.pkcs11_token);
  EXPECT_EQ(c.log.level, d.log.level);
  // The embedded defaults are the zero-configuration deployment: SQLite, software keys, no secrets.
  EXPECT_EQ(c.store.backend, "sqlite");
  EXPECT_EQ(c.keys.backend, "software");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.pki.crl_validity_hours, 48);
  EXPECT_EQ(c.store.postgres_url, "");
  EXPECT_EQ(c.keys.master_passphrase, "");
  EXPECT_EQ(c.keys.pkcs11_pin, "");
  EXPECT_EQ(c.keys.pkcs11_pin_file, "");
}

TEST(LoadConfig, MakesDataDirAbsoluteWithoutTrailingSlash) {
  TempDir dir;
  auto r = load_config(dir.str() + "/", no_env());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->data_dir, dir.str());
}

TEST(LoadConfig, ReadsEveryKeyFromToml) {
  TempDir dir;
  write_config(dir, kFullToml);
  auto r = load_config(dir.str(), no_env());
  ASSERT_TRUE(r) << r.error().to_string();
  const Config& c = *r;
  EXPECT_EQ(c.server.listen, "0.0.0.0:9443");
  EXPECT_EQ(c.server.http_listen, "0.0.0.0:9080");
  EXPECT_EQ(c.pki.public_base_url, "https://pki.example.com");
  EXPECT_EQ(c.pki.organization, "Cartorio Teste");
  EXPECT_EQ(c.pki.country, "PT");
  EXPECT_EQ(c.pki.root_validity_days, 7000);
  EXPECT_EQ(c.pki.intermediate_validity_days, 1500);
  EXPECT_EQ(c.pki.crl_validity_hours, 36);
  EXPECT_EQ(c.store.backend, "sqlite");
  EXPECT_EQ(c.store.sqlite_path, "db/file.db");
  EXPECT_EQ(c.store.postgres_url, "postgresql://file@db/cartorio");
  EXPECT_EQ(c.keys.backend, "software");
  EXPECT_EQ(c.keys.software_dir, "k");
  EXPECT_EQ(c.keys.master_key_file, "k/master.key");
  EXPECT_EQ(c.keys.master_passphrase, "file-passphrase");
  EXPECT_EQ(c.keys.pkcs11_module, "/opt/file/libpkcs11.so");
  EXPECT_EQ(c.keys.pkcs11_token, "file-token");
  EXPECT_EQ(c.keys.pkcs11_pin_file, "pin.txt");
  EXPECT_EQ(c.keys.pkcs11_pin, "1111");
  EXPECT_EQ(c.log.level, "debug");
}

TEST(LoadConfig, KeepsDefaultsForKeysTheFileOmits) {
  TempDir dir;
  write_config(dir, "[pki]\norganization = \"Outro\"\n");
  auto r = load_config(dir.str(), no_env());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->pki.organization, "Outro");
  EXPECT_EQ(r->pki.country, "BR");
  EXPECT_EQ(r->store.backend, "sqlite");
}

TEST(LoadConfig, ReportsFileLineAndColumn_WhenTomlDoesNotParse) {
  TempDir dir;
  write_config(dir, "[pki]\norganization = \"unterminated\n");
  auto r = load_config(dir.str(), no_env());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::config_invalid);
  EXPECT_THAT(r.error().message, HasSubstr("config.toml:2:"));
}

// ---- environment overrides -----------------------------------------------------------------

TEST(EnvNameFor, UppercasesAndReplacesDots) {
  EXPECT_EQ(env_name_for("pki.public_base_url"), "CARTORIO_PKI_PUBLIC_BASE_URL");
  EXPECT_EQ(env_name_for("keys.pkcs11_pin"), "CARTORIO_KEYS_PKCS11_PIN");
  EXPECT_EQ(env_name_for("log.level"), "CARTORIO_LOG_LEVEL");
}

struct Override;
void PrintTo(const Override& o, std::ostream* os);

struct Override {
  const char* path;
  const char* env_value;
  std::function<std::string(const Config&)> get;
};

void PrintTo(const Override& o, std::ostream* os) { *os << o.path; }

std::string str(int v) { return std::to_string(v); }

const Override kOverrides[] = {
    {"server.listen", "10.0.0.1:1443", [](const Config& c) { return c.server.listen; }},
    {"server.http_listen", "10.0.0.1:1080", [](const Config& c) { return c.server.http_listen; }},
    {"server.tls_names", "ca.example,10.0.0.1", [](const Config& c) { return c.server.tls_names; }},
    {"server.tls_certificate_days", "30", [](const Config& c) { return str(c.server.tls_certificate_days); }},
    {"server.client_auth", "required", [](const Config& c) { return c.server.client_auth; }},
    {"server.threads", "4", [](const Config& c) { return str(c.server.threads); }},
    {"pki.public_base_url", "http://env.example", [](const Config& c) { return c.pki.public_base_url; }},
    {"pki.organization", "Env Org", [](const Config& c) { return c.pki.organization; }},
    {"pki.country", "AR", [](const Config& c) { return c.pki.country; }},
    {"pki.root_validity_days", "8000", [](const Config& c) { return str(c.pki.root_validity_days); }},
    {"pki.intermediate_validity_days", "1000", [](const Config& c) { return str(c.pki.intermediate_validity_days); }},
    {"pki.crl_validity_hours", "100", [](const Config& c) { return str(c.pki.crl_validity_hours); }},
    {"store.backend", "postgres", [](const Config& c) { return c.store.backend; }},
    {"store.sqlite_path", "/var/env.db", [](const Config& c) { return c.store.sqlite_path; }},
    {"store.postgres_url", "host=env dbname=x", [](const Config& c) { return c.store.postgres_url; }},
    {"keys.backend", "pkcs11", [](const Config& c) { return c.keys.backend; }},
    {"keys.software_dir", "env-keys", [](const Config& c) { return c.keys.software_dir; }},
    {"keys.master_key_file", "env.key", [](const Config& c) { return c.keys.master_key_file; }},
    {"keys.master_passphrase", "env passphrase", [](const Config& c) { return c.keys.master_passphrase; }},
    {"keys.pkcs11_module", "/env/lib.so", [](const Config& c) { return c.keys.pkcs11_module; }},
    {"keys.pkcs11_token", "env-token", [](const Config& c) { return c.keys.pkcs11_token; }},
    {"keys.pkcs11_pin_file", "/env/pin", [](const Config& c) { return c.keys.pkcs11_pin_file; }},
    {"keys.pkcs11_pin", "9999", [](const Config& c) { return c.keys.pkcs11_pin; }},
    {"objects.backend", "filesystem", [](const Config& c) { return c.objects.backend; }},
    {"objects.filesystem_root", "/srv/env-objects", [](const Config& c) { return c.objects.filesystem_root; }},
    {"objects.s3_endpoint", "https://s3.env.example", [](const Config& c) { return c.objects.s3_endpoint; }},
    {"objects.s3_region", "sa-east-1", [](const Config& c) { return c.objects.s3_region; }},
    {"objects.s3_bucket", "env-bucket", [](const Config& c) { return c.objects.s3_bucket; }},
    {"objects.s3_key_prefix", "env/", [](const Config& c) { return c.objects.s3_key_prefix; }},
    {"objects.s3_access_key", "AKIAENV", [](const Config& c) { return c.objects.s3_access_key; }},
    {"objects.s3_secret_key", "env-secret", [](const Config& c) { return c.objects.s3_secret_key; }},
    {"objects.s3_ca_file", "/env/ca.pem", [](const Config& c) { return c.objects.s3_ca_file; }},
    {"objects.encryption", "false", [](const Config& c) { return std::string(c.objects.encryption ? "true" : "false"); }},
    {"keys.data_keys_dir", "/env/data-keys", [](const Config& c) { return c.keys.data_keys_dir; }},
    {"objects.allow_plaintext_reads", "true",
     [](const Config& c) { return std::string(c.objects.allow_plaintext_reads ? "true" : "false"); }},
    {"objects.cold_tier", "false", [](const Config& c) { return std::string(c.objects.cold_tier ? "true" : "false"); }},
    {"objects.cold_filesystem_root", "/srv/env-cold", [](const Config& c) { return c.objects.cold_filesystem_root; }},
    {"objects.s3_cold_bucket", "env-cold", [](const Config& c) { return c.objects.s3_cold_bucket; }},
    {"objects.lifecycle_rules", "docs/=cold:30", [](const Config& c) { return c.objects.lifecycle_rules; }},
    {"cache.backend", "redis", [](const Config& c) { return c.cache.backend; }},
    {"cache.redis_url", "redis://:pw@env:6379/2", [](const Config& c) { return c.cache.redis_url; }},
    {"cache.redis_key_prefix", "env:", [](const Config& c) { return c.cache.redis_key_prefix; }},
    {"cache.memory_max_entries", "5000", [](const Config& c) { return str(c.cache.memory_max_entries); }},
    {"ocsp.cache_ttl_seconds", "600", [](const Config& c) { return str(c.ocsp.cache_ttl_seconds); }},
    {"ocsp.response_validity_minutes", "30", [](const Config& c) { return str(c.ocsp.response_validity_minutes); }},
    {"ocsp.presign", "true", [](const Config& c) { return std::string(c.ocsp.presign ? "true" : "false"); }},
    {"ocsp.presign_interval_seconds", "100", [](const Config& c) { return str(c.ocsp.presign_interval_seconds); }},
    {"jobs.in_server", "false", [](const Config& c) { return std::string(c.jobs.in_server ? "true" : "false"); }},
    {"jobs.crl_interval_hours", "12", [](const Config& c) { return str(c.jobs.crl_interval_hours); }},
    {"jobs.audit_checkpoint_seconds", "60", [](const Config& c) { return str(c.jobs.audit_checkpoint_seconds); }},
    {"jobs.lifecycle_interval_hours", "6", [](const Config& c) { return str(c.jobs.lifecycle_interval_hours); }},
    {"jobs.secret_rotation_check_minutes", "15",
     [](const Config& c) { return str(c.jobs.secret_rotation_check_minutes); }},
    {"jobs.schedules", "backup = 17 * * * *", [](const Config& c) { return c.jobs.schedules; }},
    {"jobs.timeout_minutes", "5", [](const Config& c) { return str(c.jobs.timeout_minutes); }},
    {"jobs.max_attempts", "5", [](const Config& c) { return str(c.jobs.max_attempts); }},
    {"jobs.jitter_seconds", "0", [](const Config& c) { return str(c.jobs.jitter_seconds); }},
    {"limits.per_ip_burst", "7", [](const Config& c) { return str(c.limits.per_ip_burst); }},
    {"limits.per_ip_per_second", "8", [](const Config& c) { return str(c.limits.per_ip_per_second); }},
    {"limits.per_client_burst", "9", [](const Config& c) { return str(c.limits.per_client_burst); }},
    {"limits.per_client_per_second", "10", [](const Config& c) { return str(c.limits.per_client_per_second); }},
    {"identity.data_key_file", "/secure/identity.key", [](const Config& c) { return c.identity.data_key_file; }},
    {"identity.access_token_minutes", "5", [](const Config& c) { return str(c.identity.access_token_minutes); }},
    {"identity.refresh_token_days", "7", [](const Config& c) { return str(c.identity.refresh_token_days); }},
    {"tsa.policy_oid", "1.3.6.1.4.1.99999.1", [](const Config& c) { return c.tsa.policy_oid; }},
    {"tsa.accuracy_seconds", "5", [](const Config& c) { return str(c.tsa.accuracy_seconds); }},
    {"tsa.url", "https://tsa.example/tsr", [](const Config& c) { return c.tsa.url; }},
    {"tsa.timeout_seconds", "20", [](const Config& c) { return str(c.tsa.timeout_seconds); }},
    {"documents.default_level", "B-LTA", [](const Config& c) { return c.documents.default_level; }},
    {"documents.certificate_validity_days", "7", [](const Config& c) { return str(c.documents.certificate_validity_days); }},
    {"documents.max_pdf_bytes", "1048576", [](const Config& c) { return str(c.documents.max_pdf_bytes); }},
    {"documents.download_link_minutes", "15", [](const Config& c) { return str(c.documents.download_link_minutes); }},
    {"documents.link_key_file", "/etc/cartorio/links.key", [](const Config& c) { return c.documents.link_key_file; }},
    {"pii.index_key_file", "/etc/cartorio/pii-index.key", [](const Config& c) { return c.pii.index_key_file; }},
    {"secrets.rotation_days", "90", [](const Config& c) { return str(c.secrets.rotation_days); }},
    {"secrets.rotate_postgres_password", "true",
     [](const Config& c) { return std::string(c.secrets.rotate_postgres_password ? "true" : "false"); }},
    {"audit_shipping.enabled", "false",
     [](const Config& c) { return std::string(c.audit_shipping.enabled ? "true" : "false"); }},
    {"audit_shipping.batch_max_events", "250", [](const Config& c) { return str(c.audit_shipping.batch_max_events); }},
    {"audit_shipping.max_delay_seconds", "5", [](const Config& c) { return str(c.audit_shipping.max_delay_seconds); }},
    {"audit_shipping.poll_seconds", "30", [](const Config& c) { return str(c.audit_shipping.poll_seconds); }},
    {"backup.key_file", "/etc/cartorio-offsite/backup.key", [](const Config& c) { return c.backup.key_file; }},
    {"backup.interval_hours", "6", [](const Config& c) { return str(c.backup.interval_hours); }},
    {"backup.retention_days", "90", [](const Config& c) { return str(c.backup.retention_days); }},
    {"backup.include_master_key", "true",
     [](const Config& c) { return std::string(c.backup.include_master_key ? "true" : "false"); }},
    {"acme.allowed_domains", "corp.example,internal", [](const Config& c) { return c.acme.allowed_domains; }},
    {"acme.base_url", "https://pki.corp.example:8443", [](const Config& c) { return c.acme.base_url; }},
    {"acme.http01_port", "5002", [](const Config& c) { return str(c.acme.http01_port); }},
    {"acme.tls_alpn01_port", "5001", [](const Config& c) { return str(c.acme.tls_alpn01_port); }},
    {"acme.validation_networks", "10.0.0.0/8", [](const Config& c) { return c.acme.validation_networks; }},
    {"acme.validation_timeout_seconds", "20", [](const Config& c) { return str(c.acme.validation_timeout_seconds); }},
    {"acme.require_eab", "true", [](const Config& c) { return std::string(c.acme.require_eab ? "true" : "false"); }},
    {"acme.new_orders_per_hour", "50", [](const Config& c) { return str(c.acme.new_orders_per_hour); }},
    {"acme.validity_days", "30", [](const Config& c) { return str(c.acme.validity_days); }},
    {"renewal.window_days", "21", [](const Config& c) { return str(c.renewal.window_days); }},
    {"renewal.check_interval_hours", "6", [](const Config& c) { return str(c.renewal.check_interval_hours); }},
    {"renewal.reload_seconds", "5", [](const Config& c) { return str(c.renewal.reload_seconds); }},
    {"renewal.deploy_command", "/usr/local/bin/deploy --reload", [](const Config& c) { return c.renewal.deploy_command; }},
    {"renewal.deploy_webhook", "https://hooks.example/deploy", [](const Config& c) { return c.renewal.deploy_webhook; }},
    {"renewal.failure_webhook", "https://hooks.example/sns", [](const Config& c) { return c.renewal.failure_webhook; }},
    {"renewal.hook_timeout_seconds", "15", [](const Config& c) { return str(c.renewal.hook_timeout_seconds); }},
    {"renewal.retry_attempts", "5", [](const Config& c) { return str(c.renewal.retry_attempts); }},
    {"renewal.retry_backoff_seconds", "0", [](const Config& c) { return str(c.renewal.retry_backoff_seconds); }},
    {"log.level", "error", [](const Config& c) { return c.log.level; }},
};

class EnvOverride : public ::testing::TestWithParam<Override> {};

TEST_P(EnvOverride, EnvValueWinsOverTheFile) {
  const Override& o = GetParam();
  TempDir dir;
  write_config(dir, kFullToml);
  FakeEnv env;
  env.vars[env_name_for(o.path)] = o.env_value;
  if (!env.vars.count("CARTORIO_CACHE_REDIS_URL")) env.vars["CARTORIO_CACHE_REDIS_URL"] = "redis://x";
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(o.get(*r), o.env_value);
}

TEST_P(EnvOverride, EnvValueWinsOverTheDefault) {
  const Override& o = GetParam();
  TempDir dir;
  FakeEnv env;
  env.vars[env_name_for(o.path)] = o.env_value;
  // Keep the result valid when the override switches a backend.
  if (!env.vars.count("CARTORIO_STORE_POSTGRES_URL")) env.vars["CARTORIO_STORE_POSTGRES_URL"] = "host=x";
  if (!env.vars.count("CARTORIO_KEYS_PKCS11_PIN")) env.vars["CARTORIO_KEYS_PKCS11_PIN"] = "0000";
  if (!env.vars.count("CARTORIO_CACHE_REDIS_URL")) env.vars["CARTORIO_CACHE_REDIS_URL"] = "redis://x";
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(o.get(*r), o.env_value);
}

INSTANTIATE_TEST_SUITE_P(EveryKey, EnvOverride, ::testing::ValuesIn(kOverrides),
                         [](const ::testing::TestParamInfo<Override>& i) {
                           std::string n = i.param.path;
                           for (auto& ch : n)
                             if (ch == '.') ch = '_';
                           return n;
                         });

TEST(LoadConfig, OverrideTableCoversEveryDescribedKey) {
  std::set<std::string> described;
  for (const auto& line : describe_config_keys()) described.insert(line.substr(0, line.find(' ')));
  std::set<std::string> covered;
  for (const auto& o : kOverrides) covered.insert(o.path);
  EXPECT_EQ(described, covered);
}

TEST(LoadConfig, AsksTheEnvironmentOnlyForCartorioNamesOfKnownKeys) {
  TempDir dir;
  FakeEnv env;
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_TRUE(r) << r.error().to_string();
  std::set<std::string> expected;
  for (const auto& o : kOverrides) expected.insert(env_name_for(o.path));
  EXPECT_EQ(*env.asked, expected);
}

TEST(LoadConfig, RejectsNonIntegerEnvValue_NamingKeyAndVariable) {
  for (const char* bad : {"abc", "48h", "", "99999999999", "4.5"}) {
    TempDir dir;
    FakeEnv env;
    env.vars["CARTORIO_PKI_CRL_VALIDITY_HOURS"] = bad;
    auto r = load_config(dir.str(), env.lookup());
    ASSERT_FALSE(r) << "accepted \"" << bad << "\"";
    EXPECT_EQ(r.error().code, Errc::config_invalid);
    EXPECT_THAT(r.error().message,
                HasSubstr("pki.crl_validity_hours (CARTORIO_PKI_CRL_VALIDITY_HOURS): must be an integer"))
        << bad;
  }
}

TEST(LoadConfig, EnvOverrideIsValidatedLikeTheFile) {
  TempDir dir;
  FakeEnv env;
  env.vars["CARTORIO_LOG_LEVEL"] = "verbose";
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("log.level"));
}

// ---- rejection: unknown keys, wrong types, invalid values ----------------------------------

struct BadConfig {
  const char* name;
  const char* toml;
  const char* expected;  // substring of the error message, naming the key path
};

const BadConfig kBadConfigs[] = {
    {"UnknownKeyInKnownSection", "[pki]\npublic_base_urll = \"http://x\"\n", "pki.public_base_urll: unknown key"},
    {"UnknownSection", "[bogus]\nx = 1\n", "bogus.x: unknown key"},
    {"UnknownTopLevelKey", "listen = \"1.2.3.4:1\"\n", "listen: unknown key"},
    {"UnknownSubTable", "[pki.extra]\nx = 1\n", "pki.extra: unknown key"},
    {"StringWhereIntegerExpected", "[pki]\nroot_validity_days = \"7300\"\n", "pki.root_validity_days: must be an integer"},
    {"FloatWhereIntegerExpected", "[pki]\ncrl_validity_hours = 48.5\n", "pki.crl_validity_hours: must be an integer"},
    {"IntegerWhereStringExpected", "[server]\nlisten = 8443\n", "server.listen: must be a string"},
    {"TableWhereStringExpected", "[log.level]\nx = 1\n", "log.level: must be a string"},
    {"ArrayWhereStringExpected", "[store]\nbackend = [\"sqlite\"]\n", "store.backend: must be a string"},
    {"UnknownStoreBackend", "[store]\nbackend = \"mysql\"\n", "store.backend: must be \"sqlite\" or \"postgres\", got \"mysql\""},
    {"PostgresWithoutUrl", "[store]\nbackend = \"postgres\"\n", "store.postgres_url: required"},
    {"UnknownKeysBackend", "[keys]\nbackend = \"tpm\"\n", "keys.backend: must be \"software\" or \"pkcs11\""},
    {"Pkcs11WithoutPin", "[keys]\nbackend = \"pkcs11\"\n", "keys.pkcs11_pin_file: required"},
    {"BaseUrlWithoutScheme", "[pki]\npublic_base_url = \"pki.example.com\"\n", "pki.public_base_url: must start with"},
    {"BaseUrlFtp", "[pki]\npublic_base_url = \"ftp://pki.example.com\"\n", "pki.public_base_url"},
    {"CountryThreeLetters", "[pki]\ncountry = \"BRA\"\n", "pki.country: must be a two-letter"},
    {"CountryEmpty", "[pki]\ncountry = \"\"\n", "pki.country"},
    {"CountryDigits", "[pki]\ncountry = \"12\"\n", "pki.country: must be a two-letter"},
    {"ListenWithoutPort", "[server]\nlisten = \"localhost\"\n", "server.listen"},
    {"HttpListenNotAnAddress", "[server]\nhttp_listen = \"eighty\"\n", "server.http_listen"},
    {"IntermediateLongerThanRoot", "[pki]\nroot_validity_days = 100\nintermediate_validity_days = 200\n",
     "pki.intermediate_validity_days"},
    {"IntermediateZero", "[pki]\nintermediate_validity_days = 0\n", "pki.intermediate_validity_days"},
    {"CrlValidityTooShort", "[pki]\ncrl_validity_hours = 24\n", "pki.crl_validity_hours: must be between 25"},
    {"CrlValidityNegative", "[pki]\ncrl_validity_hours = -48\n", "pki.crl_validity_hours"},
    {"SecretRotationNegative", "[secrets]\nrotation_days = -1\n", "secrets.rotation_days"},
    {"SecretCheckZero", "[jobs]\nsecret_rotation_check_minutes = 0\n", "jobs.secret_rotation_check_minutes"},
    {"JobTimeoutZero", "[jobs]\ntimeout_minutes = 0\n", "jobs.timeout_minutes"},
    {"JobAttemptsZero", "[jobs]\nmax_attempts = 0\n", "jobs.max_attempts"},
    {"JobJitterNegative", "[jobs]\njitter_seconds = -1\n", "jobs.jitter_seconds"},
    {"ShippingBatchOfOne", "[audit_shipping]\nbatch_max_events = 1\n", "audit_shipping.batch_max_events: must be between 2"},
    {"ShippingBatchOverAPage", "[audit_shipping]\nbatch_max_events = 10001\n", "audit_shipping.batch_max_events"},
    {"ShippingDelayZero", "[audit_shipping]\nmax_delay_seconds = 0\n", "audit_shipping.max_delay_seconds"},
    {"ShippingPollZero", "[audit_shipping]\npoll_seconds = 0\n", "audit_shipping.poll_seconds"},
    {"BackupKeyRelative", "[backup]\nkey_file = \"backup.key\"\n", "backup.key_file: must be an absolute path outside"},
    {"BackupIntervalZero", "[backup]\ninterval_hours = 0\n", "backup.interval_hours"},
    {"BackupRetentionZero", "[backup]\nretention_days = 0\n", "backup.retention_days"},
    {"RenewalWindowZero", "[renewal]\nwindow_days = 0\n", "renewal.window_days: must be between 1 and 365"},
    {"RenewalCheckOverAWeek", "[renewal]\ncheck_interval_hours = 169\n", "renewal.check_interval_hours"},
    {"RenewalWebhookNotHttp", "[renewal]\nfailure_webhook = \"ftp://hooks.example\"\n", "renewal.failure_webhook: must be an http"},
    {"RenewalAttemptsZero", "[renewal]\nretry_attempts = 0\n", "renewal.retry_attempts"},
    {"UnknownLogLevel", "[log]\nlevel = \"verbose\"\n", "log.level: must be debug, info, warn or error"},
    {"LogLevelWrongCase", "[log]\nlevel = \"INFO\"\n", "log.level"},
    {"AccessTokenZero", "[identity]\naccess_token_minutes = 0\n", "identity.access_token_minutes: must be between 1"},
    {"AccessTokenOverADay", "[identity]\naccess_token_minutes = 1441\n", "identity.access_token_minutes"},
    {"RefreshTokenOverAYear", "[identity]\nrefresh_token_days = 366\n", "identity.refresh_token_days"},
    {"IdentityKeyFileEmpty", "[identity]\ndata_key_file = \"\"\n", "identity.data_key_file"},
    {"LinkKeyFileEmpty", "[documents]\nlink_key_file = \"\"\n", "documents.link_key_file"},
    {"PiiIndexKeyFileEmpty", "[pii]\nindex_key_file = \"\"\n", "pii.index_key_file"},
    {"UnknownPadesLevel", "[documents]\ndefault_level = \"B-X\"\n", "documents.default_level"},
    {"TsaUrlNotHttp", "[tsa]\nurl = \"ftp://tsa.example\"\n", "tsa.url"},
    {"TsaAccuracyZero", "[tsa]\naccuracy_seconds = 0\n", "tsa.accuracy_seconds"},
};

void PrintTo(const BadConfig& b, std::ostream* os) { *os << b.name; }

class RejectsConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(RejectsConfig, WithMessageNamingTheKey) {
  TempDir dir;
  write_config(dir, GetParam().toml);
  auto r = load_config(dir.str(), no_env());
  ASSERT_FALSE(r) << "accepted:\n" << GetParam().toml;
  EXPECT_EQ(r.error().code, Errc::config_invalid);
  EXPECT_THAT(r.error().message, HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(Cases, RejectsConfig, ::testing::ValuesIn(kBadConfigs),
                         [](const ::testing::TestParamInfo<BadConfig>& i) { return std::string(i.param.name); });

TEST(LoadConfig, ReportsEveryProblemAtOnce) {
  TempDir dir;
  write_config(dir, R"([server]
listen = 1
[pki]
colour = "blue"
country = "BRA"
[log]
level = "loud"
)");
  FakeEnv env;
  env.vars["CARTORIO_PKI_ROOT_VALIDITY_DAYS"] = "many";
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_THAT(m, HasSubstr("server.listen: must be a string"));
  EXPECT_THAT(m, HasSubstr("pki.colour: unknown key"));
  EXPECT_THAT(m, HasSubstr("pki.country: must be a two-letter"));
  EXPECT_THAT(m, HasSubstr("log.level"));
  EXPECT_THAT(m, HasSubstr("pki.root_validity_days (CARTORIO_PKI_ROOT_VALIDITY_DAYS): must be an integer"));
  // one problem per line
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 4) << m;
}

TEST(LoadConfig, RejectsEmptyUnknownSection) {
  // A misspelt section with nothing in it yet ("[stroe]") is as much a typo as a misspelt key.
  TempDir dir;
  write_config(dir, "[stroe]\n");
  auto r = load_config(dir.str(), no_env());
  ASSERT_FALSE(r) << "an empty unknown table must not be accepted silently";
  EXPECT_THAT(r.error().message, HasSubstr("stroe: unknown section"));
}

TEST(LoadConfig, RejectsIntegerOutOfIntRange_InsteadOfTruncating) {
  // 2^32 + 72 does not fit an int; static_cast<int> wraps it to 72, which then passes validation.
  TempDir dir;
  write_config(dir, "[pki]\ncrl_validity_hours = 4294967368\n");
  auto r = load_config(dir.str(), no_env());
  if (r) {
    ADD_FAILURE() << "regression: src/core/config.cpp:130 static_cast<int> of an int64 TOML value silently wraps: "
                     "4294967368 was loaded as crl_validity_hours = "
                  << r->pki.crl_validity_hours;
    return;
  }
  EXPECT_THAT(r.error().message, HasSubstr("pki.crl_validity_hours"));
}

TEST(LoadConfig, RejectsBooleanWhereIntegerExpected) {
  // toml++'s value<int64_t>() converts a boolean; `true` would become a 1-day validity.
  TempDir dir;
  write_config(dir, "[pki]\nintermediate_validity_days = true\n");
  auto r = load_config(dir.str(), no_env());
  if (r) {
    ADD_FAILURE() << "regression: src/core/config.cpp:129 node.value<std::int64_t>() accepts a TOML boolean: "
                     "intermediate_validity_days = true loaded as "
                  << r->pki.intermediate_validity_days;
    return;
  }
  EXPECT_THAT(r.error().message, HasSubstr("pki.intermediate_validity_days: must be an integer"));
}

TEST(LoadConfig, NamesRootValidity_WhenRootValidityIsNotPositive) {
  TempDir dir;
  write_config(dir, "[pki]\nroot_validity_days = 0\nintermediate_validity_days = 0\n");
  auto r = load_config(dir.str(), no_env());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("pki.root_validity_days"))
      << "regression: src/core/config.cpp:71-73 blames pki.intermediate_validity_days for a bad root validity; got: "
      << r.error().message;
}

// ---- render_config_toml ---------------------------------------------------------------------

Config custom_config(const std::string& data_dir) {
  Config c;
  c.data_dir = data_dir;
  c.server.listen = "[::1]:9443";
  c.server.http_listen = "0.0.0.0:80";
  c.pki.public_base_url = "https://pki.example.com/base";
  c.pki.organization = "Cartório \"Digital\" \\ Ltda\tfilial";  // quotes, backslash, tab, UTF-8
  c.pki.country = "BR";
  c.pki.root_validity_days = 9000;
  c.pki.intermediate_validity_days = 2000;
  c.pki.crl_validity_hours = 30;
  c.store.backend = "postgres";
  c.store.sqlite_path = "/abs/path.db";
  c.store.postgres_url = "postgresql://cartorio:pg-S3CRET-pw@db.internal/cartorio";
  c.keys.backend = "pkcs11";
  c.keys.software_dir = "soft";
  c.keys.master_key_file = "soft/m.key";
  c.keys.master_passphrase = "master-S3CRET-passphrase";
  c.keys.pkcs11_module = "/usr/lib/x.so";
  c.keys.pkcs11_token = "tok";
  c.keys.pkcs11_pin_file = "";
  c.keys.pkcs11_pin = "PIN-S3CRET-4321";
  c.log.level = "warn";
  return c;
}

TEST(RenderConfigToml, LeavesSecretValuesOut) {
  const std::string text = render_config_toml(custom_config("/x"));
  EXPECT_THAT(text, Not(HasSubstr("S3CRET")));
  EXPECT_THAT(text, Not(HasSubstr("pg-S3CRET-pw")));
  EXPECT_THAT(text, Not(HasSubstr("PIN-S3CRET-4321")));
  EXPECT_THAT(text, Not(HasSubstr("master-S3CRET-passphrase")));
  // It tells the reader where the secrets go instead.
  EXPECT_THAT(text, HasSubstr("CARTORIO_KEYS_PKCS11_PIN"));
  EXPECT_THAT(text, HasSubstr("CARTORIO_KEYS_MASTER_PASSPHRASE"));
  EXPECT_THAT(text, HasSubstr("CARTORIO_STORE_POSTGRES_URL"));
}

TEST(RenderConfigToml, RoundTripsThroughLoadConfig) {
  TempDir dir;
  const Config original = custom_config(dir.str());
  write_config(dir, render_config_toml(original));
  // The secrets come back through the environment, as in production.
  FakeEnv env;
  env.vars["CARTORIO_STORE_POSTGRES_URL"] = original.store.postgres_url;
  env.vars["CARTORIO_KEYS_PKCS11_PIN"] = original.keys.pkcs11_pin;
  env.vars["CARTORIO_KEYS_MASTER_PASSPHRASE"] = original.keys.master_passphrase;
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_TRUE(r) << r.error().to_string() << "\n" << render_config_toml(original);
  const Config& c = *r;
  EXPECT_EQ(c.server.listen, original.server.listen);
  EXPECT_EQ(c.server.http_listen, original.server.http_listen);
  EXPECT_EQ(c.pki.public_base_url, original.pki.public_base_url);
  EXPECT_EQ(c.pki.organization, original.pki.organization);
  EXPECT_EQ(c.pki.country, original.pki.country);
  EXPECT_EQ(c.pki.root_validity_days, original.pki.root_validity_days);
  EXPECT_EQ(c.pki.intermediate_validity_days, original.pki.intermediate_validity_days);
  EXPECT_EQ(c.pki.crl_validity_hours, original.pki.crl_validity_hours);
  EXPECT_EQ(c.store.backend, original.store.backend);
  EXPECT_EQ(c.store.sqlite_path, original.store.sqlite_path);
  EXPECT_EQ(c.keys.backend, original.keys.backend);
  EXPECT_EQ(c.keys.software_dir, original.keys.software_dir);
  EXPECT_EQ(c.keys.master_key_file, original.keys.master_key_file);
  EXPECT_EQ(c.keys.pkcs11_module, original.keys.pkcs11_module);
  EXPECT_EQ(c.keys.pkcs11_token, original.keys.pkcs11_token);
  EXPECT_EQ(c.keys.pkcs11_pin_file, original.keys.pkcs11_pin_file);
  EXPECT_EQ(c.log.level, original.log.level);
}

TEST(RenderConfigToml, SecretsDoNotComeBackFromTheRenderedFile) {
  TempDir dir;
  write_config(dir, render_config_toml(custom_config(dir.str())));
  FakeEnv env;
  env.vars["CARTORIO_STORE_POSTGRES_URL"] = "host=env";
  env.vars["CARTORIO_KEYS_PKCS11_PIN"] = "1";
  auto r = load_config(dir.str(), env.lookup());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->keys.master_passphrase, "");
  EXPECT_EQ(r->store.postgres_url, "host=env");
}

TEST(RenderConfigToml, DefaultsRoundTrip) {
  TempDir dir;
  write_config(dir, render_config_toml(Config{}));
  auto r = load_config(dir.str(), no_env());
  ASSERT_TRUE(r) << r.error().to_string();
  const Config d;
  EXPECT_EQ(r->server.listen, d.server.listen);
  EXPECT_EQ(r->pki.root_validity_days, d.pki.root_validity_days);
  EXPECT_EQ(r->keys.pkcs11_module, d.keys.pkcs11_module);
}

// ---- Config::path, describe_config_keys -----------------------------------------------------

TEST(ConfigPath, ResolvesRelativePathsAgainstDataDir) {
  Config c;
  c.data_dir = "/srv/cartorio";
  EXPECT_EQ(c.path("cartorio.db"), "/srv/cartorio/cartorio.db");
  EXPECT_EQ(c.path("keys/master.key"), "/srv/cartorio/keys/master.key");
}

TEST(ConfigPath, KeepsAbsolutePathsAndEmpty) {
  Config c;
  c.data_dir = "/srv/cartorio";
  EXPECT_EQ(c.path("/etc/pin"), "/etc/pin");
  EXPECT_EQ(c.path(""), "");
}

TEST(ConfigPath, UsesTheLoadedDataDir) {
  TempDir dir;
  auto r = load_config(dir.str(), no_env());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->path(r->store.sqlite_path), dir.str() + "/cartorio.db");
}

TEST(DescribeConfigKeys, ListsPathEnvNameAndDescription) {
  auto lines = describe_config_keys();
  ASSERT_EQ(lines.size(), std::size(kOverrides));
  EXPECT_THAT(lines, ::testing::Contains(HasSubstr("pki.public_base_url (CARTORIO_PKI_PUBLIC_BASE_URL): ")));
  for (const auto& l : lines) EXPECT_THAT(l, ::testing::MatchesRegex("[a-z0-9_]+\\.[a-z0-9_]+ \\(CARTORIO_[A-Z0-9_]+\\): .+"));
}

}  // namespace
}  // namespace cartorio::core
