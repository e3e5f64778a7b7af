// SecretStore: the installation's versioned secrets (the Secrets Manager role): database
// credentials, the JWT signing key's reference, shared keys of other services. Each version
// is one write-once object in the ObjectStore,
//
//   secrets/<name>/<version, 12 digits>      {"format":"cartorio-secret/v1", name, kind,
//                                             version, created_at, created_by, reason,
//                                             rotation_days, "value": <pii1 token>}
//
// so history is never overwritten and two writers of the same next version cannot both win
// (put_if_absent). The value is sealed with pii::FieldCipher under the data-key ring,
// whatever objects.encryption says, and its associated data binds every other field of the
// version: a value moved to another name or version, or metadata edited in the bucket, no
// longer opens. Metadata is readable without the data key (list, versions): it is not secret.
//
// Secrets live in the object store rather than the database on purpose: the database
// password must be readable before there is a database connection.
//
// No access control nor audit here: SecretManager does both. Thread-safety: as the object
// store and the ring (all of ours are thread-safe); the class has no state of its own.
#pragma once

#include "core/error.h"
#include "keys/data_key_ring.h"
#include "objectstore/object_store.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::secrets {

enum class Kind {
  generic,            // any shared key; rotation makes 32 random bytes (base64url)
  postgres_password,  // the database role's password; rotation sets it on the role
  jwt_signing_key,    // the access-token signing key; the value is its kid (the private key
                      // stays in the KeyStore: an HSM key cannot be exported)
  service_certificate,  // a service's mTLS client identity: a new P-256 key and a tls-client
                        // certificate for CN=<name> from the TLS CA, PEM (key, certificate, chain)
  server_certificate,   // the HTTPS listener's own identity (name server-tls): a tls-server
                        // certificate for server.tls_names, PEM (key, certificate, chain)
  tls_certificate,      // a TLS server certificate registered for automatic renewal (`cartorio
                        // cert manage`): same names and lifetime on renewal, PEM as above
};
std::string_view to_string(Kind kind);
std::optional<Kind> parse_kind(std::string_view text);

// The well-known names of the secrets the installation manages itself.
inline constexpr std::string_view kPostgresPassword = "postgres-password";
inline constexpr std::string_view kJwtSigningKey = "jwt-signing-key";
inline constexpr std::string_view kServerCertificate = "server-tls";

inline constexpr std::string_view kSecretsPrefix = "secrets/";

struct SecretInfo {
  std::string name;
  Kind kind = Kind::generic;
  std::int64_t version = 0;     // 1, 2, ...
  std::int64_t created_at = 0;  // Unix seconds
  std::string created_by;       // audit actor
  std::string reason;           // "put", "rotate", "schedule", "adopt", "revert"
  int rotation_days = 0;        // 0: never rotated by the schedule

  // When the schedule rotates this version (nullopt: never).
  std::optional<std::int64_t> rotation_due() const;
};

struct Secret {
  SecretInfo info;
  std::string value;  // secret: never log it
};

// 1..64 of [a-z0-9._-], starting with a letter or digit. Errc::invalid_argument otherwise.
core::Result<void> check_secret_name(std::string_view name);

class SecretStore {
 public:
  // Values up to this size (a PEM key and chain fits).
  static constexpr std::size_t kMaxValueBytes = 16 * 1024;

  // Both must outlive the store.
  SecretStore(objectstore::ObjectStore& objects, keys::DataKeyRing& ring) : m_objects(objects), m_ring(ring) {}

  // Records `info` (its version must be the latest + 1, or 1 for a new name) with `value`.
  // Errc::conflict when that version exists already (another writer won),
  // Errc::invalid_argument for a bad name, an empty or oversized value.
  core::Result<void> write(const SecretInfo& info, std::string_view value);
  // The latest version (or `version`) with its value. Errc::not_found.
  core::Result<Secret> read(std::string_view name, std::optional<std::int64_t> version = std::nullopt);
  // The latest version's metadata, without opening the value. Errc::not_found.
  core::Result<SecretInfo> latest(std::string_view name);
  // Every version's metadata, newest first; empty for an unknown name.
  core::Result<std::vector<SecretInfo>> versions(std::string_view name);
  // The latest version of every secret, by name. A damaged object is logged and left out,
  // so one cannot hide the others (nor stop the rotation job).
  core::Result<std::vector<SecretInfo>> list();

 private:
  core::Result<std::vector<std::int64_t>> version_numbers(std::string_view name);
  // The newest version number: the listing's, or a newer one this process wrote (an S3
  // listing may lag behind a write; a GET of the new key does not). 0 when none.
  core::Result<std::int64_t> newest_version(std::string_view name);
  core::Result<std::pair<SecretInfo, std::string>> load(std::string_view name, std::int64_t version);

  objectstore::ObjectStore& m_objects;
  keys::DataKeyRing& m_ring;
  std::mutex m_mutex;
  std::map<std::string, std::int64_t, std::less<>> m_written;  // guarded by m_mutex
};

}  // namespace cartorio::secrets
