// Renewal of managed TLS certificates (cert-expiry-check) on a real installation in a temp
// dir — SQLite, software keys, filesystem object store, a hierarchy made by the ceremony —
// driven by a ManualClock: what is due, renewal as new secret versions with the same names,
// the deploy command (its environment and 0600 chain file, judged by the command itself),
// the deploy and failure webhooks received by a real local HTTP server, `serve`'s reload
// source, and a CA whose key is unavailable.
#include "app/certificate_renewal.h"
#include "app/deploy_command.h"
#include "app/managed_certificate.h"
#include "app/secrets_setup.h"
#include "app/server_certificate.h"
#include "crypto/x509.h"
#include "http/server.h"
#include "http/webhook_client.h"
#include "pki/ceremony.h"
#include "pki/certificate_json.h"
#include "support/loopback_http.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

namespace cartorio::app {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::read_file;
using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

constexpr std::int64_t kStart = 1'900'000'000;  // 2030-03-17
constexpr auto kDay = std::chrono::hours(24);

// A local HTTP receiver for webhooks: records every POST body; answers `status`.
class Receiver {
 public:
  Receiver() {
    http::Router router;
    EXPECT_TRUE(router.post("/hook", [this](const http::Request& req) {
      std::lock_guard lock(m_mutex);
      m_bodies.push_back(json::parse(req.body(), nullptr, false));
      return http::Response::text("", m_status);
    }));
    m_server = cartorio::testing::start_loopback_server(std::move(router));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/hook"; }
  std::vector<json> bodies() {
    std::lock_guard lock(m_mutex);
    return m_bodies;
  }
  void answer(int status) {
    std::lock_guard lock(m_mutex);
    m_status = status;
  }

 private:
  std::mutex m_mutex;
  std::vector<json> m_bodies;
  int m_status = 204;
  std::unique_ptr<http::Server> m_server;
};

class CertificateRenewalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = core::load_config((m_dir.path() / "data").string(), [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(cfg) << cfg.error().to_string();
    m_config = std::move(*cfg);
    m_config.server.tls_names = "localhost,127.0.0.1";
    m_config.server.tls_certificate_days = 90;
    m_config.renewal.retry_attempts = 2;
    m_config.renewal.retry_backoff_seconds = 0;
    m_config.renewal.hook_timeout_seconds = 10;
    m_config.renewal.deploy_webhook = m_receiver.url();
    m_config.renewal.failure_webhook = m_receiver.url();
    // The deploy command writes what it was given where the test can judge it.
    m_deployed = m_dir.path() / "deployed";
    fs::create_directories(m_deployed);
    const auto script = m_dir.path() / "deploy.sh";
    write_file(script,
               "#!/bin/sh\nset -e\nout=\"" + m_deployed.string() + "/$CARTORIO_CERT_NAME.$CARTORIO_CERT_VERSION\"\n"
               "printf 'kind=%s\\nserial=%s\\nnot_after=%s\\nchain_file=%s\\nmode=%s\\n' \"$CARTORIO_CERT_KIND\" "
               "\"$CARTORIO_CERT_SERIAL\" \"$CARTORIO_CERT_NOT_AFTER\" \"$CARTORIO_CERT_CHAIN_FILE\" "
               "\"$(stat -c %a \"$CARTORIO_CERT_CHAIN_FILE\")\" > \"$out.env\"\n"
               "cp \"$CARTORIO_CERT_CHAIN_FILE\" \"$out.pem\"\n");
    fs::permissions(script, fs::perms::owner_all);
    m_config.renewal.deploy_command = script.string() + " --from-test";

    fs::create_directories(m_config.data_dir);
    write_file(fs::path(m_config.data_dir) / "config.toml", core::render_config_toml(m_config));
    auto clock = std::make_unique<core::ManualClock>(core::from_unix(kStart));
    m_clock = clock.get();
    auto rt = open_runtime(m_config, "test", OpenMode::create, std::move(clock));
    ASSERT_TRUE(rt) << rt.error().to_string();
    m_rt = std::make_unique<Runtime>(std::move(*rt));
    auto options = m_rt->hierarchy_options();
    options.root_algorithm = crypto::KeyAlgorithm::ec_p256;  // fast; the profile rules are the same
    options.intermediate_algorithm = crypto::KeyAlgorithm::ec_p256;
    options.tsa_algorithm = crypto::KeyAlgorithm::ec_p256;
    pki::Ceremony ceremony(*m_rt->keys, *m_rt->store, *m_rt->clock, options);
    auto init = ceremony.init("renewal test passphrase 2030");
    ASSERT_TRUE(init) << init.error().to_string();
    m_manager = open_secret_manager(*m_rt, nullptr);
  }

  std::unique_ptr<CertificateRenewer> renewer(const Runtime& rt, secrets::SecretManager& manager) {
    return std::make_unique<CertificateRenewer>(rt, manager, RenewalSettings::from(rt.config));
  }

  std::string latest_serial(const std::string& name) {
    auto secret = m_rt->secrets->read(name);
    EXPECT_TRUE(secret) << secret.error().to_string();
    if (!secret) return "";
    auto cert = parse_managed_certificate(secret->value);
    EXPECT_TRUE(cert) << cert.error().to_string();
    return cert ? cert->serial : "";
  }

  std::map<std::string, std::string> read_env_file(const fs::path& p) {
    std::map<std::string, std::string> out;
    std::istringstream in(read_file(p));
    for (std::string line; std::getline(in, line);)
      if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    return out;
  }

  TempDir m_dir;
  Receiver m_receiver;
  fs::path m_deployed;
  core::Config m_config;
  core::ManualClock* m_clock = nullptr;
  std::unique_ptr<Runtime> m_rt;
  std::unique_ptr<secrets::SecretManager> m_manager;
};

TEST(RenewalDue, WindowBeforeExpiryOrTwoThirdsOfAShortLife) {
  const auto start = core::from_unix(kStart);
  EXPECT_EQ(renewal_due_at(start, start + 90 * kDay, 30 * kDay), start + 60 * kDay);
  EXPECT_EQ(renewal_due_at(start, start + 365 * kDay, 30 * kDay), start + 335 * kDay);
  // A 7-day certificate under a 30-day window: after two thirds of its life, not at once.
  EXPECT_EQ(renewal_due_at(start, start + 9 * kDay, 30 * kDay), start + 6 * kDay);
}

TEST(DeployCommand, SplitsWithoutAShell) {
  EXPECT_EQ(split_command("  /bin/echo  a\t$HOME 'b c' "),
            (std::vector<std::string>{"/bin/echo", "a", "$HOME", "'b", "c'"}));
  EXPECT_TRUE(split_command("   ").empty());
}

TEST(DeployCommand, ReportsExitCodeOutputAndTimeout) {
  TempDir dir;
  const auto marker = dir.path() / "marker";
  auto ok = run_command({{"/bin/sh", "-c", "printf %s \"$GREETING\" > " + marker.string()}, {{"GREETING", "olá"}}, 10s});
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(read_file(marker), "olá");

  auto failed = run_command({{"/bin/sh", "-c", "echo 'cannot reach the balancer' >&2; exit 3"}, {}, 10s});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, core::Errc::io_error);
  testing::expect_contains(failed.error().message, "exited with 3");
  testing::expect_contains(failed.error().message, "cannot reach the balancer");

  auto missing = run_command({{"/nonexistent/deploy"}, {}, 10s});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::Errc::io_error);

  // Killed with what it started (its process group) once past the limit.
  auto slow = run_command({{"/bin/sh", "-c", "sleep 30 & wait"}, {}, 300ms});
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, core::Errc::timed_out);
}

TEST(Webhook, PostsJsonAndReportsRefusals) {
  Receiver receiver;
  ASSERT_TRUE(http::post_json(receiver.url(), R"({"a":1})", 5s));
  ASSERT_EQ(receiver.bodies().size(), 1u);
  EXPECT_EQ(receiver.bodies()[0]["a"], 1);
  receiver.answer(500);
  auto refused = http::post_json(receiver.url(), "{}", 5s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::io_error);
  testing::expect_contains(refused.error().message, "HTTP 500");
  EXPECT_EQ(http::redacted_url("https://user:pw@hooks.example/T0K3N?x=1"), "https://hooks.example");
}

TEST_F(CertificateRenewalTest, ServerCertificateIsIssuedOnceThenLoaded) {
  ServerCertificateSource first(*m_rt);
  auto a = first.load();
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(first.version(), 1);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(a->not_after - a->not_before), 90 * kDay);
  ServerCertificateSource second(*m_rt);  // another instance, or a restart
  auto b = second.load();
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(second.version(), 1);
  EXPECT_EQ(crypto::serial_hex(a->tls.certificate.get()), crypto::serial_hex(b->tls.certificate.get()));
  auto info = m_rt->secrets->latest(secrets::kServerCertificate);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, secrets::Kind::server_certificate);
  EXPECT_EQ(info->rotation_days, 0);  // renewed by expiry, not by the secret-rotation schedule
}

TEST_F(CertificateRenewalTest, RenewsWhatIsDueDeploysAndServeReloads) {
  ServerCertificateSource serve(*m_rt);
  ASSERT_TRUE(serve.load());
  const secrets::Caller who{"test", "local", ""};
  auto managed = manage_tls_certificate(*m_rt, "api-gateway",
                                        {{pki::SanKind::dns, "gw.example.test"}, {pki::SanKind::ip, "10.1.2.3"}}, 60, who);
  ASSERT_TRUE(managed) << managed.error().to_string();
  EXPECT_ERRC(manage_tls_certificate(*m_rt, "api-gateway", {{pki::SanKind::dns, "x.example.test"}}, 60, who),
              core::Errc::already_exists);
  const std::string server_v1 = latest_serial("server-tls");
  const std::string gateway_v1 = latest_serial("api-gateway");
  auto r = renewer(*m_rt, *m_manager);

  // The 60-day certificate is due after 40 days (a 30-day window would be half its life).
  m_clock->advance(39 * kDay);
  auto report = r->run(false, who);
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->checked.size(), 2u);
  EXPECT_TRUE(report->outcomes.empty());
  m_clock->advance(2 * kDay);
  report = r->run(false, who);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->outcomes.size(), 1u);
  EXPECT_EQ(report->outcomes[0].name, "api-gateway");
  // 31 days before the server certificate's end: not yet.
  m_clock->advance(18 * kDay);
  report = r->run(false, who);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->outcomes.empty());
  // 29 days before.
  m_clock->advance(2 * kDay);
  report = r->run(false, who);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->outcomes.size(), 1u);
  const auto& renewed = report->outcomes[0];
  EXPECT_EQ(renewed.name, "server-tls");
  EXPECT_FALSE(renewed.failed()) << renewed.error.to_string();
  EXPECT_EQ(renewed.version, 2);
  EXPECT_NE(renewed.serial, server_v1);
  EXPECT_EQ(latest_serial("server-tls"), renewed.serial);
  EXPECT_EQ(report->failures(), 0u);

  // Same names, new key, from the TLS CA, recorded by the issuer.
  auto gateway = m_rt->secrets->read("api-gateway");
  ASSERT_TRUE(gateway);
  EXPECT_EQ(gateway->info.version, 2);
  auto gw_new = parse_managed_certificate(gateway->value);
  ASSERT_TRUE(gw_new);
  EXPECT_NE(gw_new->serial, gateway_v1);
  auto rec = m_rt->store->get_certificate(gw_new->serial);
  ASSERT_TRUE(rec) << rec.error().to_string();
  EXPECT_EQ(rec->issuer, "tls");
  EXPECT_EQ(rec->profile, "tls-server");
  EXPECT_EQ(rec->sans, (std::vector<std::string>{"DNS:gw.example.test", "IP:10.1.2.3"}));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(gw_new->not_after - gw_new->not_before), 60 * kDay);

  // The deploy command ran for each with the right environment and a 0600 chain file
  // (holding the certificate and its chain, never the key) that is gone afterwards.
  for (const auto& [name, serial] : {std::pair<std::string, std::string>{"server-tls", renewed.serial},
                                     {"api-gateway", gw_new->serial}}) {
    auto env = read_env_file(m_deployed / (name + ".2.env"));
    EXPECT_EQ(env["serial"], serial) << name;
    EXPECT_EQ(env["mode"], "600") << name;
    EXPECT_EQ(env["kind"], name == "server-tls" ? "server-certificate" : "tls-certificate");
    EXPECT_FALSE(env["chain_file"].empty());
    EXPECT_FALSE(fs::exists(env["chain_file"])) << "the chain file was left behind";
    const std::string pem = read_file(m_deployed / (name + ".2.pem"));
    EXPECT_EQ(pem.find("PRIVATE KEY"), std::string::npos);
    auto chain = crypto::parse_certificate_chain(pem);
    ASSERT_TRUE(chain);
    EXPECT_EQ(chain->size(), 3u);  // leaf, TLS CA, root
    EXPECT_EQ(crypto::serial_hex(chain->front().get()), serial);
  }
  // ... and the deploy webhook got each renewal.
  auto posted = m_receiver.bodies();
  ASSERT_EQ(posted.size(), 2u);
  EXPECT_EQ(posted[0]["event"], "certificate.renewed");
  EXPECT_EQ(posted[0]["name"], "api-gateway");
  EXPECT_EQ(posted[1]["name"], "server-tls");
  EXPECT_EQ(posted[1]["version"], 2);
  EXPECT_EQ(posted[1]["serial"], renewed.serial);
  EXPECT_EQ(posted[1]["not_after"], pki::iso8601(core::to_unix(renewed.not_after)));

  // A running server's source sees version 2 once, with the new certificate and its key.
  auto next = serve.refresh();
  ASSERT_TRUE(next) << next.error().to_string();
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(crypto::serial_hex((*next)->tls.certificate.get()), renewed.serial);
  EXPECT_EQ(serve.version(), 2);
  auto again = serve.refresh();
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  // Not due any more.
  report = r->run(false, who);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->outcomes.empty());
}

TEST_F(CertificateRenewalTest, UnavailableCaKeyIsRetriedThenNotified) {
  ServerCertificateSource serve(*m_rt);
  ASSERT_TRUE(serve.load());
  // The same installation with the CA keys out of reach (an empty key directory).
  core::Config cfg = m_config;
  cfg.keys.software_dir = (m_dir.path() / "no-keys").string();
  auto rt = open_runtime(cfg, "worker", OpenMode::existing,
                         std::make_unique<core::ManualClock>(core::from_unix(kStart) + 61 * kDay));
  ASSERT_TRUE(rt) << rt.error().to_string();
  auto manager = open_secret_manager(*rt, nullptr);
  auto r = std::make_shared<CertificateRenewer>(*rt, *manager, RenewalSettings::from(rt->config));

  auto report = r->run(false, {"test", "local", ""});
  ASSERT_TRUE(report) << report.error().to_string();
  ASSERT_EQ(report->outcomes.size(), 1u);
  EXPECT_TRUE(report->outcomes[0].failed());
  EXPECT_EQ(report->outcomes[0].stage, "renew");
  EXPECT_EQ(report->failures(), 1u);
  auto posted = m_receiver.bodies();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(posted[0]["job"], "cert-expiry-check");
  EXPECT_EQ(posted[0]["certificate"], "server-tls");
  EXPECT_EQ(posted[0]["stage"], "renew");
  EXPECT_EQ(posted[0]["code"], std::string(core::errc_name(report->outcomes[0].error.code)));
  EXPECT_FALSE(posted[0]["message"].get<std::string>().empty());
  EXPECT_EQ(posted[0]["attempt"], 2);  // renewal.retry_attempts tries in this run

  // The job fails (the scheduler retries it), and the count of failed attempts goes on.
  auto job = certificate_renewal_job(*rt, r);
  EXPECT_EQ(job.name, "cert-expiry-check");
  EXPECT_EQ(job.interval, std::chrono::hours(24));
  EXPECT_FALSE(job.run());
  posted = m_receiver.bodies();
  ASSERT_EQ(posted.size(), 2u);
  EXPECT_EQ(posted[1]["attempt"], 4);
  // Nothing was written: version 1 is still the latest.
  auto info = m_rt->secrets->latest(secrets::kServerCertificate);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, 1);
}

TEST_F(CertificateRenewalTest, DeployFailureIsNotifiedAndNotRenewedAgain) {
  ServerCertificateSource serve(*m_rt);
  ASSERT_TRUE(serve.load());
  m_rt->config.renewal.deploy_command = "/bin/false";
  m_rt->config.renewal.deploy_webhook.clear();
  auto r = renewer(*m_rt, *m_manager);
  m_clock->advance(61 * kDay);
  auto report = r->run(false, {"test", "local", ""});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->outcomes.size(), 1u);
  EXPECT_EQ(report->outcomes[0].stage, "deploy");
  EXPECT_EQ(report->outcomes[0].version, 2);  // renewed all the same
  auto posted = m_receiver.bodies();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(posted[0]["stage"], "deploy");
  testing::expect_contains(posted[0]["message"].get<std::string>(), "renewed as version 2 but not deployed");
  report = r->run(false, {"test", "local", ""});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->outcomes.empty());
}

TEST_F(CertificateRenewalTest, DryRunChangesNothing) {
  ServerCertificateSource serve(*m_rt);
  ASSERT_TRUE(serve.load());
  m_clock->advance(80 * kDay);
  auto report = renewer(*m_rt, *m_manager)->run(true, {"test", "local", ""});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->checked.size(), 1u);
  EXPECT_TRUE(report->checked[0].due);
  EXPECT_TRUE(report->outcomes.empty());
  EXPECT_TRUE(m_receiver.bodies().empty());
  EXPECT_EQ(m_rt->secrets->latest("server-tls")->version, 1);
}

}  // namespace
}  // namespace cartorio::app
