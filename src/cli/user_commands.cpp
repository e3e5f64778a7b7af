// `cartorio user add|list|show|passwd|role|disable|enable|mfa-reset` and
// `cartorio apikey create|list|revoke`: the administrator's side of the identity service,
// run on the server machine (the first admin is made here; then the API takes over).
// Passwords come from a file or standard input, never from the command line (where `ps`
// would show them). Every change is audited with actor "cli".
#include "app/identity_setup.h"
#include "app/runtime.h"
#include "identity/identity_json.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include <termios.h>
#include <unistd.h>

namespace cartorio::cli {

using core::Errc;
using nlohmann::json;

namespace {

struct Session {
  app::Runtime rt;
  std::unique_ptr<identity::IdentityService> identity;
};

core::Result<std::unique_ptr<Session>> open_session(const CommandContext& ctx) {
  CARTORIO_TRY(auto cfg, load_cli_config(resolve_data_dir(ctx.data_dir_flag)));
  auto s = std::make_unique<Session>();
  CARTORIO_TRY(s->rt, app::open_runtime(cfg, "cli", app::OpenMode::existing));
  CARTORIO_TRY(s->identity, app::open_identity(s->rt));
  return s;
}

identity::Actor cli_actor() { return {"cli", "local", ""}; }

core::Result<std::vector<identity::Role>> parse_roles(const std::vector<std::string>& names) {
  std::vector<identity::Role> out;
  for (const auto& n : names) {
    auto r = identity::parse_role(n);
    if (!r) return core::Error(Errc::invalid_argument, "unknown role \"" + n + "\": admin, notary, clerk, auditor, service");
    out.push_back(*r);
  }
  return out;
}

// Echo off while a password is typed at a terminal; restored on every path out.
class NoEcho {
 public:
  NoEcho() {
    if (::tcgetattr(STDIN_FILENO, &m_saved) != 0) return;
    termios quiet = m_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    m_active = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~NoEcho() {
    if (m_active) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &m_saved);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios m_saved{};
  bool m_active = false;
};

// First line of a file, or of standard input for "-" (prompted, not echoed, at a terminal).
core::Result<std::string> read_password(const std::string& file) {
  if (file == "-" && ::isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "password: ");
    std::string line;
    {
      NoEcho quiet;
      std::getline(std::cin, line);
    }
    std::fprintf(stderr, "\n");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  CARTORIO_TRY(auto text, read_input(file));
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

// "clerk,auditor", for the text listings.
std::string role_list(const std::vector<identity::Role>& roles) {
  std::string out;
  for (auto r : roles) out += (out.empty() ? "" : ",") + std::string(identity::to_string(r));
  return out;
}

void print_user(const identity::UserView& u, bool as_json) {
  if (as_json) {
    std::printf("%s\n", identity::to_json(u).dump().c_str());
    return;
  }
  const std::string roles = role_list(u.roles);
  std::printf("%-24s %-28s mfa=%s%s\n", u.username.c_str(), roles.c_str(),
              u.mfa_enabled ? "on" : (u.mfa_required ? "pending" : "n/a"), u.disabled ? " disabled" : "");
}

struct UserOptions {
  std::string username;
  std::vector<std::string> roles;
  std::string display_name;
  std::string password_file = "-";
  std::string name;  // API key name
  bool json = false;
};

int run_or_fail(const CommandContext& ctx, const std::function<core::Result<void>(Session&)>& body) {
  auto s = open_session(ctx);
  if (!s) return fail(s.error());
  if (auto r = body(**s); !r) return fail(r.error());
  return kOk;
}

}  // namespace

void add_user_commands(CLI::App& app, CommandContext& ctx) {
  auto* user = app.add_subcommand("user", "users, roles, passwords and MFA");
  user->require_subcommand(1);
  auto o = std::make_shared<UserOptions>();

  auto* add = user->add_subcommand("add", "create a user (password read from --password-file, default stdin)");
  add->add_option("username", o->username)->required();
  add->add_option("--role", o->roles, "admin|notary|clerk|auditor|service (repeatable)")->required();
  add->add_option("--display-name", o->display_name);
  add->add_option("--password-file", o->password_file, "file whose first line is the password; - for stdin");
  add->add_flag("--json", o->json);
  add->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto roles, parse_roles(o->roles));
      CARTORIO_TRY(auto password, read_password(o->password_file));
      CARTORIO_TRY(auto u, s.identity->create_user(cli_actor(), {o->username, o->display_name, roles, password}));
      print_user(u, o->json);
      return core::ok();
    });
  });

  auto* list = user->add_subcommand("list", "list users");
  list->add_flag("--json", o->json);
  list->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto users, s.identity->list_users(1000, 0));
      for (const auto& u : users) print_user(u, o->json);
      return core::ok();
    });
  });

  auto* show = user->add_subcommand("show", "one user");
  show->add_option("username", o->username)->required();
  show->add_flag("--json", o->json);
  show->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto u, s.identity->get_user(o->username));
      print_user(u, o->json);
      return core::ok();
    });
  });

  auto* passwd = user->add_subcommand("passwd", "set a user's password (ends their sessions)");
  passwd->add_option("username", o->username)->required();
  passwd->add_option("--password-file", o->password_file, "file whose first line is the password; - for stdin");
  passwd->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto password, read_password(o->password_file));
      return s.identity->set_password(cli_actor(), o->username, password);
    });
  });

  auto* role = user->add_subcommand("role", "replace a user's roles (ends their sessions)");
  role->add_option("username", o->username)->required();
  role->add_option("--role", o->roles, "admin|notary|clerk|auditor|service (repeatable)")->required();
  role->add_flag("--json", o->json);
  role->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto roles, parse_roles(o->roles));
      identity::UserChange change;
      change.roles = roles;
      CARTORIO_TRY(auto u, s.identity->update_user(cli_actor(), o->username, change));
      print_user(u, o->json);
      return core::ok();
    });
  });

  for (bool disable : {true, false}) {
    auto* cmd = user->add_subcommand(disable ? "disable" : "enable",
                                     disable ? "disable a user (ends their sessions)" : "enable a user, lifting a lockout");
    cmd->add_option("username", o->username)->required();
    cmd->callback([&ctx, o, disable] {
      ctx.exit_code = run_or_fail(ctx, [o, disable](Session& s) -> core::Result<void> {
        identity::UserChange change;
        change.disabled = disable;
        CARTORIO_TRY_VOID(s.identity->update_user(cli_actor(), o->username, change));
        return core::ok();
      });
    });
  }

  auto* mfa = user->add_subcommand("mfa-reset", "remove a user's TOTP and recovery codes; they enrol again at next login");
  mfa->add_option("username", o->username)->required();
  mfa->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) { return s.identity->reset_mfa(cli_actor(), o->username); });
  });

  auto* apikey = app.add_subcommand("apikey", "API keys of services (client_credentials)");
  apikey->require_subcommand(1);
  auto* create = apikey->add_subcommand("create", "create a key; it is printed once");
  create->add_option("--name", o->name)->required();
  create->add_option("--role", o->roles, "roles of the key (repeatable)")->required();
  create->add_flag("--json", o->json);
  create->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto roles, parse_roles(o->roles));
      CARTORIO_TRY(auto k, s.identity->create_api_key(cli_actor(), o->name, roles));
      if (o->json)
        std::printf("%s\n", json{{"prefix", k.info.prefix}, {"key", k.key}}.dump().c_str());
      else
        std::printf("%s\n", k.key.c_str());
      return core::ok();
    });
  });
  auto* klist = apikey->add_subcommand("list", "list keys (prefix only)");
  klist->add_flag("--json", o->json);
  klist->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) -> core::Result<void> {
      CARTORIO_TRY(auto keys, s.identity->list_api_keys());
      for (const auto& k : keys) {
        if (o->json) {
          std::printf("%s\n", identity::to_json(k).dump().c_str());
          continue;
        }
        const std::string roles = role_list(k.roles);
        std::printf("%-10s %-24s %-20s%s\n", k.prefix.c_str(), k.name.c_str(), roles.c_str(),
                    k.revoked_at ? " revoked" : "");
      }
      return core::ok();
    });
  });
  auto* krevoke = apikey->add_subcommand("revoke", "revoke a key by prefix");
  krevoke->add_option("prefix", o->name)->required();
  krevoke->callback([&ctx, o] {
    ctx.exit_code = run_or_fail(ctx, [o](Session& s) { return s.identity->revoke_api_key(cli_actor(), o->name); });
  });
}

}  // namespace cartorio::cli
