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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  std::optional<std::int64_t> created_before;    // recorded before this time (created_at < t)
  // Only certificates no document names as its signer (DocumentRecord::signer_serial).
  bool without_document = false;
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
  // `events` (audit events of the issuance, e.g. its key use) are appended in the same
  // transaction: the certificate and its trail, both or neither.
  virtual core::Result<void> insert_certificate(const CertificateRecord& rec, const std::vector<AuditEvent>& events) = 0;
  core::Result<void> insert_certificate(const CertificateRecord& rec) { return insert_certificate(rec, {}); }
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
  // Several events in one transaction (all or none), ids in the same order.
  virtual core::Result<std::vector<std::int64_t>> append_audit_events(const std::vector<AuditEvent>& events) = 0;
  // Ordered by id.
  virtual core::Result<std::vector<AuditEvent>> list_audit_events(const AuditFilter& f) = 0;
};

// One leaf of the public transparency log: an issued certificate or a signed document,
// with the public, immutable columns of the row it names (no subject, owner or title:
// those may be personal data). Appended by insert_certificate / insert_document in their
// own transaction, so every stored certificate and document is in the log.
struct TransparencyEntry {
  std::int64_t id = 0;    // append order, strictly increasing
  std::string kind;       // "certificate" | "document"
  std::string ref;        // serial or document id
  std::int64_t time = 0;  // when it was issued / signed
  bool found = false;     // false: the row it names is gone (deleted behind the store's back)
  // kind == "certificate"
  std::string issuer;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::string pem;
  // kind == "document"
  std::string signed_sha256;
  std::string original_sha256;
  std::string signer_serial;
  std::string level;
};

class TransparencyLog {
 public:
  virtual ~TransparencyLog() = default;
  // Entries with id > after_id, ordered by id; limit 1..10000. Ids are handed out in commit
  // order, as audit ids are.
  virtual core::Result<std::vector<TransparencyEntry>> list_transparency_entries(std::int64_t after_id,
                                                                                  int limit) = 0;
  // The entry naming a certificate serial or a document id; Errc::not_found.
  virtual core::Result<TransparencyEntry> find_transparency_entry(const std::string& kind,
                                                                  const std::string& ref) = 0;
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

// --- identity (users, MFA, refresh tokens, API keys, JWT signing keys) ------------------
// Secrets are never stored in clear: passwords as argon2id PHC strings, TOTP secrets sealed
// (AEAD) by the identity service, recovery codes / refresh tokens / API key secrets as
// hashes. The store compares hashes by equality in SQL; they are of high-entropy values, so
// a timing difference reveals nothing useful.

struct UserRecord {
  std::string id;                  // opaque, chosen by the caller ("usr_<hex>"); immutable
  std::string username;            // as created; unique ignoring ASCII case
  std::string display_name;
  std::vector<std::string> roles;  // role names ("admin", "notary", ...)
  std::string password_hash;       // PHC string ("$argon2id$v=19$...")
  std::string totp_secret;         // sealed TOTP secret (base64), "" when none
  bool totp_enabled = false;       // a secret is only used once enabled (confirmed)
  std::int64_t totp_last_step = 0; // highest TOTP time step accepted (replay guard)
  int failed_logins = 0;           // consecutive failures since the last success or lockout
  std::int64_t locked_until = 0;   // no password check before this time; 0: not locked
  bool disabled = false;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct UserFilter {
  int limit = 100;  // 1..10000
  int offset = 0;   // >= 0
};

// Fields to change; nullopt leaves a field alone. updated_at is always written.
struct UserUpdate {
  std::optional<std::string> display_name;
  std::optional<std::vector<std::string>> roles;
  std::optional<bool> disabled;          // enabling also clears the lockout and the counter
  std::optional<std::string> password_hash;
  std::int64_t updated_at = 0;
};

struct LoginFailures {
  int failed_logins = 0;
  std::int64_t locked_until = 0;
};

class UserRepository {
 public:
  virtual ~UserRepository() = default;
  // Errc::already_exists when the id or the username (ignoring ASCII case) is taken;
  // Errc::invalid_argument for an empty id, username or password hash.
  virtual core::Result<void> create_user(const UserRecord& rec) = 0;
  virtual core::Result<UserRecord> get_user(const std::string& id) = 0;  // not_found
  // Matches ignoring ASCII case. Errc::not_found.
  virtual core::Result<UserRecord> find_user(const std::string& username) = 0;
  // Ordered by username (ASCII-lowercased, byte order).
  virtual core::Result<std::vector<UserRecord>> list_users(const UserFilter& f) = 0;
  // Errc::not_found.
  virtual core::Result<UserRecord> update_user(const std::string& id, const UserUpdate& u) = 0;
  // One failed login, atomically: the counter goes up by one; when it reaches lock_after,
  // the account is locked until `lock_until` and the counter restarts at 0. Returns the
  // new state. Errc::not_found; Errc::invalid_argument when lock_after < 1.
  virtual core::Result<LoginFailures> record_login_failure(const std::string& id, int lock_after,
                                                           std::int64_t lock_until) = 0;
  // After a successful login: counter to 0, lockout cleared. Errc::not_found.
  virtual core::Result<void> clear_login_failures(const std::string& id) = 0;
};

// TOTP (RFC 6238) state and single-use recovery codes of a user.
class MfaRepository {
 public:
  virtual ~MfaRepository() = default;
  // Stores a not-yet-confirmed secret (replacing an earlier pending one).
  // Errc::not_found; Errc::conflict when TOTP is already enabled.
  virtual core::Result<void> set_pending_totp(const std::string& user_id, const std::string& sealed_secret,
                                              std::int64_t at) = 0;
  // Confirms the pending secret, atomically: enabled, last step = `step` (the code just
  // shown cannot be used again), recovery codes replaced by `recovery_code_hashes`.
  // Errc::not_found; Errc::conflict when already enabled or no secret is pending.
  virtual core::Result<void> enable_totp(const std::string& user_id, std::int64_t step,
                                         const std::vector<std::string>& recovery_code_hashes,
                                         std::int64_t at) = 0;
  // Removes the secret and every recovery code (admin reset). Errc::not_found.
  virtual core::Result<void> reset_totp(const std::string& user_id, std::int64_t at) = 0;
  // Accepts time step `step` for an enabled user only if it is later than every step
  // accepted before; true when accepted. Of concurrent callers with the same step, one wins.
  virtual core::Result<bool> use_totp_step(const std::string& user_id, std::int64_t step) = 0;
  // Marks the recovery code with this hash used; true when it existed and was unused.
  virtual core::Result<bool> use_recovery_code(const std::string& user_id, const std::string& code_hash,
                                               std::int64_t at) = 0;
  virtual core::Result<int> count_recovery_codes(const std::string& user_id) = 0;  // unused ones
};

// A login session: every token issued from one password grant shares its family; the
// access tokens carry it as "sid". Revoking the family ends the session everywhere.
struct TokenFamilyRecord {
  std::string id;
  std::string user_id;
  std::vector<std::string> amr;  // how the session authenticated (RFC 8176: "pwd", "otp"...)
  std::int64_t created_at = 0;
  std::int64_t revoked_at = 0;   // 0: live
};

struct RefreshTokenRecord {
  std::string id;
  std::string family_id;
  std::string user_id;
  std::string token_hash;        // lowercase hex SHA-256 of the token; unique
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::int64_t used_at = 0;      // 0: not used yet (a refresh token is used once)
  std::int64_t revoked_at = 0;
};

struct NewRefreshToken {
  std::string id;
  std::string token_hash;
  std::int64_t expires_at = 0;
};

enum class RefreshOutcome {
  rotated,  // the token was live: it is now used and `next` is stored in its family
  reused,   // it had been used already: its whole family is now revoked (reuse detection)
  revoked,  // it, or its family, was revoked
  expired,
  unknown,  // no such token
};

struct RefreshRotation {
  RefreshOutcome outcome = RefreshOutcome::unknown;
  RefreshTokenRecord presented;  // the presented token as it was (empty when unknown)
  TokenFamilyRecord family;      // its family (empty when unknown)
};

class RefreshTokenRepository {
 public:
  virtual ~RefreshTokenRepository() = default;
  // Creates a family and, unless `first` is nullopt, its first refresh token (one
  // transaction). Errc::already_exists (id or hash taken); Errc::invalid_argument when
  // the user does not exist.
  virtual core::Result<void> create_token_family(const TokenFamilyRecord& family,
                                                 const std::optional<NewRefreshToken>& first) = 0;
  virtual core::Result<TokenFamilyRecord> get_token_family(const std::string& id) = 0;  // not_found
  // Uses the token with this hash once, atomically (see RefreshOutcome): of concurrent
  // callers presenting the same token, exactly one gets `rotated`.
  virtual core::Result<RefreshRotation> rotate_refresh_token(const std::string& token_hash,
                                                             const NewRefreshToken& next,
                                                             std::int64_t now) = 0;
  virtual core::Result<RefreshTokenRecord> find_refresh_token(const std::string& token_hash) = 0;  // not_found
  // Revokes the family and its tokens; true when it was live. Errc::not_found.
  virtual core::Result<bool> revoke_token_family(const std::string& id, std::int64_t at) = 0;
  // Revokes every live family of a user; returns how many.
  virtual core::Result<int> revoke_user_token_families(const std::string& user_id, std::int64_t at) = 0;
};

struct ApiKeyRecord {
  std::string prefix;              // public part of the key, unique; the client_id
  std::string secret_hash;         // lowercase hex SHA-256 of the secret part
  std::string name;
  std::vector<std::string> roles;
  std::string owner;               // who created it ("user:alice")
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;   // 0: never
  std::int64_t revoked_at = 0;     // 0: live
};

class ApiKeyRepository {
 public:
  virtual ~ApiKeyRepository() = default;
  // Errc::already_exists (prefix taken); Errc::invalid_argument (empty prefix/hash/name).
  virtual core::Result<void> insert_api_key(const ApiKeyRecord& rec) = 0;
  virtual core::Result<ApiKeyRecord> get_api_key(const std::string& prefix) = 0;  // not_found
  // Ordered by (created_at, prefix); revoked keys included.
  virtual core::Result<std::vector<ApiKeyRecord>> list_api_keys() = 0;
  // true when it was live. Errc::not_found.
  virtual core::Result<bool> revoke_api_key(const std::string& prefix, std::int64_t at) = 0;
  // Sets last_used_at = at unless it is already >= not_before (frequent callers write
  // at most once per interval). Unknown prefixes are ignored.
  virtual core::Result<void> record_api_key_use(const std::string& prefix, std::int64_t at,
                                                std::int64_t not_before) = 0;
};

// Keys that sign access tokens (JWT). At most one is current (retired_at == 0).
struct SigningKeyRecord {
  std::string kid;                 // JWK thumbprint (RFC 7638); unique
  std::string algorithm = "ES256";
  std::string key_label;           // label in the KeyStore
  std::string key_uri;             // KeyRef uri in the KeyStore
  std::string public_key;          // SubjectPublicKeyInfo DER, base64
  std::int64_t created_at = 0;
  std::int64_t retired_at = 0;     // 0: current
};

class SigningKeyRepository {
 public:
  virtual ~SigningKeyRepository() = default;
  // Adds a new current key and retires the previous current one(s) at rec.created_at, in
  // one transaction. Errc::already_exists (kid taken); Errc::invalid_argument.
  virtual core::Result<void> add_signing_key(const SigningKeyRecord& rec) = 0;
  // Ordered by (created_at, kid); retired keys included.
  virtual core::Result<std::vector<SigningKeyRecord>> list_signing_keys() = 0;
};

// --- signed documents (flow 1) ----------------------------------------------------------

// One signed PDF. The bytes lie in the object store under object_key; the record is what
// listings, digest lookups and download links work from.
struct DocumentRecord {
  std::string id;                // "doc_" + 26 lowercase base32 chars, made by the caller; immutable
  std::string owner;             // principal subject that signed it ("user:alice")
  std::string title;
  std::string original_sha256;   // 64 lowercase hex digits: the uploaded PDF
  std::string signed_sha256;     // 64 lowercase hex digits: the signed PDF
  std::int64_t signed_size = 0;  // bytes of the signed PDF
  std::string object_key;        // where the signed PDF lies in the object store
  std::string signer_serial;     // the per-document certificate (a CertificateRecord serial)
  std::string level;             // PAdES level: "B-B" | "B-T" | "B-LT" | "B-LTA"
  std::int64_t created_at = 0;
  // The signatory (the citizen the document is for), personal data the store never sees in
  // clear: pii::FieldCipher tokens sealed by the documents domain for table "documents",
  // this column's name and row `id`, and pii::BlindIndex digests for exact lookups
  // (docs/personal-data.md). "" when not given (NULL in the table). Written once, with the
  // row; afterwards only re-sealed (replace_document_tokens).
  std::string signer_cpf;          // token
  std::string signer_cpf_index;    // digest; DocumentFilter::signer_cpf_index finds it
  std::string signer_name;         // token
  std::string signer_email;        // token
  std::string signer_email_index;  // digest
};

// Where the previous page of a listing ended: its last record's (created_at, id).
struct DocumentCursor {
  std::int64_t created_at = 0;
  std::string id;
};

struct DocumentFilter {
  std::optional<std::string> owner;     // only this owner's documents
  std::optional<std::string> signer_cpf_index;  // only documents with this signer CPF digest
  int limit = 100;                      // 1..10000
  std::optional<DocumentCursor> after;  // keyset pagination: records strictly after this one
};

// The personal-data tokens of one document: column name ("signer_cpf", "signer_name",
// "signer_email") to token; NULL columns left out.
struct DocumentTokens {
  std::string id;
  std::map<std::string, std::string> tokens;
};

class DocumentRepository {
 public:
  virtual ~DocumentRepository() = default;
  // Records the document and its audit event in one transaction: both or neither. The
  // event gets the next audit id, as append_audit_event would give it.
  // Errc::already_exists when the id is taken; Errc::invalid_argument for an empty
  // id/owner/object key, a digest that is not 64 lowercase hex digits, a negative size, an
  // unknown level, a signer serial with no certificate recorded, an event without
  // actor/action, or text holding a NUL byte; Errc::invalid_serial for a malformed serial.
  virtual core::Result<void> insert_document(const DocumentRecord& rec, const AuditEvent& event) = 0;
  virtual core::Result<DocumentRecord> get_document(const std::string& id) = 0;  // not_found
  // Documents whose original or signed digest is `sha256_hex` (hex, either case), newest
  // first. Empty when none; Errc::invalid_argument when it is not 64 hex digits.
  virtual core::Result<std::vector<DocumentRecord>> find_documents_by_digest(const std::string& sha256_hex) = 0;
  // Newest first: ordered by (created_at, id) descending, so pages never overlap or skip
  // even when documents share a second. Errc::invalid_argument for a bad limit.
  virtual core::Result<std::vector<DocumentRecord>> list_documents(const DocumentFilter& f) = 0;

  // For the re-encryption pass (pii::reencrypt through documents::DocumentTokenTable): up to
  // `limit` documents holding at least one personal-data token, with id > after_id (""
  // from the first) in id order (byte order on every engine), and their tokens.
  // Errc::invalid_argument for a bad limit.
  virtual core::Result<std::vector<DocumentTokens>> list_document_tokens(const std::string& after_id, int limit) = 0;
  // Compare-and-set: writes `next`'s tokens only if the row still holds exactly `current`'s
  // (NULL where `current` has none); false when it does not, or the row is gone. Both must
  // name the same document and the same columns, with non-empty tokens
  // (Errc::invalid_argument). Blind indexes are not touched: the plaintexts do not change.
  virtual core::Result<bool> replace_document_tokens(const DocumentTokens& current, const DocumentTokens& next) = 0;
};

// --- Scheduled jobs (docs/jobs.md) ---

// One run of a scheduled job. (job, scheduled_at, attempt) is unique: claiming it is how one
// instance, and only one, gets to run a period's job.
struct JobRunRecord {
  std::int64_t id = 0;               // assigned by the store, increasing
  std::string job;
  std::int64_t scheduled_at = 0;     // the fire time the run belongs to (Unix seconds)
  int attempt = 0;                   // 0, then one more per retry of the same fire time
  std::string trigger = "schedule";  // "schedule" | "manual" (worker --once) | "event"
  std::string instance;              // who ran it: "host:pid"
  std::int64_t started_at = 0;
  std::optional<std::int64_t> ended_at;  // unset while running (or if the runner died)
  std::string result = "running";    // "running" | "success" | "failure" | "timeout"
  std::string error;                 // "code: message" when it did not succeed
};

struct JobRunFilter {
  std::optional<std::string> job;
  std::int64_t before_id = 0;  // keyset pagination, newest first: runs with id < before_id (0: none)
  int limit = 100;             // 1..10000
};

struct JobSummary {
  std::string job;
  JobRunRecord last_run;
  std::optional<std::int64_t> last_success_at;  // ended_at of its latest successful run
};

// Held while a job runs; destroying it lets another runner take the job.
class JobLock {
 public:
  virtual ~JobLock() = default;
};

class JobRunRepository {
 public:
  virtual ~JobRunRepository() = default;
  // The right to run `job`, exclusive across every process on this database while the lock
  // lives: a session advisory lock on a connection of its own (PostgreSQL), an flock on a
  // file beside the database (SQLite). nullptr when another runner holds it.
  virtual core::Result<std::unique_ptr<JobLock>> try_lock_job(const std::string& job) = 0;
  // Records the start of `run` (result "running"); returns its id, or nullopt when that
  // scheduled (job, scheduled_at, attempt) was claimed already — by another instance.
  // Manual and event runs are recorded, never refused.
  virtual core::Result<std::optional<std::int64_t>> claim_job_run(const JobRunRecord& run) = 0;
  // result: "success" | "failure" | "timeout". Errc::not_found for an unknown id.
  virtual core::Result<void> finish_job_run(std::int64_t id, std::int64_t ended_at, const std::string& result,
                                            const std::string& error) = 0;
  virtual core::Result<std::vector<JobRunRecord>> list_job_runs(const JobRunFilter& f) = 0;  // newest first
  // Every job that ever ran, by name, with its latest run and last success.
  virtual core::Result<std::vector<JobSummary>> job_summaries() = 0;
  // Deletes finished runs that ended before `ended_before`, except each job's latest run and
  // latest success (what job_summaries and the alerting metric read). Returns how many went.
  virtual core::Result<std::int64_t> prune_job_runs(std::int64_t ended_before) = 0;
};

// --- ACME (RFC 8555; docs/acme.md) ---
// The JSON held in *_json fields is written and read by the acme module; the store keeps it
// as text. Statuses are RFC 8555's (section 7.1.6); expiry is judged by the reader.

struct AcmeAccountRecord {
  std::string id;              // random, URL-safe: the account URL's last segment
  std::string key_thumbprint;  // RFC 7638 thumbprint of the account key: unique
  std::string jwk_json;        // the public key as a JWK
  std::string status = "valid";   // "valid" | "deactivated" | "revoked"
  std::string contact_json = "[]";
  std::string eab_kid;         // the External Account Binding key it registered with: unique when set
  std::int64_t created_at = 0;
};

struct AcmeChallengeRecord {
  std::string id;
  std::string authorization_id;
  std::string type;    // "http-01" | "tls-alpn-01" | "dns-01"
  std::string token;   // base64url, 128 bits or more
  std::string status = "pending";  // "pending" | "processing" | "valid" | "invalid"
  std::optional<std::int64_t> validated_at;
  std::string error_json;  // the problem document when invalid
};

struct AcmeAuthorizationRecord {
  std::string id;
  std::string order_id;
  std::string account_id;
  std::string identifier_type = "dns";
  std::string identifier_value;
  bool wildcard = false;
  std::string status = "pending";  // "pending" | "valid" | "invalid" | "deactivated" | "expired" | "revoked"
  std::int64_t expires_at = 0;
  std::vector<AcmeChallengeRecord> challenges;  // filled by get_acme_authorization
};

struct AcmeOrderRecord {
  std::string id;
  std::string account_id;
  std::string status = "pending";  // "pending" | "ready" | "processing" | "valid" | "invalid"
  std::int64_t expires_at = 0;
  std::string identifiers_json;    // [{"type":"dns","value":...}, ...]
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> not_after;
  std::string certificate_serial;  // set when valid
  std::string error_json;
  std::int64_t created_at = 0;
  std::vector<std::string> authorization_ids;  // filled by get_acme_order, in creation order
};

class AcmeRepository {
 public:
  virtual ~AcmeRepository() = default;
  // Errc::already_exists when the key thumbprint or the EAB key id is taken.
  virtual core::Result<void> create_acme_account(const AcmeAccountRecord& rec, const AuditEvent& event) = 0;
  virtual core::Result<AcmeAccountRecord> get_acme_account(const std::string& id) = 0;  // not_found
  virtual core::Result<AcmeAccountRecord> find_acme_account_by_key(const std::string& key_thumbprint) = 0;
  // Writes status, contact, key (jwk_json, key_thumbprint) of rec.id, with the event, in one
  // transaction. Errc::already_exists when the new key belongs to another account.
  virtual core::Result<void> update_acme_account(const AcmeAccountRecord& rec, const AuditEvent& event) = 0;

  // The order, its authorizations and their challenges in one transaction.
  virtual core::Result<void> create_acme_order(const AcmeOrderRecord& order,
                                               const std::vector<AcmeAuthorizationRecord>& authorizations) = 0;
  virtual core::Result<AcmeOrderRecord> get_acme_order(const std::string& id) = 0;  // not_found
  // The order whose certificate is `serial` (lowercase hex); not_found when none.
  virtual core::Result<AcmeOrderRecord> find_acme_order_by_certificate(const std::string& serial) = 0;
  // Newest first, at most `limit` (1..1000).
  virtual core::Result<std::vector<std::string>> list_acme_order_ids(const std::string& account_id, int limit) = 0;
  virtual core::Result<AcmeAuthorizationRecord> get_acme_authorization(const std::string& id) = 0;  // not_found

  // Compare-and-set on status: each writes `next` (status and the fields that go with it) only
  // while the row's status is still `expected`; false otherwise (or the row is gone), so two
  // instances never both move one object out of a state.
  virtual core::Result<bool> update_acme_challenge(const AcmeChallengeRecord& next, const std::string& expected) = 0;
  virtual core::Result<bool> update_acme_authorization(const std::string& id, const std::string& expected,
                                                       const std::string& next) = 0;
  // Writes status, certificate_serial and error_json.
  virtual core::Result<bool> update_acme_order(const AcmeOrderRecord& next, const std::string& expected) = 0;
};

class Store : public CertificateRepository,
              public RevocationLister,
              public AuditLog,
              public TransparencyLog,
              public KeyRecordRepository,
              public AuthorityRepository,
              public UserRepository,
              public MfaRepository,
              public RefreshTokenRepository,
              public ApiKeyRepository,
              public SigningKeyRepository,
              public DocumentRepository,
              public JobRunRepository,
              public AcmeRepository {
 public:
  virtual std::string backend_name() const = 0;
  // Schema version after migrations (the highest applied; may exceed this binary's own
  // migrations when a newer release already migrated the database).
  virtual core::Result<int> schema_version() = 0;
  // Reachability for /readyz.
  virtual core::Result<void> check() = 0;

  // Sets the password of the database role this store logs in as, without a failed request:
  // sessions already open keep working, and every pooled connection is then re-opened (idle
  // ones at once, leased ones when released), logging in through the backend's password
  // provider (PostgresStoreOptions::password_candidates).
  //
  // Ordering, for callers: first write `new_password` into the provider's source so that it
  // comes FIRST among the candidates (keep the old one after it: until the change commits,
  // a fresh connection still needs it), then call this; if it fails, revert the provider
  // (old password first again). After Errc::store_unavailable the change may have been
  // applied before the connection broke: keep the new password as a later candidate then.
  // The password is never logged nor put in an error message. PostgreSQL sends only a
  // SCRAM-SHA-256 verifier computed client-side, so the clear text never reaches the server.
  // Errc::invalid_argument for an empty password or one holding a NUL byte;
  // Errc::not_supported for a backend without a password (SQLite, the default).
  virtual core::Result<void> change_own_password(std::string_view new_password) {
    (void)new_password;
    return core::Error(core::Errc::not_supported, "change_own_password: the " + backend_name() +
                                                      " store has no password");
  }
};

}  // namespace cartorio::store
