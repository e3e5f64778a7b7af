// Certificate issuance in process, with auditing on and off (docs/benchmarks.md, "Auditing
// and issuance"). Both issue through pki::CertificateIssuer into the installation's SQLite
// store (CARTORIO_DATA_DIR, made by `cartorio init`): one TLS certificate per iteration from
// one EC P-256 CSR, the certificate and its transparency entry in one transaction.
//   audit_on:  as `serve` runs it: the audited key store, the key.use event committed with
//              the certificate, the per-call event SecuredRouter writes (through the
//              AsyncAuditWriter), and a thread signing tree heads of both logs every
//              --heads_ms milliseconds (default 1000; `serve` signs every 300 s);
//   audit_off: the key backend itself, the certificate stored without any event, no
//              per-call event, no tree heads.
#include "app/audit_logs.h"
#include "app/runtime.h"
#include "audit/async_audit_writer.h"
#include "core/config.h"
#include "core/log.h"
#include "crypto/key_pair.h"
#include "crypto/x509.h"
#include "keys/software/software_key_store.h"
#include "pki/certificate_issuer.h"

#include <benchmark/benchmark.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace {

using namespace cartorio;

int g_heads_ms = 1000;

struct Shared {
  std::optional<app::Runtime> rt;
  std::unique_ptr<keys::KeyStore> raw_keys;  // the backend without the audit decorator
  std::optional<pki::Hierarchy> hierarchy;
  std::unique_ptr<app::AuditLogs> logs;
  std::string csr;
  std::string error;
};

std::string make_csr() {
  auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  X509_REQ* req = X509_REQ_new();
  X509_NAME* name = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("bench.cartorio.test"),
                             -1, -1, 0);
  X509_REQ_set_pubkey(req, key->get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                                   const_cast<char*>("DNS:bench.cartorio.test")));
  X509_REQ_add_extensions(req, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req, key->get(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  X509_REQ_free(req);
  return pem;
}

Shared& shared() {
  static Shared s = [] {
    Shared out;
    const char* dir = std::getenv("CARTORIO_DATA_DIR");
    if (!dir) return out.error = "CARTORIO_DATA_DIR is not set", std::move(out);
    auto cfg = core::load_config(dir);
    if (!cfg) return out.error = cfg.error().to_string(), std::move(out);
    auto rt = app::open_runtime(*cfg, "bench", app::OpenMode::existing);
    if (!rt) return out.error = rt.error().to_string(), std::move(out);
    out.rt.emplace(std::move(*rt));
    keys::SoftwareKeyStoreOptions ko;
    ko.directory = cfg->path(cfg->keys.software_dir);
    ko.master_key_file = cfg->path(cfg->keys.master_key_file);
    auto raw = keys::SoftwareKeyStore::open(std::move(ko));
    if (!raw) return out.error = raw.error().to_string(), std::move(out);
    out.raw_keys = std::move(*raw);
    auto h = out.rt->hierarchy();
    if (!h) return out.error = h.error().to_string(), std::move(out);
    out.hierarchy.emplace(std::move(*h));
    auto logs = app::open_audit_logs(*out.rt);
    if (!logs) return out.error = logs.error().to_string(), std::move(out);
    out.logs = std::move(*logs);
    out.csr = make_csr();
    return out;
  }();
  return s;
}

// The certificate repository with auditing off: stores the certificate, drops its events.
class Unaudited final : public store::CertificateRepository {
 public:
  explicit Unaudited(store::CertificateRepository& inner) : m_inner(inner) {}
  core::Result<void> insert_certificate(const store::CertificateRecord& rec,
                                        const std::vector<store::AuditEvent>&) override {
    return m_inner.insert_certificate(rec, {});
  }
  core::Result<store::CertificateRecord> get_certificate(const std::string& serial) override {
    return m_inner.get_certificate(serial);
  }
  core::Result<std::vector<store::CertificateRecord>> list_certificates(const store::CertificateFilter& f) override {
    return m_inner.list_certificates(f);
  }
  core::Result<std::int64_t> count_certificates() override { return m_inner.count_certificates(); }
  core::Result<void> revoke_certificate(const std::string& serial, int reason, std::int64_t at) override {
    return m_inner.revoke_certificate(serial, reason, at);
  }

 private:
  store::CertificateRepository& m_inner;
};

// Signs tree heads of both logs every second while it lives.
class Checkpointer {
 public:
  explicit Checkpointer(app::AuditLogs& logs)
      : m_thread([this, &logs] {
          while (!m_stop.load()) {
            for (auto* heads : {logs.transparency_heads.get(), logs.audit_heads.get()})
              if (auto r = heads->publish_if_grown(); !r) m_failed = true;
            for (int i = 0; i < g_heads_ms / 10 && !m_stop.load(); ++i)
              std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        }) {}
  ~Checkpointer() {
    m_stop = true;
    m_thread.join();
  }
  bool failed() const { return m_failed.load(); }

 private:
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_failed{false};
  std::thread m_thread;
};

void BM_Issue(benchmark::State& state) {
  Shared& s = shared();
  if (!s.error.empty()) return state.SkipWithError(s.error.c_str());
  const bool audited = state.range(0) == 1;
  static std::unique_ptr<Checkpointer> heads;
  static std::unique_ptr<audit::AsyncAuditWriter> access_trail;
  if (audited && state.thread_index() == 0) {
    heads = std::make_unique<Checkpointer>(*s.logs);
    access_trail = std::make_unique<audit::AsyncAuditWriter>(*s.rt->store);
  }
  keys::KeyStore& keys = audited ? *s.rt->keys : *s.raw_keys;
  Unaudited unaudited(*s.rt->store);
  store::CertificateRepository& certs = audited ? static_cast<store::CertificateRepository&>(*s.rt->store)
                                                : static_cast<store::CertificateRepository&>(unaudited);
  pki::CertificateIssuer issuer(*s.hierarchy, keys, certs, *s.rt->clock, s.rt->urls());
  pki::IssueRequest req;
  req.profile = "tls-server";
  req.csr = crypto::as_bytes(s.csr);
  req.requester = "service:bench";
  for (auto _ : state) {
    auto issued = issuer.issue(req);
    if (!issued) return state.SkipWithError(issued.error().to_string().c_str());
    if (audited) {
      // What SecuredRouter records for the call.
      store::AuditEvent e;
      e.time = core::to_unix(s.rt->clock->now());
      e.actor = "service:bench";
      e.action = "POST /api/v1/certificates";
      e.result = "201";
      e.source = "127.0.0.1";
      e.request_id = issued->record.serial;
      access_trail->record(std::move(e));
    }
  }
  if (audited && state.thread_index() == 0) {
    access_trail.reset();  // writes what is queued: counted in the run
    if (heads->failed()) state.SkipWithError("a tree head could not be signed");
    heads.reset();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(audited ? "audit_on" : "audit_off");
}
BENCHMARK(BM_Issue)->ArgName("audited")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Threads(1)->Threads(2)->Threads(8);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--heads_ms=", 0) == 0) g_heads_ms = std::max(10, std::atoi(a.c_str() + 11));
  }
  core::log::init(core::log::Level::error, core::log::Sink::stderr_sink);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
