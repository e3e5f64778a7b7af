// Store: the system of record (the RDS role). One contract, two backends (SQLite embedded,
// PostgreSQL for production), one set of SQL migrations applied at open.
//
// The contract is the sum of narrow role interfaces so each consumer takes only what it needs
// (Boulder's read-only / read-write split): the CRL builder takes a RevocationLister, the
// issuer a CertificateRepository, and so on.
//
// Times are Unix seconds (UTC). Serials are lowercase hex without leading zeros, as
// printed by `openssl x509 -serial` but lowercased.
//
// Thread-safety: a Store is safe to share between threads (backends serialise or pool
// connections internally). Every call is atomic: it either happens completely or not at all.
//
// Besides the codes listed per call, any call can return Errc::store_unavailable (the
// database cannot be reached; retrying later may work) or Errc::store_error; messages name
// the operation and never carry credentials.
//
// Backends: store/sqlite/sqlite_store.h (open_sqlite_store), store/postgres/postgres_store.h
// (open_postgres_store); both share store/sql/ and store/migrations/ (docs/store.md).
#pragma once

#include "core/error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cartorio::store {

enum class CertificateStatus { good, revoked };
std::string_view to_string(CertificateStatus s);

struct CertificateRecord {
  std::string serial;      // lowercase hex
  std::string issuer;      // CA name: "root" | "tls" | "document"
  std::string profile;     // "tls-server", "document-signing", "sub-ca", ...
  std::string subject;     // RFC 2253 distinguished name
  std::vector<std::string> sans;  // "DNS:a.example", "IP:10.0.0.1", "email:x@y"
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  CertificateStatus status = CertificateStatus::good;
  int revocation_reason = 0;       // RFC 5280 CRLReason code when revoked
  std::int64_t revoked_at = 0;     // 0 when not revoked
  std::string requester;           // who asked for it ("cli", "user:alice", ...)
  std::string pem;
  std::int64_t created_at = 0;
};

struct CertificateFilter {
  std::optional<std::string> issuer;
  std::optional<std::string> profile;
  std::optional<CertificateStatus> status;
  std::optional<std::int64_t> not_after_before;  // expiring before this time (not_after < t)
  std::optional<std::int64_t> not_after_after;   // still valid after this time (not_after > t)
  int limit = 100;  // 1..10000, else Errc::invalid_argument
  int offset = 0;   // >= 0
};

struct RevokedEntry {
  std::string serial;
  std::int64_t revoked_at = 0;
  int reason = 0;
};

struct AuditEvent {
  std::int64_t id = 0;  // assigned by the store, strictly increasing
  std::int64_t time = 0;
  std::string actor;       // "user:alice", "service:billing", "job:crl-publish", "cli"
  std::string action;      // "certificate.issue", "key.sign", ...
  std::string target;      // serial, key uri, user id...
  std::string result;      // "success" | "failure" | an error code name
  std::string source;      // source address or "local"
  std::string request_id;
  std::string details;     // JSON object text, no personal data in clear
};

struct AuditFilter {
  std::optional<std::int64_t> since;  // time >= since
  std::optional<std::int64_t> until;  // time < until
  std::optional<std::string> actor;
  std::optional<std::string> action;
  std::optional<std::string> target;
  std::int64_t after_id = 0;  // keyset pagination: events with id > after_id
  int limit = 100;            // 1..10000
};

struct KeyRecord {
  std::string label;      // unique
  std::string uri;        // KeyRef uri
  std::string backend;    // "software" | "pkcs11" | "offline"
  std::string algorithm;  // crypto::key_algorithm_name
  std::string purpose;    // "ca:tls", "ocsp:document", "tsa", "root (offline)"...
  std::string state = "active";  // "active" | "retired" | "offline" | "destroyed"
  std::int64_t created_at = 0;
};

// A CA of the hierarchy and its current certificate.
struct AuthorityRecord {
  std::string name;       // "root" | "tls" | "document"
  std::string cert_pem;   // current CA certificate
  std::string key_label;  // KeyRecord label; the root's is an offline key
  std::int64_t updated_at = 0;
};

class CertificateRepository {
 public:
  virtual ~CertificateRepository() = default;
  // Errc::already_exists when the serial is taken (serials are unique across all issuers).
  // Errc::invalid_serial for a serial not in the form above; Errc::invalid_argument for an
  // empty issuer/profile, not_after < not_before, or text holding a NUL byte.
  virtual core::Result<void> insert_certificate(const CertificateRecord& rec) = 0;
  // Errc::not_found.
  virtual core::Result<CertificateRecord> get_certificate(const std::string& serial) = 0;
  // Ordered by (not_after, serial).
  virtual core::Result<std::vector<CertificateRecord>> list_certificates(const CertificateFilter& f) = 0;
  virtual core::Result<std::int64_t> count_certificates() = 0;
  // Errc::not_found, Errc::already_revoked, Errc::invalid_reason (not an RFC 5280 CRLReason).
  // Atomic: two concurrent revocations, one wins.
  virtual core::Result<void> revoke_certificate(const std::string& serial, int reason,
                                                std::int64_t revoked_at) = 0;
};

class RevocationLister {
 public:
  virtual ~RevocationLister() = default;
  // Revoked certificates issued by `issuer` that have not yet expired before `not_after_min`
  // (expired entries may be dropped from CRLs, RFC 5280 3.3): not_after >= not_after_min,
  // ordered by serial.
  virtual core::Result<std::vector<RevokedEntry>> list_revoked(const std::string& issuer,
                                                               std::int64_t not_after_min) = 0;
  // Next CRL number for an issuer: 1, 2, 3... never repeats, even across instances.
  virtual core::Result<std::int64_t> next_crl_number(const std::string& issuer) = 0;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Returns the assigned id. Ids are handed out in commit order, so a reader paging with
  // after_id never skips an event committed later. Errc::invalid_argument without actor/action.
  virtual core::Result<std::int64_t> append_audit_event(const AuditEvent& e) = 0;
  // Ordered by id.
  virtual core::Result<std::vector<AuditEvent>> list_audit_events(const AuditFilter& f) = 0;
};

class KeyRecordRepository {
 public:
  virtual ~KeyRecordRepository() = default;
  // Inserts or replaces by label. List is ordered by label.
  virtual core::Result<void> put_key_record(const KeyRecord& rec) = 0;
  virtual core::Result<KeyRecord> get_key_record(const std::string& label) = 0;  // not_found
  virtual core::Result<std::vector<KeyRecord>> list_key_records() = 0;
};

class AuthorityRepository {
 public:
  virtual ~AuthorityRepository() = default;
  virtual core::Result<void> put_authority(const AuthorityRecord& rec) = 0;  // upsert by name; list by name
  virtual core::Result<AuthorityRecord> get_authority(const std::string& name) = 0;  // not_found
  virtual core::Result<std::vector<AuthorityRecord>> list_authorities() = 0;
};

class Store : public CertificateRepository,
              public RevocationLister,
              public AuditLog,
              public KeyRecordRepository,
              public AuthorityRepository {
 public:
  virtual std::string backend_name() const = 0;
  // Schema version after migrations (the highest applied; may exceed this binary's own
  // migrations when a newer release already migrated the database).
  virtual core::Result<int> schema_version() = 0;
  // Reachability for /readyz.
  virtual core::Result<void> check() = 0;
};

}  // namespace cartorio::store
