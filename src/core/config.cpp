#include "core/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <filesystem>
#include <sstream>

namespace cartorio::core {
namespace {

namespace fs = std::filesystem;

// Accessors keep the table declarative without member-pointer gymnastics.
struct Key {
  const char* path;
  const char* description;
  bool secret;
  std::string* (*text)(Config&);
  int* (*integer)(Config&);
  bool* (*boolean)(Config&);
};

#define TEXT(p, member, desc, secret) \
  Key{p, desc, secret, [](Config& c) -> std::string* { return &c.member; }, nullptr, nullptr}
#define INT(p, member, desc) Key{p, desc, false, nullptr, [](Config& c) -> int* { return &c.member; }, nullptr}
#define BOOL(p, member, desc) Key{p, desc, false, nullptr, nullptr, [](Config& c) -> bool* { return &c.member; }}

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      TEXT("server.listen", server.listen, "HTTPS listener, HOST:PORT", false),
      TEXT("server.http_listen", server.http_listen, "plain-HTTP listener for OCSP, CRL and caIssuers", false),
      TEXT("server.tls_names", server.tls_names, "comma-separated DNS names / IPs of the HTTPS certificate", false),
      INT("server.tls_certificate_days", server.tls_certificate_days, "validity of the HTTPS certificate issued at start"),
      TEXT("server.client_auth", server.client_auth, "client certificates (mTLS): none | optional | required", false),
      INT("server.threads", server.threads, "worker threads per listener (0: one per core)"),
      TEXT("pki.public_base_url", pki.public_base_url, "base URL written into AIA and CRL distribution points", false),
      TEXT("pki.organization", pki.organization, "O= of the CA certificates", false),
      TEXT("pki.country", pki.country, "C= of the CA certificates (2 letters)", false),
      INT("pki.root_validity_days", pki.root_validity_days, "root CA validity"),
      INT("pki.intermediate_validity_days", pki.intermediate_validity_days, "TLS and Document Signing CA validity"),
      INT("pki.crl_validity_hours", pki.crl_validity_hours, "CRL nextUpdate - thisUpdate"),
      TEXT("store.backend", store.backend, "sqlite | postgres", false),
      TEXT("store.sqlite_path", store.sqlite_path, "SQLite database file", false),
      TEXT("store.postgres_url", store.postgres_url, "libpq connection string (secret)", true),
      TEXT("keys.backend", keys.backend, "software | pkcs11", false),
      TEXT("keys.software_dir", keys.software_dir, "directory of sealed software keys", false),
      TEXT("keys.master_key_file", keys.master_key_file, "master key file (32 random bytes, hex; keep it out of the keys directory and its backups)", false),
      TEXT("keys.master_passphrase", keys.master_passphrase, "master passphrase instead of a key file (secret)", true),
      TEXT("keys.pkcs11_module", keys.pkcs11_module, "PKCS#11 module path", false),
      TEXT("keys.pkcs11_token", keys.pkcs11_token, "PKCS#11 token label", false),
      TEXT("keys.pkcs11_pin_file", keys.pkcs11_pin_file, "file holding the user PIN", false),
      TEXT("keys.pkcs11_pin", keys.pkcs11_pin, "user PIN (secret)", true),
      TEXT("keys.data_keys_dir", keys.data_keys_dir,
           "data keys (sealed under the master key) that encrypt objects and personal fields", false),
      TEXT("objects.backend", objects.backend, "filesystem | s3", false),
      TEXT("objects.filesystem_root", objects.filesystem_root, "directory of the filesystem object store", false),
      TEXT("objects.s3_endpoint", objects.s3_endpoint, "S3-compatible server, http(s)://host[:port] (path-style requests)", false),
      TEXT("objects.s3_region", objects.s3_region, "SigV4 signing region", false),
      TEXT("objects.s3_bucket", objects.s3_bucket, "bucket (created with versioning on when missing)", false),
      TEXT("objects.s3_key_prefix", objects.s3_key_prefix, "namespace in the bucket, ending in '/' (empty: the whole bucket)", false),
      TEXT("objects.s3_access_key", objects.s3_access_key, "access key id", false),
      TEXT("objects.s3_secret_key", objects.s3_secret_key, "secret access key (secret)", true),
      TEXT("objects.s3_ca_file", objects.s3_ca_file, "CA bundle that verifies an https endpoint (empty: the system's)", false),
      BOOL("objects.encryption", objects.encryption, "encrypt every object under a per-object key wrapped by a data key"),
      BOOL("objects.allow_plaintext_reads", objects.allow_plaintext_reads,
           "read objects stored before encryption was on (migration; then `cartorio objects reencrypt`)"),
      BOOL("objects.cold_tier", objects.cold_tier, "move old objects to a cold tier (objects.lifecycle_rules)"),
      TEXT("objects.cold_filesystem_root", objects.cold_filesystem_root, "directory of the cold tier (filesystem backend)", false),
      TEXT("objects.s3_cold_bucket", objects.s3_cold_bucket, "bucket of the cold tier (s3 backend; empty: <s3_bucket>-cold)", false),
      TEXT("objects.lifecycle_rules", objects.lifecycle_rules,
           "PREFIX=cold:DAYS,expire:DAYS,noncurrent:DAYS; ... (docs/objectstore.md, Lifecycle)", false),
      TEXT("cache.backend", cache.backend, "memory | redis", false),
      TEXT("cache.redis_url", cache.redis_url, "redis://[[user]:password@]host[:port][/db] (secret)", true),
      TEXT("cache.redis_key_prefix", cache.redis_key_prefix, "namespace of this installation's Redis keys", false),
      INT("cache.memory_max_entries", cache.memory_max_entries, "bound of the in-process cache (and of the Redis fallback)"),
      INT("ocsp.cache_ttl_seconds", ocsp.cache_ttl_seconds, "how long a signed OCSP response is reused"),
      INT("ocsp.response_validity_minutes", ocsp.response_validity_minutes, "nextUpdate - thisUpdate of OCSP responses"),
      BOOL("ocsp.presign", ocsp.presign, "pre-sign every live certificate's OCSP response so requests never sign"),
      INT("ocsp.presign_interval_seconds", ocsp.presign_interval_seconds, "how often pre-signed responses are renewed"),
      BOOL("jobs.in_server", jobs.in_server, "`serve` runs the periodic jobs itself (else run `cartorio worker`)"),
      INT("jobs.crl_interval_hours", jobs.crl_interval_hours, "how often each online CA's CRL is re-signed"),
      INT("jobs.lifecycle_interval_hours", jobs.lifecycle_interval_hours, "how often the object lifecycle rules run"),
      INT("jobs.audit_checkpoint_seconds", jobs.audit_checkpoint_seconds,
          "how often the audit and transparency logs get a signed tree head (when they grew)"),
      INT("jobs.secret_rotation_check_minutes", jobs.secret_rotation_check_minutes,
          "how often secrets due for rotation are looked for"),
      TEXT("jobs.schedules", jobs.schedules,
           "per-job schedules overriding the defaults: \"name = cron expression | @daily | @every 15m; ...\"", false),
      INT("jobs.timeout_minutes", jobs.timeout_minutes, "time limit of one job run"),
      INT("jobs.max_attempts", jobs.max_attempts, "tries per fire time (retries back off exponentially)"),
      INT("jobs.jitter_seconds", jobs.jitter_seconds, "random delay after each fire time (at most a tenth of the period)"),
      INT("limits.per_ip_burst", limits.per_ip_burst, "HTTPS API requests a source IP may send at once"),
      INT("limits.per_ip_per_second", limits.per_ip_per_second, "... and per second after that"),
      INT("limits.per_client_burst", limits.per_client_burst, "API calls an authenticated client may make at once"),
      INT("limits.per_client_per_second", limits.per_client_per_second, "... and per second after that"),
      TEXT("identity.data_key_file", identity.data_key_file, "identity data key (32 random bytes, hex): seals TOTP secrets", false),
      INT("identity.access_token_minutes", identity.access_token_minutes, "lifetime of JWT access tokens"),
      INT("identity.refresh_token_days", identity.refresh_token_days, "lifetime of a refresh-token family"),
      TEXT("tsa.policy_oid", tsa.policy_oid, "policy OID of the own time-stamp authority's tokens", false),
      INT("tsa.accuracy_seconds", tsa.accuracy_seconds, "accuracy the own TSA states in its tokens"),
      TEXT("tsa.url", tsa.url, "external RFC 3161 TSA for document timestamps (empty: the own TSA)", false),
      INT("tsa.timeout_seconds", tsa.timeout_seconds, "timeout of a request to the external TSA"),
      TEXT("documents.default_level", documents.default_level, "PAdES level when none is asked: B-B | B-T | B-LT | B-LTA", false),
      INT("documents.certificate_validity_days", documents.certificate_validity_days, "validity of a per-document signing certificate"),
      INT("documents.max_pdf_bytes", documents.max_pdf_bytes, "largest PDF accepted for signing or verification"),
      INT("documents.download_link_minutes", documents.download_link_minutes, "lifetime of a signed download link"),
      TEXT("documents.link_key_file", documents.link_key_file, "HMAC key of download links (32 random bytes, hex)", false),
      TEXT("pii.index_key_file", pii.index_key_file,
           "installation secret of the personal-data blind index (32 random bytes, hex)", false),
      INT("secrets.rotation_days", secrets.rotation_days,
          "rotation period of the installation's secrets (JWT key, database password) and of put ones (0: never)"),
      BOOL("secrets.rotate_postgres_password", secrets.rotate_postgres_password,
           "set a new random password on the PostgreSQL role every secrets.rotation_days (docs/secrets.md)"),
      TEXT("backup.key_file", backup.key_file,
           "backup key (32 random bytes, hex, 0600): an absolute path outside the data dir; empty: no backups", false),
      INT("backup.interval_hours", backup.interval_hours, "how often the `backup` job runs (1..168)"),
      INT("backup.retention_days", backup.retention_days, "backups older than this are deleted (1..3650)"),
      BOOL("backup.include_master_key", backup.include_master_key,
           "put the master key into backups (else `restore --master-key-file`)"),
      TEXT("acme.allowed_domains", acme.allowed_domains,
           "comma-separated zones ACME may issue for (a zone and its subdomains); empty: no ACME server", false),
      TEXT("acme.base_url", acme.base_url, "https://host[:port] of the ACME URLs (empty: the request's Host)", false),
      INT("acme.http01_port", acme.http01_port, "port http-01 validation connects to"),
      INT("acme.tls_alpn01_port", acme.tls_alpn01_port, "port tls-alpn-01 validation connects to"),
      TEXT("acme.validation_networks", acme.validation_networks,
           "CIDRs validation may connect to (link-local is always refused)", false),
      INT("acme.validation_timeout_seconds", acme.validation_timeout_seconds, "time limit of one validation"),
      BOOL("acme.require_eab", acme.require_eab, "accounts need an External Account Binding key (`cartorio acme eab create`)"),
      INT("acme.new_orders_per_hour", acme.new_orders_per_hour, "new orders per account and hour"),
      INT("acme.validity_days", acme.validity_days, "validity of ACME certificates (days)"),
      INT("renewal.window_days", renewal.window_days, "managed TLS certificates expiring within this are renewed"),
      INT("renewal.check_interval_hours", renewal.check_interval_hours, "how often cert-expiry-check runs"),
      INT("renewal.reload_seconds", renewal.reload_seconds, "how often `serve` looks for a renewed server-tls"),
      TEXT("renewal.deploy_command", renewal.deploy_command,
           "run after a renewal, without a shell (env CARTORIO_CERT_*, docs/operations.md)", false),
      TEXT("renewal.deploy_webhook", renewal.deploy_webhook, "POSTed JSON after a renewal (secret)", true),
      TEXT("renewal.failure_webhook", renewal.failure_webhook, "POSTed JSON when a renewal or deploy fails (secret)", true),
      INT("renewal.hook_timeout_seconds", renewal.hook_timeout_seconds, "time limit of the deploy command and webhooks"),
      INT("renewal.retry_attempts", renewal.retry_attempts, "attempts per certificate and job run"),
      INT("renewal.retry_backoff_seconds", renewal.retry_backoff_seconds, "wait before the second attempt, doubled after"),
      BOOL("audit_shipping.enabled", audit_shipping.enabled,
           "the audit-log-processor job ships audit events to the audit archive (docs/audit.md)"),
      INT("audit_shipping.batch_max_events", audit_shipping.batch_max_events, "events per archive batch (2..10000)"),
      INT("audit_shipping.max_delay_seconds", audit_shipping.max_delay_seconds,
          "longest an event waits for a full batch before a partial one ships"),
      INT("audit_shipping.poll_seconds", audit_shipping.poll_seconds, "how often the audit-log-processor job looks"),
      TEXT("log.level", log.level, "debug | info | warn | error", false),
  };
  return k;
}
#undef TEXT
#undef INT
#undef BOOL

void validate(const Config& c, std::vector<std::string>& problems) {
  if (c.store.backend != "sqlite" && c.store.backend != "postgres")
    problems.push_back("store.backend: must be \"sqlite\" or \"postgres\", got \"" + c.store.backend + "\"");
  if (c.store.backend == "postgres" && c.store.postgres_url.empty())
    problems.push_back("store.postgres_url: required when store.backend = \"postgres\"");
  if (c.keys.backend != "software" && c.keys.backend != "pkcs11")
    problems.push_back("keys.backend: must be \"software\" or \"pkcs11\", got \"" + c.keys.backend + "\"");
  if (c.keys.backend == "pkcs11" && c.keys.pkcs11_pin.empty() && c.keys.pkcs11_pin_file.empty())
    problems.push_back("keys.pkcs11_pin_file: required (or CARTORIO_KEYS_PKCS11_PIN) when keys.backend = \"pkcs11\"");
  const auto& url = c.pki.public_base_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    problems.push_back("pki.public_base_url: must start with http:// or https://");
  // It is pasted into certificate extensions: only plain URL characters, no ',' or spaces.
  if (url.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/[]@%") !=
      std::string::npos)
    problems.push_back("pki.public_base_url: may only hold letters, digits and -._~:/[]@%");
  if (c.pki.country.size() != 2 || !std::isupper(static_cast<unsigned char>(c.pki.country[0])) ||
      !std::isupper(static_cast<unsigned char>(c.pki.country[1])))
    problems.push_back("pki.country: must be a two-letter ISO 3166 code in capitals, e.g. BR");
  if (c.pki.root_validity_days <= 0 || c.pki.root_validity_days > 36500)
    problems.push_back("pki.root_validity_days: must be between 1 and 36500");
  if (c.pki.intermediate_validity_days <= 0 || c.pki.intermediate_validity_days > c.pki.root_validity_days)
    problems.push_back("pki.intermediate_validity_days: must be positive and within the root's validity");
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"server.listen", c.server.listen},
                                   {"server.http_listen", c.server.http_listen}}) {
    const auto colon = value.rfind(':');
    const std::string port = colon == std::string::npos ? "" : value.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535)
      problems.push_back(std::string(key) + ": must be HOST:PORT, got \"" + value + "\"");
  }
  if (c.pki.crl_validity_hours < 25 || c.pki.crl_validity_hours > 24 * 366)
    problems.push_back("pki.crl_validity_hours: must be between 25 (CRLs are regenerated every 24 h) and 8784");
  if (c.server.client_auth != "none" && c.server.client_auth != "optional" && c.server.client_auth != "required")
    problems.push_back("server.client_auth: must be none, optional or required");
  if (c.server.tls_certificate_days < 1 || c.server.tls_certificate_days > 397)
    problems.push_back("server.tls_certificate_days: must be between 1 and 397");
  if (c.server.tls_names.empty() || c.server.tls_names.find_first_of(" \t\"") != std::string::npos)
    problems.push_back("server.tls_names: a comma-separated list of DNS names or IP addresses, no spaces");
  if (c.server.threads < 0 || c.server.threads > 256)
    problems.push_back("server.threads: must be between 0 and 256");
  for (const auto& [key, value] : {std::pair<const char*, int>{"limits.per_ip_burst", c.limits.per_ip_burst},
                                   {"limits.per_ip_per_second", c.limits.per_ip_per_second},
                                   {"limits.per_client_burst", c.limits.per_client_burst},
                                   {"limits.per_client_per_second", c.limits.per_client_per_second}})
    if (value < 1 || value > 1'000'000) problems.push_back(std::string(key) + ": must be between 1 and 1000000");
  if (c.identity.access_token_minutes < 1 || c.identity.access_token_minutes > 24 * 60)
    problems.push_back("identity.access_token_minutes: must be between 1 and 1440");
  if (c.identity.refresh_token_days < 1 || c.identity.refresh_token_days > 365)
    problems.push_back("identity.refresh_token_days: must be between 1 and 365");
  if (c.tsa.accuracy_seconds < 1 || c.tsa.accuracy_seconds > 3600)
    problems.push_back("tsa.accuracy_seconds: must be between 1 and 3600");
  if (c.tsa.timeout_seconds < 1 || c.tsa.timeout_seconds > 300)
    problems.push_back("tsa.timeout_seconds: must be between 1 and 300");
  if (!c.tsa.url.empty() && c.tsa.url.rfind("http://", 0) != 0 && c.tsa.url.rfind("https://", 0) != 0)
    problems.push_back("tsa.url: must be an http:// or https:// URL");
  if (c.documents.default_level != "B-B" && c.documents.default_level != "B-T" &&
      c.documents.default_level != "B-LT" && c.documents.default_level != "B-LTA")
    problems.push_back("documents.default_level: must be B-B, B-T, B-LT or B-LTA");
  if (c.documents.certificate_validity_days < 1 || c.documents.certificate_validity_days > 30)
    problems.push_back("documents.certificate_validity_days: must be between 1 and 30");
  if (c.documents.max_pdf_bytes < 1024 || c.documents.max_pdf_bytes > 1024 * 1024 * 1024)
    problems.push_back("documents.max_pdf_bytes: must be between 1024 and 1073741824");
  if (c.documents.download_link_minutes < 1 || c.documents.download_link_minutes > 7 * 24 * 60)
    problems.push_back("documents.download_link_minutes: must be between 1 and 10080");
  if (c.identity.data_key_file.empty()) problems.push_back("identity.data_key_file: must not be empty");
  if (c.documents.link_key_file.empty()) problems.push_back("documents.link_key_file: must not be empty");
  if (c.pii.index_key_file.empty()) problems.push_back("pii.index_key_file: must not be empty");
  if (c.objects.backend != "filesystem" && c.objects.backend != "s3")
    problems.push_back("objects.backend: must be \"filesystem\" or \"s3\", got \"" + c.objects.backend + "\"");
  if (c.jobs.lifecycle_interval_hours < 1 || c.jobs.lifecycle_interval_hours > 24 * 7)
    problems.push_back("jobs.lifecycle_interval_hours: must be between 1 and 168");
  if (c.jobs.secret_rotation_check_minutes < 1 || c.jobs.secret_rotation_check_minutes > 24 * 60)
    problems.push_back("jobs.secret_rotation_check_minutes: must be between 1 and 1440");
  if (c.jobs.timeout_minutes < 1 || c.jobs.timeout_minutes > 24 * 60)
    problems.push_back("jobs.timeout_minutes: must be between 1 and 1440");
  if (c.jobs.max_attempts < 1 || c.jobs.max_attempts > 10) problems.push_back("jobs.max_attempts: must be 1..10");
  if (c.jobs.jitter_seconds < 0 || c.jobs.jitter_seconds > 3600)
    problems.push_back("jobs.jitter_seconds: must be 0..3600");
  if (c.secrets.rotation_days < 0 || c.secrets.rotation_days > 3660)
    problems.push_back("secrets.rotation_days: must be between 0 and 3660");
  if (c.objects.backend == "s3") {
    if (c.objects.s3_endpoint.empty() || c.objects.s3_bucket.empty() || c.objects.s3_access_key.empty())
      problems.push_back("objects.s3_endpoint, objects.s3_bucket, objects.s3_access_key: required when objects.backend = \"s3\"");
    if (c.objects.s3_secret_key.empty())
      problems.push_back("objects.s3_secret_key: required (CARTORIO_OBJECTS_S3_SECRET_KEY) when objects.backend = \"s3\"");
  }
  if (c.cache.backend != "memory" && c.cache.backend != "redis")
    problems.push_back("cache.backend: must be \"memory\" or \"redis\", got \"" + c.cache.backend + "\"");
  if (c.cache.backend == "redis" && c.cache.redis_url.empty())
    problems.push_back("cache.redis_url: required (or CARTORIO_CACHE_REDIS_URL) when cache.backend = \"redis\"");
  if (c.cache.memory_max_entries < 1 || c.cache.memory_max_entries > 100'000'000)
    problems.push_back("cache.memory_max_entries: must be between 1 and 100000000");
  if (c.ocsp.cache_ttl_seconds < 1 || c.ocsp.cache_ttl_seconds > 24 * 3600)
    problems.push_back("ocsp.cache_ttl_seconds: must be between 1 and 86400");
  if (c.ocsp.response_validity_minutes < 1 || c.ocsp.response_validity_minutes > 7 * 24 * 60)
    problems.push_back("ocsp.response_validity_minutes: must be between 1 and 10080 (7 days)");
  if (c.ocsp.response_validity_minutes * 60 < c.ocsp.cache_ttl_seconds)
    problems.push_back("ocsp.cache_ttl_seconds: must not exceed ocsp.response_validity_minutes");
  if (c.ocsp.presign_interval_seconds < 1 ||
      (c.ocsp.presign && c.ocsp.presign_interval_seconds >= c.ocsp.cache_ttl_seconds))
    problems.push_back("ocsp.presign_interval_seconds: must be at least 1 (and below ocsp.cache_ttl_seconds with ocsp.presign)");
  if (c.jobs.crl_interval_hours < 1 || c.jobs.crl_interval_hours >= c.pki.crl_validity_hours)
    problems.push_back("jobs.crl_interval_hours: must be at least 1 and below pki.crl_validity_hours");
  if (c.jobs.audit_checkpoint_seconds < 1 || c.jobs.audit_checkpoint_seconds > 86400)
    problems.push_back("jobs.audit_checkpoint_seconds: must be 1..86400");
  if (!c.backup.key_file.empty() &&
      (!fs::path(c.backup.key_file).is_absolute() || c.backup.key_file.rfind(c.data_dir + "/", 0) == 0))
    problems.push_back("backup.key_file: must be an absolute path outside the data dir (the backups must open without it)");
  if (c.backup.interval_hours < 1 || c.backup.interval_hours > 168)
    problems.push_back("backup.interval_hours: must be between 1 and 168");
  if (c.backup.retention_days < 1 || c.backup.retention_days > 3650)
    problems.push_back("backup.retention_days: must be between 1 and 3650");
  if (c.acme.http01_port < 1 || c.acme.http01_port > 65535) problems.push_back("acme.http01_port: must be 1..65535");
  if (c.acme.tls_alpn01_port < 1 || c.acme.tls_alpn01_port > 65535)
    problems.push_back("acme.tls_alpn01_port: must be 1..65535");
  if (c.acme.validation_timeout_seconds < 1 || c.acme.validation_timeout_seconds > 120)
    problems.push_back("acme.validation_timeout_seconds: must be between 1 and 120");
  if (c.acme.new_orders_per_hour < 1 || c.acme.new_orders_per_hour > 100000)
    problems.push_back("acme.new_orders_per_hour: must be between 1 and 100000");
  if (c.acme.validity_days < 1 || c.acme.validity_days > 397) problems.push_back("acme.validity_days: must be between 1 and 397");
  if (!c.acme.base_url.empty() && (c.acme.base_url.rfind("https://", 0) != 0 || c.acme.base_url.back() == '/'))
    problems.push_back("acme.base_url: must be https://host[:port] without a trailing slash");
  if (c.renewal.window_days < 1 || c.renewal.window_days > 365)
    problems.push_back("renewal.window_days: must be between 1 and 365");
  if (c.renewal.check_interval_hours < 1 || c.renewal.check_interval_hours > 168)
    problems.push_back("renewal.check_interval_hours: must be between 1 and 168");
  if (c.renewal.reload_seconds < 1 || c.renewal.reload_seconds > 86400)
    problems.push_back("renewal.reload_seconds: must be between 1 and 86400");
  for (const auto& [key, hook] : {std::pair<const char*, const std::string&>{"renewal.deploy_webhook", c.renewal.deploy_webhook},
                                  {"renewal.failure_webhook", c.renewal.failure_webhook}})
    if (!hook.empty() && hook.rfind("http://", 0) != 0 && hook.rfind("https://", 0) != 0)
      problems.push_back(std::string(key) + ": must be an http:// or https:// URL");
  if (c.renewal.hook_timeout_seconds < 1 || c.renewal.hook_timeout_seconds > 600)
    problems.push_back("renewal.hook_timeout_seconds: must be between 1 and 600");
  if (c.renewal.retry_attempts < 1 || c.renewal.retry_attempts > 10)
    problems.push_back("renewal.retry_attempts: must be between 1 and 10");
  if (c.renewal.retry_backoff_seconds > 3600)
    problems.push_back("renewal.retry_backoff_seconds: must be between 0 and 3600");
  if (c.audit_shipping.batch_max_events < 2 || c.audit_shipping.batch_max_events > 10000)
    problems.push_back("audit_shipping.batch_max_events: must be between 2 and 10000");
  if (c.audit_shipping.max_delay_seconds < 1 || c.audit_shipping.max_delay_seconds > 86400)
    problems.push_back("audit_shipping.max_delay_seconds: must be between 1 and 86400");
  if (c.audit_shipping.poll_seconds < 1 || c.audit_shipping.poll_seconds > 3600)
    problems.push_back("audit_shipping.poll_seconds: must be between 1 and 3600");
  if (c.log.level != "debug" && c.log.level != "info" && c.log.level != "warn" && c.log.level != "error")
    problems.push_back("log.level: must be debug, info, warn or error");
}

}  // namespace

std::string Config::path(const std::string& p) const {
  if (p.empty()) return p;
  fs::path fp(p);
  if (fp.is_absolute()) return p;
  return (fs::path(data_dir) / fp).string();
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string env_name_for(const std::string& path) {
  std::string out = "CARTORIO_";
  for (char ch : path) out.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return out;
}

Result<Config> load_config(const std::string& data_dir, const EnvLookup& env) {
  Config c;
  std::error_code ec;
  c.data_dir = fs::absolute(data_dir, ec).lexically_normal().string();
  if (!c.data_dir.empty() && c.data_dir.back() == '/' && c.data_dir.size() > 1) c.data_dir.pop_back();
  std::vector<std::string> problems;

  const fs::path file = fs::path(c.data_dir) / "config.toml";
  toml::table tbl;
  std::error_code exists_ec;
  if (fs::exists(file, exists_ec)) {
    try {
      tbl = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << file.string() << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
         << e.description();
      return Error{Errc::config_invalid, os.str()};
    }
  }

  for (const auto& k : keys()) {
    auto node = tbl.at_path(k.path);
    if (node) {
      if (k.text) {
        if (auto v = node.value<std::string>()) *k.text(c) = *v;
        else problems.push_back(std::string(k.path) + ": must be a string");
      } else if (k.boolean) {
        if (auto v = node.value<bool>(); v && node.is_boolean()) *k.boolean(c) = *v;
        else problems.push_back(std::string(k.path) + ": must be true or false");
      } else if (node.is_integer() && *node.value<std::int64_t>() >= 0 &&
                 *node.value<std::int64_t>() <= std::numeric_limits<int>::max()) {
        *k.integer(c) = static_cast<int>(*node.value<std::int64_t>());
      } else {
        problems.push_back(std::string(k.path) + ": must be an integer");
      }
    }
    const std::string ename = env_name_for(k.path);
    if (auto v = env(ename)) {
      if (k.text) {
        *k.text(c) = *v;
      } else if (k.boolean) {
        if (*v == "true" || *v == "1") *k.boolean(c) = true;
        else if (*v == "false" || *v == "0") *k.boolean(c) = false;
        else problems.push_back(std::string(k.path) + " (" + ename + "): must be true or false");
      } else {
        try {
          std::size_t pos = 0;
          int n = std::stoi(*v, &pos);
          if (pos != v->size() || n < 0) throw std::invalid_argument("trailing");
          *k.integer(c) = n;
        } catch (const std::exception&) {
          problems.push_back(std::string(k.path) + " (" + ename + "): must be an integer");
        }
      }
    }
  }

  // Unknown keys are mistakes (a typo would silently keep a default).
  std::vector<std::string> known;
  for (const auto& k : keys()) known.emplace_back(k.path);
  for (const auto& [section, node] : tbl) {
    const auto* t = node.as_table();
    const std::string prefix = std::string(section.str()) + ".";  // not captured: clang < 16 cannot
    const bool known_section = std::any_of(known.begin(), known.end(),
                                           [&prefix](const std::string& k) { return k.rfind(prefix, 0) == 0; });
    if (!t || (t->empty() && !known_section)) {
      problems.push_back(std::string(section.str()) + ": unknown " + (t ? "section" : "key"));
      continue;
    }
    for (const auto& [name, _] : *t) {
      std::string p = std::string(section.str()) + "." + std::string(name.str());
      if (std::find(known.begin(), known.end(), p) == known.end()) problems.push_back(p + ": unknown key");
    }
  }

  validate(c, problems);
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p;
    return Error{Errc::config_invalid, msg};
  }
  return c;
}

std::string render_config_toml(const Config& c) {
  Config copy = c;
  std::ostringstream os;
  os << "# Cartório Digital configuration. Every key can be overridden by an environment\n"
        "# variable named after its path: pki.public_base_url <-> CARTORIO_PKI_PUBLIC_BASE_URL.\n"
        "# Secrets (PINs, passphrases, database passwords) belong in env vars or files, not here.\n";
  std::string section;
  for (const auto& k : keys()) {
    std::string path = k.path;
    std::string sec = path.substr(0, path.find('.'));
    std::string name = path.substr(path.find('.') + 1);
    if (sec != section) {
      os << "\n[" << sec << "]\n";
      section = sec;
    }
    if (k.secret) {
      os << "# " << name << " = \"\"  # " << k.description << "; use " << env_name_for(path) << "\n";
      continue;
    }
    if (k.text) {
      os << name << " = " << toml::value<std::string>(*k.text(copy)) << "\n";
    } else if (k.boolean) {
      os << name << " = " << (*k.boolean(copy) ? "true" : "false") << "\n";
    } else {
      os << name << " = " << *k.integer(copy) << "\n";
    }
  }
  return os.str();
}

std::vector<std::string> describe_config_keys() {
  std::vector<std::string> out;
  for (const auto& k : keys())
    out.push_back(std::string(k.path) + " (" + env_name_for(k.path) + "): " + k.description);
  return out;
}

}  // namespace cartorio::core
