// store::Store written once in SQL over a SqlConnection pool (PowerDNS's generic SQL
// backend): the SQLite and PostgreSQL backends only supply a driver and a SqlDialect.
//
// Thread-safety: every method may be called from any thread; each takes a pooled
// connection for the duration of the call. Each method is one statement or one
// transaction, so it happens completely or not at all. Error messages name the
// operation; driver errors keep their codes (store_unavailable, store_error, ...).
#pragma once

#include "store/sql/connection_pool.h"
#include "store/sql/sql_dialect.h"
#include "store/store.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace cartorio::store::sql {

class SqlStore final : public Store {
 public:
  // Applies pending migrations (embedded_migrations()) and returns the ready store.
  static core::Result<std::unique_ptr<Store>> open(SqlDialect dialect, std::unique_ptr<ConnectionPool> pool,
                                                   std::unique_ptr<ConnectionPool> read_pool = nullptr);

  // Only open() can make the key, so a SqlStore never exists unmigrated.
  class Key {
    friend class SqlStore;
    Key() = default;
  };
  SqlStore(Key, SqlDialect dialect, std::unique_ptr<ConnectionPool> pool, std::unique_ptr<ConnectionPool> read_pool)
      : m_dialect(std::move(dialect)), m_pool(std::move(pool)), m_read_pool(std::move(read_pool)) {}

  core::Result<void> insert_certificate(const CertificateRecord& rec, const std::vector<AuditEvent>& events) override;
  using CertificateRepository::insert_certificate;
  core::Result<CertificateRecord> get_certificate(const std::string& serial) override;
  core::Result<std::vector<CertificateRecord>> list_certificates(const CertificateFilter& f) override;
  core::Result<std::int64_t> count_certificates() override;
  core::Result<void> revoke_certificate(const std::string& serial, int reason,
                                        std::int64_t revoked_at) override;

  core::Result<std::vector<RevokedEntry>> list_revoked(const std::string& issuer,
                                                       std::int64_t not_after_min) override;
  core::Result<std::int64_t> next_crl_number(const std::string& issuer) override;

  core::Result<std::int64_t> append_audit_event(const AuditEvent& e) override;
  core::Result<std::vector<std::int64_t>> append_audit_events(const std::vector<AuditEvent>& events) override;
  core::Result<std::vector<AuditEvent>> list_audit_events(const AuditFilter& f) override;

  core::Result<std::vector<TransparencyEntry>> list_transparency_entries(std::int64_t after_id, int limit) override;
  core::Result<TransparencyEntry> find_transparency_entry(const std::string& kind, const std::string& ref) override;

  core::Result<void> put_key_record(const KeyRecord& rec) override;
  core::Result<KeyRecord> get_key_record(const std::string& label) override;
  core::Result<std::vector<KeyRecord>> list_key_records() override;

  core::Result<void> put_authority(const AuthorityRecord& rec) override;
  core::Result<AuthorityRecord> get_authority(const std::string& name) override;
  core::Result<std::vector<AuthorityRecord>> list_authorities() override;

  // Identity repositories: sql_identity_store.cpp.
  core::Result<void> create_user(const UserRecord& rec) override;
  core::Result<UserRecord> get_user(const std::string& id) override;
  core::Result<UserRecord> find_user(const std::string& username) override;
  core::Result<std::vector<UserRecord>> list_users(const UserFilter& f) override;
  core::Result<UserRecord> update_user(const std::string& id, const UserUpdate& u) override;
  core::Result<LoginFailures> record_login_failure(const std::string& id, int lock_after,
                                                   std::int64_t lock_until) override;
  core::Result<void> clear_login_failures(const std::string& id) override;

  core::Result<void> set_pending_totp(const std::string& user_id, const std::string& sealed_secret,
                                      std::int64_t at) override;
  core::Result<void> enable_totp(const std::string& user_id, std::int64_t step,
                                 const std::vector<std::string>& recovery_code_hashes, std::int64_t at) override;
  core::Result<void> reset_totp(const std::string& user_id, std::int64_t at) override;
  core::Result<bool> use_totp_step(const std::string& user_id, std::int64_t step) override;
  core::Result<bool> use_recovery_code(const std::string& user_id, const std::string& code_hash,
                                       std::int64_t at) override;
  core::Result<int> count_recovery_codes(const std::string& user_id) override;

  core::Result<void> create_token_family(const TokenFamilyRecord& family,
                                         const std::optional<NewRefreshToken>& first) override;
  core::Result<TokenFamilyRecord> get_token_family(const std::string& id) override;
  core::Result<RefreshRotation> rotate_refresh_token(const std::string& token_hash, const NewRefreshToken& next,
                                                     std::int64_t now) override;
  core::Result<RefreshTokenRecord> find_refresh_token(const std::string& token_hash) override;
  core::Result<bool> revoke_token_family(const std::string& id, std::int64_t at) override;
  core::Result<int> revoke_user_token_families(const std::string& user_id, std::int64_t at) override;

  core::Result<void> insert_api_key(const ApiKeyRecord& rec) override;
  core::Result<ApiKeyRecord> get_api_key(const std::string& prefix) override;
  core::Result<std::vector<ApiKeyRecord>> list_api_keys() override;
  core::Result<bool> revoke_api_key(const std::string& prefix, std::int64_t at) override;
  core::Result<void> record_api_key_use(const std::string& prefix, std::int64_t at,
                                        std::int64_t not_before) override;

  core::Result<void> add_signing_key(const SigningKeyRecord& rec) override;
  core::Result<std::vector<SigningKeyRecord>> list_signing_keys() override;

  // Documents: sql_document_store.cpp.
  core::Result<void> insert_document(const DocumentRecord& rec, const AuditEvent& event) override;
  core::Result<DocumentRecord> get_document(const std::string& id) override;
  core::Result<std::vector<DocumentRecord>> find_documents_by_digest(const std::string& sha256_hex) override;
  core::Result<std::vector<DocumentRecord>> list_documents(const DocumentFilter& f) override;
  core::Result<std::vector<DocumentTokens>> list_document_tokens(const std::string& after_id, int limit) override;
  core::Result<bool> replace_document_tokens(const DocumentTokens& current, const DocumentTokens& next) override;

  // Scheduled jobs: sql_job_store.cpp.
  core::Result<std::unique_ptr<JobLock>> try_lock_job(const std::string& job) override;
  core::Result<std::optional<std::int64_t>> claim_job_run(const JobRunRecord& run) override;
  core::Result<void> finish_job_run(std::int64_t id, std::int64_t ended_at, const std::string& result,
                                    const std::string& error) override;
  core::Result<std::vector<JobRunRecord>> list_job_runs(const JobRunFilter& f) override;
  core::Result<std::vector<JobSummary>> job_summaries() override;
  core::Result<std::int64_t> prune_job_runs(std::int64_t ended_before) override;

  // ACME: sql_acme_store.cpp.
  core::Result<void> create_acme_account(const AcmeAccountRecord& rec, const AuditEvent& event) override;
  core::Result<AcmeAccountRecord> get_acme_account(const std::string& id) override;
  core::Result<AcmeAccountRecord> find_acme_account_by_key(const std::string& key_thumbprint) override;
  core::Result<void> update_acme_account(const AcmeAccountRecord& rec, const AuditEvent& event) override;
  core::Result<void> create_acme_order(const AcmeOrderRecord& order,
                                       const std::vector<AcmeAuthorizationRecord>& authorizations) override;
  core::Result<AcmeOrderRecord> get_acme_order(const std::string& id) override;
  core::Result<AcmeOrderRecord> find_acme_order_by_certificate(const std::string& serial) override;
  core::Result<std::vector<std::string>> list_acme_order_ids(const std::string& account_id, int limit) override;
  core::Result<AcmeAuthorizationRecord> get_acme_authorization(const std::string& id) override;
  core::Result<bool> update_acme_challenge(const AcmeChallengeRecord& next, const std::string& expected) override;
  core::Result<bool> update_acme_authorization(const std::string& id, const std::string& expected,
                                               const std::string& next) override;
  core::Result<bool> update_acme_order(const AcmeOrderRecord& next, const std::string& expected) override;

  std::string backend_name() const override { return m_dialect.backend_name; }
  core::Result<int> schema_version() override;
  core::Result<void> check() override;
  // Through the driver (SqlConnection::change_own_password), then retires the pool's
  // connections (ConnectionPool::retire_all) so each is re-opened with the new password.
  core::Result<void> change_own_password(std::string_view new_password) override;

 private:
  struct PendingWrite;
  using WriteWork = std::function<core::Result<void>(SqlConnection&)>;

  core::Result<PooledConnection> connection(std::string_view op);
  // For reads that need no transaction with a write: a reader of its own where the backend has
  // one (SQLite in WAL mode: readers do not wait for the writer's commit), else connection().
  core::Result<PooledConnection> read_connection(std::string_view op);
  // Runs `work` in a write transaction and commits it. With SqlDialect::group_commit,
  // concurrent calls share one transaction and commit (a savepoint each, so one that fails
  // takes nothing of the others with it). `work` may run on another caller's thread.
  core::Result<void> write(std::string_view op, const WriteWork& work);
  void run_writes(std::span<PendingWrite* const> batch);
  // Inserts one audit event inside the caller's open transaction (taking the audit lock,
  // held until that transaction ends) and returns its id; append_audit_event and every
  // change recorded together with its event go through it.
  core::Result<std::int64_t> insert_audit_event(SqlConnection& conn, const AuditEvent& e, std::string_view op);
  // Appends a certificate's or a document's transparency entry inside the caller's open
  // transaction (taking the transparency lock, so ids follow commit order).
  core::Result<void> insert_transparency_entry(SqlConnection& conn, std::string_view kind, const std::string& ref,
                                               std::int64_t time, std::string_view op);

  const SqlDialect m_dialect;
  std::unique_ptr<ConnectionPool> m_pool;
  std::unique_ptr<ConnectionPool> m_read_pool;

  // Group commit (SqlDialect::group_commit): callers queue their write; whoever finds no
  // leader becomes it, takes the whole queue, commits it once and wakes the others.
  std::mutex m_group_mutex;
  std::condition_variable m_group_done;
  std::vector<PendingWrite*> m_group_queue;
  bool m_group_leader = false;
};

}  // namespace cartorio::store::sql
