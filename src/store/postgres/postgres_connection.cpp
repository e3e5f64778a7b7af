#include "store/postgres/postgres_connection.h"

#include "store/postgres/placeholders.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace cartorio::store::postgres {
namespace {

using core::Errc;
using core::Error;
using sql::SqlResult;
using sql::SqlValue;

struct ConnFinisher {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
struct ConninfoFreer {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
struct PqFreer {
  void operator()(char* p) const noexcept { PQfreemem(p); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnFinisher>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool starts_with(const char* s, std::string_view prefix) {
  return s && std::string_view(s).substr(0, prefix.size()) == prefix;
}

// SQLSTATE -> store code. Only the primary message is passed on: DETAIL lines quote row
// values, which may be personal data.
Error error_from(PGconn* conn, const PGresult* res, std::string_view what) {
  if (PQstatus(conn) == CONNECTION_BAD)
    return Error(Errc::store_unavailable, std::string(what) + ": connection lost: " + trimmed(PQerrorMessage(conn)));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = std::string(what) + ": " + (primary ? primary : trimmed(PQerrorMessage(conn)));
  if (state) msg += std::string(" (SQLSTATE ") + state + ")";
  if (!state) return Error(Errc::store_error, msg);
  if (std::string_view(state) == "23505") return Error(Errc::already_exists, msg);
  if (starts_with(state, "23") || starts_with(state, "22")) return Error(Errc::invalid_argument, msg);
  if (starts_with(state, "08") || starts_with(state, "57P") || starts_with(state, "53"))
    return Error(Errc::store_unavailable, msg);
  if (std::string_view(state) == "40001" || std::string_view(state) == "40P01") return Error(Errc::conflict, msg);
  return Error(Errc::store_error, msg);
}

SqlResult to_result(const PGresult* res) {
  SqlResult out;
  const int rows = PQntuples(res), cols = PQnfields(res);
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<std::size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res, r, c)) row.emplace_back(std::nullopt);
      else row.emplace_back(std::string(PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c))));
    }
    out.rows.emplace_back(std::move(row));
  }
  const char* affected = PQcmdTuples(const_cast<PGresult*>(res));
  if (affected && *affected) std::from_chars(affected, affected + std::strlen(affected), out.affected_rows);
  return out;
}

bool succeeded(const PGresult* res) {
  if (!res) return false;
  auto st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

// One login attempt. `password` (may be null) goes after the expanded conninfo ("dbname"),
// so it overrides a password the conninfo holds.
ConnPtr connect_once(const PostgresStoreOptions& options, const char* password) {
  const std::string timeout = std::to_string(options.connect_timeout_s);
  // Defaults first: keywords in the expanded conninfo ("dbname") override them.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname", nullptr, nullptr};
  const char* values[] = {timeout.c_str(), "cartorio", "UTF8", options.conninfo.c_str(), nullptr, nullptr};
  if (password) {
    keys[4] = "password";
    values[4] = password;
  }
  return ConnPtr(PQconnectdbParams(keys, values, 1));
}

// The server answered and refused the password (as opposed to being unreachable, refusing
// the database or the address): another password may work.
bool password_refused(PGconn* conn) {
  if (PQconnectionUsedPassword(conn)) return true;
  const char* message = PQerrorMessage(conn);
  return message && std::strstr(message, "password authentication failed") != nullptr;
}

core::Result<std::vector<std::string>> password_candidates(const PostgresStoreOptions& options) {
  if (!options.password_candidates) return std::vector<std::string>{};
  try {
    return options.password_candidates();
  } catch (const std::exception&) {
    // Its message is not passed on: it might quote what the provider read.
  } catch (...) {
  }
  return Error(Errc::store_unavailable, "connect to PostgreSQL: the password provider failed");
}

// Opens a session: each provided password in order, then the conninfo's own (no override).
// Moves on only when the server refused a password, so a server that is down is tried once.
// Error messages are libpq's, which never quote the password.
core::Result<ConnPtr> connect(const PostgresStoreOptions& options) {
  CARTORIO_TRY(auto candidates, password_candidates(options));
  int refused = 0;
  for (const auto& password : candidates) {
    // libpq ignores an empty value and cuts at a NUL: neither is a usable password.
    if (password.empty() || password.find('\0') != std::string::npos) continue;
    ConnPtr conn = connect_once(options, password.c_str());
    if (!conn) return Error(Errc::store_unavailable, "connect to PostgreSQL: out of memory");
    if (PQstatus(conn.get()) == CONNECTION_OK) return conn;
    if (!password_refused(conn.get()))
      return Error(Errc::store_unavailable, "connect to PostgreSQL: " + trimmed(PQerrorMessage(conn.get())));
    ++refused;
  }
  ConnPtr conn = connect_once(options, nullptr);
  if (!conn) return Error(Errc::store_unavailable, "connect to PostgreSQL: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = "connect to PostgreSQL: " + trimmed(PQerrorMessage(conn.get()));
    if (refused > 0)
      message += " (after the server refused " + std::to_string(refused) + " provided password" +
                 (refused > 1 ? "s" : "") + ")";
    return Error(Errc::store_unavailable, message);
  }
  return conn;
}

class PostgresConnection final : public sql::SqlConnection {
 public:
  PostgresConnection(ConnPtr conn, PostgresStoreOptions options)
      : m_conn(std::move(conn)), m_options(std::move(options)) {}

  // Session state a reset must restore. Sent directly, not through run(): a failure here
  // must not trigger another reset.
  core::Result<void> configure_session() {
    // Server notices ("relation already exists, skipping") would go to stderr otherwise.
    PQsetNoticeProcessor(m_conn.get(), [](void*, const char*) {}, nullptr);
    const std::string set = "SET statement_timeout = " + std::to_string(m_options.statement_timeout_ms);
    ResultPtr res(PQexec(m_conn.get(), set.c_str()));
    if (!succeeded(res.get())) return error_from(m_conn.get(), res.get(), "set statement_timeout");
    return core::ok();
  }

  core::Result<SqlResult> query(std::string_view sql, const std::vector<SqlValue>& params,
                                sql::StatementKind kind) override {
    const std::string text = number_placeholders(sql);
    std::vector<std::string> numbers;  // text form of integer parameters, kept alive for the call
    numbers.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        numbers.push_back(std::to_string(*n));
        values.push_back(numbers.back().c_str());
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        // libpq passes C strings: a NUL would silently cut the value short.
        if (s->find('\0') != std::string::npos)
          return Error(Errc::invalid_argument, "text parameter " + std::to_string(i + 1) + " contains a NUL byte");
        values.push_back(s->c_str());
      } else {
        values.push_back(nullptr);
      }
    }
    const bool retry_safe = kind == sql::StatementKind::read;
    return run([&] {
      return PQexecParams(m_conn.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0);
    }, retry_safe, "query");
  }

  core::Result<void> exec_script(std::string_view sql) override {
    CARTORIO_TRY_VOID(run_simple(std::string(sql), false));
    return core::ok();
  }

  core::Result<void> begin(sql::TxMode) override {
    CARTORIO_TRY_VOID(run_simple("BEGIN", true));  // nothing is open yet: safe to resend
    m_in_transaction = true;
    return core::ok();
  }

  core::Result<void> commit() override {
    m_in_transaction = false;
    ResultPtr res(PQexec(m_conn.get(), "COMMIT"));
    if (!succeeded(res.get())) return error_from(m_conn.get(), res.get(), "commit");
    // COMMIT of a failed transaction "succeeds" as ROLLBACK.
    if (std::string_view(PQcmdStatus(res.get())) == "ROLLBACK")
      return Error(Errc::conflict, "commit: the transaction was rolled back");
    return core::ok();
  }

  core::Result<void> rollback() override {
    m_in_transaction = false;
    if (PQtransactionStatus(m_conn.get()) == PQTRANS_IDLE) return core::ok();
    ResultPtr res(PQexec(m_conn.get(), "ROLLBACK"));
    if (!succeeded(res.get())) return error_from(m_conn.get(), res.get(), "rollback");
    return core::ok();
  }

  bool healthy() const override {
    return PQstatus(m_conn.get()) == CONNECTION_OK && PQtransactionStatus(m_conn.get()) == PQTRANS_IDLE;
  }

  // The SCRAM-SHA-256 verifier is computed here (PQencryptPasswordConn), so the clear
  // password is never sent: not to the server, nor to its statement log.
  core::Result<void> change_own_password(std::string_view new_password) override {
    if (new_password.empty()) return Error(Errc::invalid_argument, "the new password is empty");
    if (new_password.find('\0') != std::string_view::npos)
      return Error(Errc::invalid_argument, "the new password contains a NUL byte");
    if (m_in_transaction) return Error(Errc::store_error, "cannot change the password inside a transaction");
    if (PQstatus(m_conn.get()) != CONNECTION_OK) {
      CARTORIO_TRY_VOID(reconnect());
    }
    const std::string password(new_password);
    const char* user = PQuser(m_conn.get());
    if (!user || !*user) return Error(Errc::store_error, "the session has no user name");
    std::unique_ptr<char, PqFreer> verifier(
        PQencryptPasswordConn(m_conn.get(), password.c_str(), user, "scram-sha-256"));
    if (!verifier)
      return Error(Errc::store_error, "compute the password verifier: " + trimmed(PQerrorMessage(m_conn.get())));
    std::unique_ptr<char, PqFreer> role(PQescapeIdentifier(m_conn.get(), user, std::strlen(user)));
    std::unique_ptr<char, PqFreer> literal(PQescapeLiteral(m_conn.get(), verifier.get(), std::strlen(verifier.get())));
    if (!role || !literal) return Error(Errc::store_error, "escape: " + trimmed(PQerrorMessage(m_conn.get())));
    // Not resent after a broken connection: it may have been applied.
    CARTORIO_TRY_VOID(run_simple(std::string("ALTER ROLE ") + role.get() + " PASSWORD " + literal.get(), false));
    return core::ok();
  }

 private:
  core::Result<SqlResult> run_simple(const std::string& sql, bool retry_safe) {
    return run([&] { return PQexec(m_conn.get(), sql.c_str()); }, retry_safe, "exec");
  }

  // Sends once; if the connection turns out to be broken, resets it once (so the pool gets
  // a working connection back) and resends only when that cannot apply a write twice.
  template <class Send>
  core::Result<SqlResult> run(Send send, bool retry_safe, std::string_view what) {
    for (int attempt = 0;; ++attempt) {
      ResultPtr res(send());
      if (succeeded(res.get())) return to_result(res.get());
      auto error = error_from(m_conn.get(), res.get(), what);
      if (PQstatus(m_conn.get()) != CONNECTION_BAD) return error;
      const bool resend = retry_safe && !m_in_transaction && attempt == 0;
      auto reset = reconnect();
      if (!resend || !reset) return error;
    }
  }

  // A new session through the same path as the first (not PQreset, which would log in again
  // with the password of the first login, stale after a rotation). On failure the broken
  // session stays, so healthy() is false and the pool drops this connection.
  core::Result<void> reconnect() {
    m_in_transaction = false;  // a new session has no transaction
    auto fresh = connect(m_options);
    if (!fresh) return Error(fresh.error().code, "reconnect: " + fresh.error().message);
    m_conn = std::move(fresh).value();
    return configure_session();
  }

  ConnPtr m_conn;
  const PostgresStoreOptions m_options;
  bool m_in_transaction = false;
};

}  // namespace

core::Result<void> validate_conninfo(const std::string& conninfo) {
  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoFreer> options(PQconninfoParse(conninfo.c_str(), &raw_error));
  std::unique_ptr<char, PqFreer> error(raw_error);
  if (!options)
    return Error(Errc::invalid_argument, "postgres store: the conninfo is malformed (libpq could not parse it)");
  return core::ok();
}

core::Result<std::unique_ptr<sql::SqlConnection>> open_postgres_connection(const PostgresStoreOptions& options) {
  CARTORIO_TRY(auto conn, connect(options));
  auto pg = std::make_unique<PostgresConnection>(std::move(conn), options);
  auto configured = pg->configure_session();
  if (!configured) return Error(configured.error().code, "configure PostgreSQL session: " + configured.error().message);
  return std::unique_ptr<sql::SqlConnection>(std::move(pg));
}

sql::SqlDialect postgres_dialect() {
  sql::SqlDialect d;
  d.backend_name = "postgres";
  d.tokens = {{"ID_PK", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}, {"KEY_TEXT", "TEXT COLLATE \"C\""}};
  d.unix_now = "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)";
  // Held until COMMIT/ROLLBACK, across every session of the database.
  d.transaction_lock = "SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))";
  // Waiting for another opener's migration, or migrating a big table, may take longer than
  // a request may; SET LOCAL ends with the transaction.
  d.migration_setup = "SET LOCAL statement_timeout = 0";
  // Session-level: held by the connection the JobLock keeps, released if it dies. Keyed by
  // schema too, so installations sharing a database in different schemas do not collide.
  d.job_try_lock = "SELECT pg_try_advisory_lock(hashtext(current_schema()), CAST(? AS INTEGER))";
  d.job_unlock = "SELECT pg_advisory_unlock(hashtext(current_schema()), CAST(? AS INTEGER))";
  return d;
}

}  // namespace cartorio::store::postgres
