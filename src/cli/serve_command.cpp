// `cartorio serve`: the server. This version runs the plain-HTTP listener (CA certificates,
// CRLs, OCSP, health) and, with jobs.in_server, the periodic jobs; the HTTPS API listener
// joins it on the same server code. `cartorio worker`: the jobs alone, for deployments
// that run them apart from the servers.
#include "api/audit_routes.h"
#include "api/certificate_routes.h"
#include "api/identity_routes.h"
#include "api/job_routes.h"
#include "api/openapi.h"
#include "api/ocsp_routes.h"
#include "api/rate_limiter.h"
#include "api/secured_router.h"
#include "api/public_pki_routes.h"
#include "api/transparency_routes.h"
#include "api/portal_routes.h"
#include "api/session_routes.h"
#include "api/tsa_routes.h"
#include "api/document_routes.h"
#include "api/secret_routes.h"
#include "app/acme_setup.h"
#include "app/audit_logs.h"
#include "app/audit_shipping.h"
#include "app/backup.h"
#include "app/certificate_renewal.h"
#include "app/document_stack.h"
#include "app/identity_setup.h"
#include "app/jobs.h"
#include "app/runtime.h"
#include "app/secrets_setup.h"
#include "app/server_certificate.h"
#include "app/server_identity.h"
#include "metrics/metrics.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "core/log.h"
#include "http/server.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
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
  std::string listen;
  unsigned threads = 0;
};

std::function<void(const http::ServerOptions::Completed&)> record_metrics(std::string listener) {
  return [listener = std::move(listener)](const http::ServerOptions::Completed& c) {
    metrics::observe_http_request(listener, std::string(c.method), c.route.empty() ? "unmatched" : std::string(c.route),
                                  c.status, c.duration);
  };
}

int run_serve(const CommandContext& ctx, const ServeOptions& o) {
  auto cfg = core::load_config(resolve_data_dir(ctx.data_dir_flag));
  if (!cfg) return fail(cfg.error());
  core::log::Level level = core::log::Level::info;
  core::log::parse_level(cfg->log.level, level);
  core::log::init(level, core::log::Sink::stdout_sink);  // the server logs to stdout
  if (!o.listen_http.empty()) cfg->server.http_listen = o.listen_http;
  if (!o.listen.empty()) cfg->server.listen = o.listen;
  const unsigned threads = o.threads ? o.threads : static_cast<unsigned>(cfg->server.threads);

  auto rt = app::open_runtime(*cfg, "server", app::OpenMode::existing);
  if (!rt) return fail(rt.error());
  if (auto h = rt->hierarchy(); !h) return fail(h.error());

  auto ocsp_sources = rt->ocsp_sources();
  if (!ocsp_sources) return fail(ocsp_sources.error());

  http::Router router;
  if (auto r = api::add_health_routes(router, *rt->store, *rt->keys, *rt->cache); !r) return fail(r.error());
  if (auto r = api::add_public_pki_routes(router, *rt->store, *rt->objects); !r) return fail(r.error());
  if (auto r = api::add_ocsp_routes(router, ocsp_sources->sources, *rt->clock); !r) return fail(r.error());
  // Flow 1 (documents) and the own RFC 3161 TSA, public on both listeners (a token is a
  // signed object, like OCSP). B-LT validation data comes from the sources served here.
  auto documents = app::open_document_stack(*rt, &ocsp_sources->sources);
  if (!documents) return fail(documents.error());
  const std::shared_ptr<const tsa::TimeStampAuthority> timestamps = (*documents)->authority;
  if (auto r = api::add_tsa_routes(router, timestamps); !r) return fail(r.error());
  // The audit trail and the public transparency log (docs/audit.md).
  auto logs = app::open_audit_logs(*rt);
  if (!logs) return fail(logs.error());
  const api::TransparencyServices transparency{rt->store.get(), (*logs)->transparency_heads.get(),
                                               (*logs)->public_key_pem};
  if (auto r = api::add_transparency_routes(router, transparency); !r) return fail(r.error());
  if (auto r = router.get("/metrics", [&rt](const http::Request&) {
        // Last successes come from job_runs: the jobs may run in a worker, not here.
        app::refresh_job_metrics(*rt->store);
        return http::Response::bytes("text/plain; version=0.0.4; charset=utf-8", metrics::registry().render());
      });
      !r)
    return fail(r.error());

  // The HTTPS API listener: its certificate is the managed secret server-tls (issued now when
  // absent or unusable), renewed by cert-expiry-check and reloaded by tls.reload below.
  auto server_certificate = std::make_shared<app::ServerCertificateSource>(*rt);
  auto server_identity = server_certificate->load();
  if (!server_identity) return fail(server_identity.error());
  auto tls = app::tls_options(*rt, *server_identity);
  if (!tls) return fail(tls.error());
  auto hierarchy = rt->hierarchy();
  if (!hierarchy) return fail(hierarchy.error());
  auto identity = app::open_identity(*rt);
  if (!identity) return fail(identity.error());
  api::RateLimits limits;
  limits.per_ip = {cfg->limits.per_ip_burst, static_cast<double>(cfg->limits.per_ip_per_second)};
  limits.per_client = {cfg->limits.per_client_burst, static_cast<double>(cfg->limits.per_client_per_second)};
  api::RateLimiter limiter(*rt->cache, limits);
  api::AuthContext auth;
  auth.authenticator = identity->get();
  auth.client_certificates = [&rt](const http::ClientCertificate& c) {
    return app::principal_for_client_certificate(*rt->store, c);
  };
  auth.audit = rt->store.get();
  // Declared before the servers: destroyed after them, writing what is still queued.
  audit::AsyncAuditWriter access_trail(*rt->store);
  auth.access_trail = &access_trail;
  auth.clock = rt->clock.get();
  auth.rate_limiter = &limiter;
  // The web portal's cookie sessions (docs/portal.md).
  auth.session_csrf_ok = [id = identity->get()](std::string_view token, std::string_view csrf) {
    return id->session_csrf_token_ok(token, csrf);
  };
  http::Router api_router;
  api::SecuredRouter secured(api_router, auth);
  if (auto r = api::add_health_routes(api_router, *rt->store, *rt->keys, *rt->cache); !r) return fail(r.error());
  api::CertificateServices services;
  const auto shared_hierarchy = std::make_shared<const pki::Hierarchy>(std::move(*hierarchy));
  services.hierarchy = shared_hierarchy;
  services.keys = rt->keys.get();
  services.store = rt->store.get();
  services.clock = rt->clock.get();
  services.urls = rt->urls();
  const ocsp::CachedSources* own_sources = &*ocsp_sources;
  services.revoke = [&rt, own_sources](const std::string& serial, int reason, const std::string& actor,
                                      const std::string& source) -> core::Result<store::CertificateRecord> {
    CARTORIO_TRY(auto revoked, app::revoke_certificate(*rt, serial, reason, actor, source, own_sources));
    for (const auto& w : revoked.warnings) core::log::warn("certificate.revoke_followup", {{"problem", w}});
    return revoked.record;
  };
  const api::RevokeFunction revoke = services.revoke;
  if (auto r = api::add_certificate_routes(secured, std::move(services)); !r) return fail(r.error());
  if (auto r = api::add_identity_routes(secured, **identity, auth.client_certificates); !r) return fail(r.error());
  if (auto r = api::add_session_routes(secured, **identity); !r) return fail(r.error());
  if (auto r = api::add_portal_routes(api_router); !r) return fail(r.error());
  if (auto r = api::add_openapi_route(secured); !r) return fail(r.error());
  if (auto r = api::add_tsa_routes(secured, timestamps); !r) return fail(r.error());
  if (auto r = api::add_transparency_routes(secured, transparency); !r) return fail(r.error());
  if (auto r = api::add_audit_routes(secured, {rt->store.get(), (*logs)->audit_heads.get()}); !r)
    return fail(r.error());
  api::DocumentRouteServices document_routes;
  document_routes.service = (*documents)->service.get();
  document_routes.links = &*(*documents)->links;
  document_routes.documents = rt->store.get();
  document_routes.verify = [&docs = **documents](std::string_view pdf) {
    return signing::verify_pdf(crypto::as_bytes(pdf), docs.verify_options);
  };
  document_routes.max_pdf_bytes = static_cast<std::size_t>(cfg->documents.max_pdf_bytes);
  document_routes.link_lifetime = std::chrono::minutes(cfg->documents.download_link_minutes);
  document_routes.clock = rt->clock.get();
  if (auto r = api::add_document_routes(secured, std::move(document_routes)); !r) return fail(r.error());
  auto secret_manager = app::open_secret_manager(*rt, identity->get());
  if (auto r = api::add_secret_routes(secured, secret_manager.get()); !r) return fail(r.error());
  // ACME on the TLS CA (docs/acme.md): JWS-authenticated, so beside SecuredRouter, not in it.
  // Declared before the servers: its validation threads stop after they do.
  auto acme_server = app::open_acme_server(*rt, shared_hierarchy, revoke, *secret_manager);
  if (!acme_server) return fail(acme_server.error());
  if (*acme_server) {
    if (auto r = (*acme_server)->add_routes(api_router); !r) return fail(r.error());
  }

  const sigset_t signals = block_shutdown_signals();
  auto job_options = app::job_runner_options(*rt);
  if (!job_options) return fail(job_options.error());
  app::JobRunner jobs(*rt->clock, std::move(*job_options));
  if (cfg->jobs.in_server) {
    app::add_standard_jobs(jobs, *rt, &*ocsp_sources);
    app::add_audit_jobs(jobs, *rt, **logs);
    app::add_secret_rotation_job(jobs, *rt, *secret_manager);
    app::add_certificate_renewal_job(jobs, *rt, *secret_manager);
    app::add_backup_job(jobs, *rt);
    if (auto r = app::add_audit_shipping_job(jobs, *rt); !r) return fail(r.error());
  }
  auto scheduled = [&jobs] {
    std::vector<api::ScheduledJob> out;
    for (const auto& j : jobs.status())
      out.push_back({j.name, j.schedule, j.per_process,
                     j.next_due == core::TimePoint::max() ? std::nullopt : std::optional(j.next_due), j.running});
    return out;
  };
  if (auto r = api::add_job_routes(secured, rt->store.get(), scheduled); !r) return fail(r.error());

  http::ServerOptions options;
  options.listen = cfg->server.http_listen;
  options.threads = threads;
  options.observer = record_metrics("http");
  http::Server server(options, std::move(router));
  if (auto r = server.start(); !r) return fail(r.error());

  http::ServerOptions https;
  https.listen = cfg->server.listen;
  https.threads = threads;
  // PDF uploads (documents, verify); JSON bodies keep their own 1 MiB bound (api/json_body.h).
  https.max_body_bytes = std::max<std::size_t>(https.max_body_bytes,
                                               static_cast<std::size_t>(cfg->documents.max_pdf_bytes) + 64 * 1024);
  https.tls = std::move(*tls);
  https.admission = [&limiter](const http::Request& req) { return limiter.check_ip(req.remote_address()); };
  https.observer = record_metrics("https");
  http::Server api_server(https, std::move(api_router));
  if (auto r = api_server.start(); !r) return fail(r.error());

  // Picks a renewed server-tls up without a restart (every renewal.reload_seconds).
  app::add_tls_reload_job(jobs, *rt, server_certificate,
                          [&api_server](const http::TlsIdentity& id) { return api_server.set_tls_identity(id); });
  jobs.start();

  core::log::info("server.started", {{"http_listen", cfg->server.http_listen},
                                     {"port", static_cast<std::int64_t>(server.port())},
                                     {"listen", cfg->server.listen},
                                     {"https_port", static_cast<std::int64_t>(api_server.port())},
                                     {"data_dir", cfg->data_dir},
                                     {"store", rt->store->backend_name()},
                                     {"keys", rt->keys->backend_name()},
                                     {"cache", rt->cache->backend_name()},
                                     {"jobs", cfg->jobs.in_server}});
  const int sig = wait_for_shutdown(signals);
  core::log::info("server.stopping", {{"signal", sig}});
  jobs.stop();
  api_server.stop();
  server.stop();
  core::log::info("server.stopped");
  return kOk;
}

struct WorkerOptions {
  std::string once;  // run this job now and exit
  bool list = false;
};

int run_worker(const CommandContext& ctx, const WorkerOptions& o) {
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
  // What the jobs borrow is declared before the runner, so it outlives the runner's thread.
  auto logs = app::open_audit_logs(*rt);
  if (!logs) return fail(logs.error());
  auto identity = app::open_identity(*rt);
  if (!identity) return fail(identity.error());
  auto secret_manager = app::open_secret_manager(*rt, identity->get());
  auto job_options = app::job_runner_options(*rt);
  if (!job_options) return fail(job_options.error());
  app::JobRunner jobs(*rt->clock, std::move(*job_options));
  app::add_standard_jobs(jobs, *rt, sources ? &*sources : nullptr);
  app::add_audit_jobs(jobs, *rt, **logs);
  app::add_secret_rotation_job(jobs, *rt, *secret_manager);
  app::add_certificate_renewal_job(jobs, *rt, *secret_manager);
  app::add_backup_job(jobs, *rt);
  if (auto r = app::add_audit_shipping_job(jobs, *rt); !r) return fail(r.error());
  if (!o.once.empty()) {
    // One manual run, locked and recorded like a scheduled one; the exit code says how it went.
    auto r = jobs.run_now(o.once);
    if (!r) return fail(r.error());
    std::cout << "{\"job\": \"" << o.once << "\", \"result\": \"success\"}\n";
    return kOk;
  }
  if (o.list) {
    for (const auto& j : jobs.status()) std::cout << j.name << "\t" << j.schedule << "\n";
    return kOk;
  }
  const sigset_t signals = block_shutdown_signals();
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
  cmd->add_option("--listen", o->listen, "HTTPS API listener (server.listen)");
  cmd->add_option("--threads", o->threads, "worker threads per listener (default: server.threads, else one per core)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_serve(ctx, *o); });

  auto w = std::make_shared<WorkerOptions>();
  auto* worker = app.add_subcommand("worker", "run the scheduled jobs until SIGTERM/SIGINT (docs/jobs.md)");
  worker->add_option("--once", w->once, "run this job now (locked and recorded like a scheduled run), then exit");
  worker->add_flag("--list", w->list, "list the jobs and their schedules, then exit");
  worker->callback([&ctx, w] { ctx.exit_code = run_worker(ctx, *w); });
}

}  // namespace cartorio::cli
