// Configuration: one TOML file (DATA_DIR/config.toml), every key overridable by an
// environment variable named after its path: `pki.public_base_url` <->
// CARTORIO_PKI_PUBLIC_BASE_URL. Only this module reads CARTORIO_* variables; the rest of
// the program receives a validated Config.
//
// Loading yields a Config or every problem found, each naming its key path, so `serve`
// and `worker` refuse to start on a bad config (Boulder's config check).
#pragma once

#include "core/error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::core {

struct Config {
  std::string data_dir;  // absolute; relative paths below are resolved against it

  struct Server {
    std::string listen = "127.0.0.1:8443";
    std::string http_listen = "127.0.0.1:8080";
    // Names in the HTTPS certificate the TLS CA issues at every start (DNS names or IPs).
    std::string tls_names = "localhost,127.0.0.1";
    int tls_certificate_days = 7;        // renewed in-process when two thirds have passed
    std::string client_auth = "optional";  // mTLS: "none" | "optional" | "required"
    int threads = 0;                     // 0: one per core
  } server;

  struct Pki {
    std::string public_base_url = "http://127.0.0.1:8080";
    std::string organization = "Cartorio Digital";
    std::string country = "BR";
    int root_validity_days = 20 * 365 + 5;
    int intermediate_validity_days = 5 * 365 + 1;
    int crl_validity_hours = 48;  // nextUpdate; regenerated every 24 h
  } pki;

  struct Store {
    std::string backend = "sqlite";  // "sqlite" | "postgres"
    std::string sqlite_path = "cartorio.db";
    std::string postgres_url;        // libpq conninfo or URI; secret (may carry a password)
  } store;

  struct Keys {
    std::string backend = "software";  // "software" | "pkcs11"
    std::string software_dir = "keys";
    std::string master_key_file = "master.key";
    std::string master_passphrase;     // secret; env only in practice
    std::string pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
    std::string pkcs11_token = "cartorio";
    std::string pkcs11_pin_file;
    std::string pkcs11_pin;            // secret; env only in practice
    // The data-key ring (sealed under the master key) for data at rest: objects' and
    // personal fields' keys. Apart from software_dir: those data keys seal private keys.
    std::string data_keys_dir = "data-keys";
  } keys;

  struct Objects {
    std::string backend = "filesystem";  // "filesystem" | "s3"
    std::string filesystem_root = "objects";
    std::string s3_endpoint;  // http(s)://host[:port], path-style
    std::string s3_region = "us-east-1";
    std::string s3_bucket;
    std::string s3_key_prefix;  // empty, or a namespace ending in '/'
    std::string s3_access_key;
    std::string s3_secret_key;  // secret; env only in practice
    std::string s3_ca_file;     // CA bundle for an https endpoint (empty: the system's)
    bool encryption = true;     // envelope encryption of every object (docs/encryption.md)
    bool allow_plaintext_reads = false;  // migration: read objects stored before encryption
    // The cold tier old objects move to (objectstore/lifecycle.h): a directory beside the
    // hot one, or another bucket on the same S3 server.
    bool cold_tier = true;
    std::string cold_filesystem_root = "objects-cold";
    std::string s3_cold_bucket;  // empty: "<s3_bucket>-cold"
    std::string lifecycle_rules = "=cold:90,expire:2555; secrets/=";
  } objects;

  struct Cache {
    std::string backend = "memory";  // "memory" | "redis"
    std::string redis_url;           // redis://[[user]:password@]host[:port][/db]; secret
    std::string redis_key_prefix = "cartorio:";
    int memory_max_entries = 100'000;
  } cache;

  struct Ocsp {
    int cache_ttl_seconds = 300;        // how long a signed response is reused
    int response_validity_minutes = 60;  // nextUpdate - thisUpdate of live responses
    bool presign = false;                // re-sign every live certificate's answer ahead of time
    int presign_interval_seconds = 150;  // < cache_ttl_seconds, so entries never age out
  } ocsp;

  struct Jobs {
    bool in_server = true;  // `serve` runs the periodic jobs (CRLs, OCSP pre-signing) itself
    int crl_interval_hours = 24;
    int lifecycle_interval_hours = 24;
    int audit_checkpoint_seconds = 300;  // signed tree heads of the audit and transparency logs
    int secret_rotation_check_minutes = 60;  // how often due secrets are looked for
    // "name = schedule; ..." (core::Schedule syntax) overriding a job's default schedule;
    // checked when a runner starts (docs/jobs.md).
    std::string schedules;
    int timeout_minutes = 30;  // time limit of a run
    int max_attempts = 3;      // per fire time
    int jitter_seconds = 30;   // at most, and at most a tenth of the period
  } jobs;

  struct Limits {  // token buckets of the HTTPS API: burst, then a steady rate per second
    int per_ip_burst = 200;
    int per_ip_per_second = 100;
    int per_client_burst = 100;
    int per_client_per_second = 50;
  } limits;

  struct Identity {
    // 32 random bytes (hex) that seal TOTP secrets and key recovery codes; created by
    // `init` (or the first `serve`). Every instance of an installation needs the same file.
    std::string data_key_file = "identity.key";
    int access_token_minutes = 10;
    int refresh_token_days = 30;
  } identity;

  struct Tsa {
    // The own RFC 3161 time-stamp authority (POST /tsa), or an external one (tsa.url).
    // 2.25.<UUID> (ITU-T X.667): an OID nobody else has, without registering an arc.
    std::string policy_oid = "2.25.250359327722146467862993546787340417251";
    int accuracy_seconds = 1;
    std::string url;  // empty: the own TSA; else documents are time-stamped by this URL
    int timeout_seconds = 10;
  } tsa;

  struct Documents {
    std::string default_level = "B-LT";     // B-B | B-T | B-LT | B-LTA
    int certificate_validity_days = 3;      // the per-document signing certificate
    int max_pdf_bytes = 64 * 1024 * 1024;   // larger uploads are refused (413)
    int download_link_minutes = 60;         // lifetime of a signed download URL
    std::string link_key_file = "links.key";  // 32 random bytes (hex): HMAC key of download URLs
  } documents;

  struct Pii {
    // 32 random bytes (hex) from which the blind-index key of personal fields is derived
    // (docs/personal-data.md); made by `init`, the same file on every instance. Unlike the
    // data keys it never rotates: lookups of old rows depend on it.
    std::string index_key_file = "pii-index.key";
  } pii;

  struct Secrets {
    // Rotation period of the installation's own secrets (the JWT signing key, the database
    // password) and of stored ones put without a period; 0: never by schedule.
    int rotation_days = 30;
    // Take over the PostgreSQL role's password: the worker sets a new random one on the role
    // every rotation_days (the first time at once) and the pool logs in with it
    // (docs/secrets.md). Off by default: the role may be shared, or its password in other hands.
    // Ignored unless store.backend = "postgres".
    bool rotate_postgres_password = false;
  } secrets;

  struct Backup {
    // 32 random bytes (hex, 0600) the backups are encrypted under: an absolute path outside
    // the data dir (a backup must open after the data dir is lost). Empty: no backups.
    std::string key_file;
    int interval_hours = 1;    // the `backup` job
    int retention_days = 30;   // older backups are deleted from the object store
    // The master key opens every sealed key: off, it is kept apart from the backups and
    // given to `restore --master-key-file` (docs/operations.md, "Backup and restore").
    bool include_master_key = false;
  } backup;

  struct Renewal {
    // The cert-expiry-check job (docs/operations.md, "Certificate renewal"): the TLS
    // certificates the installation manages (server-tls, service and registered ones) are
    // renewed once they expire within window_days (or, shorter-lived ones, after two thirds
    // of their life).
    int window_days = 30;
    int check_interval_hours = 24;
    int reload_seconds = 60;  // how often `serve` looks for a newer server-tls version
    // After a renewal: a command run without a shell (whitespace-separated arguments; the
    // certificate comes in CARTORIO_CERT_* variables and a 0600 chain file) and/or a POST.
    std::string deploy_command;
    std::string deploy_webhook;   // secret: such URLs often carry a token
    std::string failure_webhook;  // secret; the notification (SNS) role: what failed and why
    int hook_timeout_seconds = 30;
    int retry_attempts = 3;         // per certificate and job run
    int retry_backoff_seconds = 10;  // before the 2nd attempt, doubled after each
  } renewal;

  struct Acme {
    // The ACME server (RFC 8555) on the TLS CA (docs/acme.md). Off while allowed_domains is
    // empty: then no /acme route is served.
    std::string allowed_domains;      // comma-separated zones: a name is allowed when it is one of them or under one
    std::string base_url;             // https://host[:port] clients reach; empty: taken from each request's Host
    int http01_port = 80;             // where http-01 validation connects
    int tls_alpn01_port = 443;        // where tls-alpn-01 validation connects
    // Addresses validation may connect to (CIDRs). Link-local, multicast and unspecified
    // addresses are refused whatever this says (cloud metadata endpoints live there).
    std::string validation_networks = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,127.0.0.0/8,::1/128,fc00::/7";
    int validation_timeout_seconds = 10;
    bool require_eab = false;         // External Account Binding: only accounts with a key from `acme eab create`
    int new_orders_per_hour = 300;    // per account
    int validity_days = 90;           // of the certificates it issues (tls-server profile bounds it)
  } acme;

  struct AuditShipping {
    // The audit-log-processor job (docs/audit.md, "Archive (audit-logs bucket)"): audit
    // events leave the database as signed JSON Lines batches in the object store.
    bool enabled = true;
    int batch_max_events = 1000;  // a full batch ships at once (2..10000)
    int max_delay_seconds = 60;   // a partial one once its oldest event waited this long
    int poll_seconds = 10;        // how often the job looks (1..3600)
  } audit_shipping;

  struct Log {
    std::string level = "info";
  } log;

  // Resolve a configured path against data_dir ("" stays "").
  std::string path(const std::string& p) const;
};

// Reads an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Loads DATA_DIR/config.toml if it exists (defaults otherwise), applies CARTORIO_* overrides,
// validates. Errc::config_invalid with one line per problem.
Result<Config> load_config(const std::string& data_dir, const EnvLookup& env = process_env());

// The TOML text of a config, secrets left out (they belong in env vars or files).
std::string render_config_toml(const Config& c);

// Every key: "path (ENV_NAME): description", for docs and `--help`.
std::vector<std::string> describe_config_keys();

// "pki.public_base_url" -> "CARTORIO_PKI_PUBLIC_BASE_URL".
std::string env_name_for(const std::string& path);

}  // namespace cartorio::core
