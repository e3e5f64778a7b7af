#include "store/postgres/postgres_store.h"

#include "store/postgres/postgres_connection.h"
#include "store/sql/sql_store.h"

namespace cartorio::store {

core::Result<std::unique_ptr<Store>> open_postgres_store(const PostgresStoreOptions& options) {
  if (options.pool_size < 1 || options.statement_timeout_ms < 1 || options.connect_timeout_s < 1)
    return core::Error(core::Errc::invalid_argument,
                       "postgres store: pool_size, statement_timeout_ms and connect_timeout_s must be positive");
  CARTORIO_TRY_VOID(postgres::validate_conninfo(options.conninfo));
  // The first connection is opened now so a wrong address or password fails at startup.
  CARTORIO_TRY(auto first, postgres::open_postgres_connection(options));
  auto more = [options] { return postgres::open_postgres_connection(options); };
  auto pool = std::make_unique<sql::ConnectionPool>(std::move(first), more, options.pool_size,
                                                    std::chrono::milliseconds(options.acquire_timeout_ms));
  return sql::SqlStore::open(postgres::postgres_dialect(), std::move(pool));
}

core::Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo) {
  PostgresStoreOptions options;
  options.conninfo = conninfo;
  return open_postgres_store(options);
}

}  // namespace cartorio::store
