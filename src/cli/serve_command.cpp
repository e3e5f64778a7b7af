// `cartorio serve`: the server. This version runs the plain-HTTP listener (CA certificates,
// CRLs, OCSP, health) and, with jobs.in_server, the periodic jobs; the HTTPS API listener
// joins it on the same server code. `cartorio worker`: the jobs alone, for deployments
// that run them apart from the servers.
#include "api/ocsp_routes.h"
#include "api/public_pki_routes.h"
#include "app/jobs.h"
#include "app/runtime.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "core/log.h"
#include "http/server.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <memory>
#include <optional>
#include <pthread.h>

namespace cartorio::cli {

namespace {

// Blocks SIGINT/SIGTERM before any thread starts, so only wait_for_shutdown() sees them.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int wait_for_shutdown(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

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

  auto ocsp_sources = rt->ocsp_sources();
  if (!ocsp_sources) return fail(ocsp_sources.error());

  http::Router router;
  if (auto r = api::add_health_routes(router, *rt->store, *rt->keys, *rt->cache); !r) return fail(r.error());
  if (auto r = api::add_public_pki_routes(router, *rt->store, *rt->objects); !r) return fail(r.error());
  if (auto r = api::add_ocsp_routes(router, ocsp_sources->sources, *rt->clock); !r) return fail(r.error());

  const sigset_t signals = block_shutdown_signals();
  app::JobRunner jobs(*rt->clock);
  if (cfg->jobs.in_server) {
    app::add_standard_jobs(jobs, *rt, &*ocsp_sources);
    jobs.start();
  }

  http::ServerOptions options;
  options.listen = cfg->server.http_listen;
  options.threads = o.threads;
  http::Server server(options, std::move(router));
  if (auto r = server.start(); !r) return fail(r.error());
  core::log::info("server.started", {{"http_listen", cfg->server.http_listen},
                                     {"port", static_cast<std::int64_t>(server.port())},
                                     {"data_dir", cfg->data_dir},
                                     {"store", rt->store->backend_name()},
                                     {"keys", rt->keys->backend_name()},
                                     {"cache", rt->cache->backend_name()},
                                     {"jobs", cfg->jobs.in_server}});
  const int sig = wait_for_shutdown(signals);
  core::log::info("server.stopping", {{"signal", sig}});
  jobs.stop();
  server.stop();
  core::log::info("server.stopped");
  return kOk;
}

int run_worker(const CommandContext& ctx) {
  auto cfg = core::load_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  core::log::Level level = core::log::Level::info;
  core::log::parse_level(cfg->log.level, level);
  core::log::init(level, core::log::Sink::stdout_sink);
  auto rt = app::open_runtime(*cfg, "worker", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  // Pre-signed answers are only worth making where servers read them: a shared cache.
  std::optional<ocsp::CachedSources> sources;
  if (rt->cache_is_shared()) {
    auto s = rt->ocsp_sources();
    if (!s) return fail(s.error());
    sources = std::move(*s);
  }
  const sigset_t signals = block_shutdown_signals();
  app::JobRunner jobs(*rt->clock);
  app::add_standard_jobs(jobs, *rt, sources ? &*sources : nullptr);
  jobs.start();
  core::log::info("worker.started", {{"data_dir", cfg->data_dir}, {"cache", rt->cache->backend_name()}});
  const int sig = wait_for_shutdown(signals);
  core::log::info("worker.stopping", {{"signal", sig}});
  jobs.stop();
  return kOk;
}

}  // namespace

void add_serve_command(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "run the server (until SIGTERM/SIGINT)");
  cmd->add_option("--listen-http", o->listen_http, "plain-HTTP listener for OCSP, CRL, caIssuers (server.http_listen)");
  cmd->add_option("--threads", o->threads, "worker threads (default: one per core)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_serve(ctx, *o); });

  auto* worker = app.add_subcommand("worker", "run the periodic jobs (CRLs, OCSP pre-signing) until SIGTERM/SIGINT");
  worker->callback([&ctx] { ctx.exit_code = run_worker(ctx); });
}

}  // namespace cartorio::cli
