#include "backup/postgres_tools.h"

#include <libpq-fe.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <fcntl.h>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cartorio::backup {

using core::Errc;

namespace {

struct ConnCloser {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using UniqueConn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using UniqueResult = std::unique_ptr<PGresult, ResultCloser>;
struct OptionsCloser {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

std::string quote_conn_value(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string quote_ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

core::Result<UniqueConn> connect(const PgTarget& t) {
  std::string conninfo = t.conninfo + " connect_timeout=10";
  if (!t.password.empty()) conninfo += " password=" + quote_conn_value(t.password);
  UniqueConn c(PQconnectdb(conninfo.c_str()));
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    std::string msg = c ? PQerrorMessage(c.get()) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return core::Error{Errc::store_unavailable, "cannot connect to PostgreSQL: " + msg};
  }
  return c;
}

core::Result<UniqueResult> exec(PGconn* c, const std::string& sql, const std::vector<std::string>& params = {}) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  UniqueResult r(PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                              nullptr, 0));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    return core::Error{Errc::store_error, std::string("PostgreSQL: ") + PQerrorMessage(c)};
  return r;
}

// Runs a PostgreSQL client tool with the password in its environment only; stdout to
// `stdout_file` (or nowhere). Errc::store_error carrying the tool's stderr.
core::Result<void> run_tool(const std::vector<std::string>& args, const std::string& password,
                            const std::string& stdout_file = "/dev/null") {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0) env_strings.emplace_back(*e);
  if (!password.empty()) env_strings.push_back("PGPASSWORD=" + password);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = args;
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  std::unique_ptr<std::FILE, FileCloser> err(std::tmpfile());
  if (!err) return core::Error{Errc::io_error, "cannot make a temporary file"};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, fileno(err.get()), STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  for (auto& s : env_strings) std::fill(s.begin(), s.end(), '\0');
  if (rc != 0) return core::Error{Errc::store_error, "cannot run " + args[0] + ": " + std::strerror(rc)};
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return core::Error{Errc::internal, "waitpid failed"};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return core::ok();
  std::string text;
  std::rewind(err.get());
  char buf[4096];
  const auto n = std::fread(buf, 1, sizeof buf - 1, err.get());
  text.assign(buf, n);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return core::Error{Errc::store_error, args[0] + " failed: " + text};
}

}  // namespace

core::Result<PgTarget> resolve_pg_target(const std::string& conninfo, const std::vector<std::string>& passwords) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsCloser> options(PQconninfoParse(conninfo.c_str(), &err));
  if (err) PQfreemem(err);
  if (!options) return core::Error{Errc::invalid_argument, "the PostgreSQL connection string does not parse"};
  PgTarget base;
  std::string own_password;
  for (auto* o = options.get(); o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    if (std::strcmp(o->keyword, "password") == 0) {
      own_password = o->val;
      continue;
    }
    base.conninfo += (base.conninfo.empty() ? "" : " ") + std::string(o->keyword) + "=" + quote_conn_value(o->val);
  }
  std::vector<std::string> tries = passwords;
  tries.push_back(own_password);
  core::Error last{Errc::store_unavailable, "no password to try"};
  for (const auto& pw : tries) {
    PgTarget t = base;
    t.password = pw;
    auto c = connect(t);
    if (!c) {
      last = c.error();
      continue;
    }
    CARTORIO_TRY(auto r, exec(c->get(), "SELECT current_schema()"));
    if (PQntuples(r.get()) == 1 && !PQgetisnull(r.get(), 0, 0)) t.schema = PQgetvalue(r.get(), 0, 0);
    return t;
  }
  return last;
}

core::Result<void> pg_dump_schema(const PgTarget& target, const std::string& schema, const std::string& out_file) {
  return run_tool({"pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--schema=" + schema,
                   "--file=" + out_file, "--dbname=" + target.conninfo},
                  target.password);
}

core::Result<long long> pg_count_relations(const PgTarget& target, const std::string& schema) {
  CARTORIO_TRY(auto c, connect(target));
  CARTORIO_TRY(auto r, exec(c.get(),
                            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = $1",
                            {schema}));
  return std::stoll(PQgetvalue(r.get(), 0, 0));
}

core::Result<void> pg_prepare_schema(const PgTarget& target, const std::string& schema, bool drop_contents) {
  CARTORIO_TRY(auto c, connect(target));
  if (drop_contents) {
    CARTORIO_TRY_VOID(exec(c.get(), "DROP SCHEMA IF EXISTS " + quote_ident(schema) + " CASCADE"));
  }
  CARTORIO_TRY_VOID(exec(c.get(), "CREATE SCHEMA IF NOT EXISTS " + quote_ident(schema)));
  return core::ok();
}

core::Result<void> pg_restore_schema(const PgTarget& target, const std::string& schema, const std::string& dump_file,
                                     const std::string& work_dir) {
  // The dump creates its schema (even "public"); it exists already, so that entry and its
  // comment are left out of the table of contents pg_restore follows.
  const std::string toc = work_dir + "/pg_restore.toc";
  const std::string list = work_dir + "/pg_restore.list";
  CARTORIO_TRY_VOID(run_tool({"pg_restore", "--list", dump_file}, "", toc));
  {
    std::ifstream in(toc);
    std::ofstream out(list, std::ios::trunc);
    std::string line;
    const std::string schema_entry = " SCHEMA - " + schema + " ";
    const std::string comment_entry = " COMMENT - SCHEMA " + schema + " ";
    while (std::getline(in, line)) {
      if (line.find(schema_entry) != std::string::npos || line.find(comment_entry) != std::string::npos) continue;
      out << line << "\n";
    }
    if (!out) return core::Error{Errc::io_error, "cannot write " + list};
  }
  auto r = run_tool({"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                     "--use-list=" + list, "--dbname=" + target.conninfo, dump_file},
                    target.password);
  std::remove(toc.c_str());
  std::remove(list.c_str());
  return r;
}

}  // namespace cartorio::backup
