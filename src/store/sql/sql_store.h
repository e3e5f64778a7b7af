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

#include <memory>

namespace cartorio::store::sql {

class SqlStore final : public Store {
 public:
  // Applies pending migrations (embedded_migrations()) and returns the ready store.
  static core::Result<std::unique_ptr<Store>> open(SqlDialect dialect, std::unique_ptr<ConnectionPool> pool);

  // Only open() can make the key, so a SqlStore never exists unmigrated.
  class Key {
    friend class SqlStore;
    Key() = default;
  };
  SqlStore(Key, SqlDialect dialect, std::unique_ptr<ConnectionPool> pool)
      : m_dialect(std::move(dialect)), m_pool(std::move(pool)) {}

  core::Result<void> insert_certificate(const CertificateRecord& rec) override;
  core::Result<CertificateRecord> get_certificate(const std::string& serial) override;
  core::Result<std::vector<CertificateRecord>> list_certificates(const CertificateFilter& f) override;
  core::Result<std::int64_t> count_certificates() override;
  core::Result<void> revoke_certificate(const std::string& serial, int reason,
                                        std::int64_t revoked_at) override;

  core::Result<std::vector<RevokedEntry>> list_revoked(const std::string& issuer,
                                                       std::int64_t not_after_min) override;
  core::Result<std::int64_t> next_crl_number(const std::string& issuer) override;

  core::Result<std::int64_t> append_audit_event(const AuditEvent& e) override;
  core::Result<std::vector<AuditEvent>> list_audit_events(const AuditFilter& f) override;

  core::Result<void> put_key_record(const KeyRecord& rec) override;
  core::Result<KeyRecord> get_key_record(const std::string& label) override;
  core::Result<std::vector<KeyRecord>> list_key_records() override;

  core::Result<void> put_authority(const AuthorityRecord& rec) override;
  core::Result<AuthorityRecord> get_authority(const std::string& name) override;
  core::Result<std::vector<AuthorityRecord>> list_authorities() override;

  std::string backend_name() const override { return m_dialect.backend_name; }
  core::Result<int> schema_version() override;
  core::Result<void> check() override;

 private:
  core::Result<PooledConnection> connection(std::string_view op);

  const SqlDialect m_dialect;
  std::unique_ptr<ConnectionPool> m_pool;
};

}  // namespace cartorio::store::sql
