// `cartorio serve`: the server. This version runs the plain-HTTP listener (CA certificates,
// CRLs, health); the HTTPS API listener joins it on the same server code.
#include "api/ocsp_routes.h"
#include "api/public_pki_routes.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "core/log.h"
#include "http/server.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <memory>
#include <pthread.h>

namespace cartorio::cli {

namespace {

struct ServeOptions {
  std::string listen_http;
  unsigned threads = 0;
};

int run_serve(const CommandContext& ctx, const ServeOptions& o) {
  auto cfg = core::load_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  core::log::Level level = core::log::Level::info;
  core::log::parse_level(cfg->log.level, level);
  core::log::init(level, core::log::Sink::stdout_sink);  // the server logs to stdout
  if (!o.listen_http.empty()) cfg->server.http_listen = o.listen_http;

  auto rt = app::open_runtime(*cfg, "server", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  if (auto h = rt->hierarchy(); !h) return fail(h.error());

  http::Router router;
  if (auto r = api::add_health_routes(router, *rt->store, *rt->keys); !r) return fail(r.error());
  if (auto r = api::add_public_pki_routes(router, *rt->store, rt->crl_dir()); !r) return fail(r.error());
  if (auto r = api::add_ocsp_routes(router, *rt->store, *rt->keys, *rt->clock, cfg->data_dir); !r) return fail(r.error());

  // Block the shutdown signals before any thread starts so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  http::ServerOptions options;
  options.listen = cfg->server.http_listen;
  options.threads = o.threads;
  http::Server server(options, std::move(router));
  if (auto r = server.start(); !r) return fail(r.error());
  core::log::info("server.started", {{"http_listen", cfg->server.http_listen},
                                     {"port", static_cast<std::int64_t>(server.port())},
                                     {"data_dir", cfg->data_dir},
                                     {"store", rt->store->backend_name()},
                                     {"keys", rt->keys->backend_name()}});
  int sig = 0;
  sigwait(&signals, &sig);
  core::log::info("server.stopping", {{"signal", sig}});
  server.stop();
  core::log::info("server.stopped");
  return kOk;
}

}  // namespace

void add_serve_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "run the server (until SIGTERM/SIGINT)");
  cmd->add_option("--listen-http", o->listen_http, "plain-HTTP listener for OCSP, CRL, caIssuers (server.http_listen)");
  cmd->add_option("--threads", o->threads, "worker threads (default: one per core)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_serve(ctx, *o); });
}

}  // namespace cartorio::cli
