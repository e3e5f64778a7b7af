#include "app/runtime.h"

#include "app/object_storage.h"
#include "app/secrets_setup.h"

#include "cache/fallback_cache.h"
#include "cache/memory/memory_cache.h"
#include "cache/redis/redis_cache.h"
#include "core/files.h"
#include "core/log.h"
#include "crl/crl_generator.h"
#include "keys/audited_key_store.h"
#include "keys/pkcs11/pkcs11_key_store.h"
#include "keys/software/software_key_store.h"
#include "ocsp/root_presigner.h"
#include "pki/certificate_issuer.h"

#include <nlohmann/json.hpp>
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace cartorio::app {

namespace fs = std::filesystem;
using core::Errc;

namespace {

core::Result<std::unique_ptr<store::Store>> open_store(const core::Config& c, secrets::SecretStore& secrets) {
  if (c.store.backend == "postgres") {
    store::PostgresStoreOptions o;
    o.conninfo = c.store.postgres_url;
    o.password_candidates = postgres_password_candidates(secrets);
    return store::open_postgres_store(o);
  }
  return store::open_sqlite_store(c.path(c.store.sqlite_path));
}

core::Result<std::string> read_pin(const core::Config& c) {
  if (!c.keys.pkcs11_pin.empty()) return c.keys.pkcs11_pin;
  CARTORIO_TRY(auto text, core::read_file(c.path(c.keys.pkcs11_pin_file)));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

core::Result<std::unique_ptr<keys::KeyStore>> open_key_backend(const core::Config& c, const core::Clock& clock,
                                                                OpenMode mode) {
  if (c.keys.backend == "pkcs11") {
    keys::Pkcs11KeyStoreOptions o;
    o.module_path = c.keys.pkcs11_module;
    o.token_label = c.keys.pkcs11_token;
    CARTORIO_TRY(auto pin, read_pin(c));
    o.pin = crypto::SecretBytes(pin);
    CARTORIO_TRY(auto ks, keys::Pkcs11KeyStore::open(std::move(o)));
    return std::unique_ptr<keys::KeyStore>(std::move(ks));
  }
  CARTORIO_TRY(auto o, software_key_options(c, c.keys.software_dir, clock, mode == OpenMode::create));
  CARTORIO_TRY(auto ks, keys::SoftwareKeyStore::open(std::move(o)));
  return std::unique_ptr<keys::KeyStore>(std::move(ks));
}

core::Result<std::unique_ptr<cache::Cache>> open_cache(const core::Config& c, const core::Clock& clock) {
  cache::MemoryCacheOptions mo;
  mo.max_entries = static_cast<std::size_t>(c.cache.memory_max_entries);
  auto memory = std::make_unique<cache::MemoryCache>(mo, clock);
  if (c.cache.backend != "redis") return std::unique_ptr<cache::Cache>(std::move(memory));
  CARTORIO_TRY(auto options, cache::parse_redis_url(c.cache.redis_url));
  options.key_prefix = c.cache.redis_key_prefix;
  CARTORIO_TRY(auto redis, cache::open_redis_cache(options));
  // Answers keep coming when Redis is down; /readyz reports the degradation.
  return std::unique_ptr<cache::Cache>(std::make_unique<cache::FallbackCache>(std::move(redis), std::move(memory)));
}

// Starts at a given time and advances with the real one (CARTORIO_FAKE_CLOCK).
class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(core::TimePoint start) : m_start(start), m_origin(std::chrono::steady_clock::now()) {}
  core::TimePoint now() const override {
    return m_start + std::chrono::duration_cast<core::TimePoint::duration>(std::chrono::steady_clock::now() - m_origin);
  }

 private:
  core::TimePoint m_start;
  std::chrono::steady_clock::time_point m_origin;
};

core::Result<std::unique_ptr<core::Clock>> process_clock() {
  const char* fake = std::getenv("CARTORIO_FAKE_CLOCK");
  if (!fake || !*fake) return std::unique_ptr<core::Clock>(std::make_unique<core::SystemClock>());
  std::tm tm{};
  const char* end = strptime(fake, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || std::string_view(end) != "Z")
    return core::Error{Errc::config_invalid, "CARTORIO_FAKE_CLOCK: must be an RFC 3339 UTC time like 2031-01-02T03:04:05Z"};
  const auto start = core::from_unix(static_cast<long long>(timegm(&tm)));
  core::log::warn("clock.fake", {{"warning", "CARTORIO_FAKE_CLOCK is set: this process runs on a fake clock; "
                                             "for tests only, never in production"},
                                 {"start", std::string(fake)}});
  return std::unique_ptr<core::Clock>(std::make_unique<FakeClock>(start));
}

}  // namespace

pki::HierarchyOptions Runtime::hierarchy_options() const {
  pki::HierarchyOptions o;
  o.organization = config.pki.organization;
  o.country = config.pki.country;
  o.root_validity_days = config.pki.root_validity_days;
  o.intermediate_validity_days = config.pki.intermediate_validity_days;
  o.crl_validity = std::chrono::hours(config.pki.crl_validity_hours);
  o.urls = urls();
  o.actor = actor;
  return o;
}

core::Result<pki::Hierarchy> Runtime::hierarchy() const { return pki::Hierarchy::load(*store, *store); }

core::Result<crypto::X509Crl> Runtime::publish_crl(const std::string& ca_name) const {
  CARTORIO_TRY(auto h, hierarchy());
  CARTORIO_TRY(const pki::SigningIdentity* ca, h.get(ca_name));
  if (!ca->key_ref)
    return core::Error{Errc::ca_offline, "the " + ca_name + " CRL is signed with the offline root key: pass --root-key FILE"};
  CARTORIO_TRY(auto signer, keys->signer(*ca->key_ref, keys::KeyUse{"sign-crl", actor, ca_name}));
  crl::CrlGenerator generator(*store, *clock, std::chrono::hours(config.pki.crl_validity_hours));
  CARTORIO_TRY(auto crl, generator.generate(ca_name, ca->cert.get(), signer->pkey()));
  CARTORIO_TRY_VOID(crl::publish_crl(*objects, ca_name, crl.get()));
  return crl;
}

core::Result<ocsp::CachedSources> Runtime::ocsp_sources() const {
  CARTORIO_TRY(auto h, hierarchy());
  ocsp::ResponderOptions responder;
  responder.validity = std::chrono::minutes(config.ocsp.response_validity_minutes);
  responder.actor = actor;
  ocsp::CachedSourceOptions cached;
  cached.ttl = std::chrono::seconds(config.ocsp.cache_ttl_seconds);
  // A process-local cache is reached from other processes through the epoch only.
  if (!cache_is_shared()) cached.epoch = revocation_epoch.get();
  return ocsp::make_cached_sources(h, *store, *keys, *clock, ocsp::presigned_root_dir(config.data_dir), responder,
                                   *cache, cached);
}

std::vector<std::string> Runtime::publish_revocation(const store::CertificateRecord& revoked,
                                                     const ocsp::CachedSources* sources) const {
  std::vector<std::string> problems;
  if (revoked.issuer == pki::kRoot) {
    // The root's answers are signed offline: withdraw the pre-signed "good" at once, so
    // /ocsp/root stops vouching for it until the next ceremony signs "revoked".
    std::error_code ec;
    const auto dir = ocsp::presigned_root_dir(config.data_dir);
    for (auto hash : {ocsp::CertIdHash::sha1, ocsp::CertIdHash::sha256})
      std::filesystem::remove(ocsp::presigned_file(dir, revoked.serial, hash), ec);
    problems.push_back("revoked a root-issued certificate: sign a new root CRL and OCSP responses with the offline "
                       "key (`cartorio crl generate --ca root ...`, `cartorio ocsp presign-root ...`)");
    return problems;
  }
  if (auto crl = publish_crl(revoked.issuer); !crl)
    problems.push_back("the " + revoked.issuer + " CRL could not be republished: " + crl.error().to_string());
  revocation_epoch->bump();
  // Replace the answers where other instances read them; this process's own sources too.
  std::optional<ocsp::CachedSources> own;
  if (!sources && cache_is_shared()) {
    auto built = ocsp_sources();
    if (built) own = std::move(*built);
    else problems.push_back("the cached OCSP answers could not be replaced: " + built.error().to_string());
    sources = own ? &*own : nullptr;
  }
  if (sources) {
    if (auto it = sources->cached.find(revoked.issuer); it != sources->cached.end())
      if (auto r = it->second->refresh(revoked.serial); !r)
        problems.push_back("the cached OCSP answers could not be replaced (they expire within " +
                           std::to_string(config.ocsp.cache_ttl_seconds) + " s): " + r.error().to_string());
  }
  return problems;
}

core::Result<Revocation> revoke_certificate(const Runtime& rt, const std::string& serial, int reason,
                                            const std::string& actor, const std::string& source,
                                            const ocsp::CachedSources* sources) {
  CARTORIO_TRY(auto h, rt.hierarchy());
  pki::CertificateIssuer issuer(h, *rt.keys, *rt.store, *rt.clock, rt.urls());
  CARTORIO_TRY(auto rec, issuer.revoke(serial, reason));
  store::AuditEvent e;
  e.time = core::to_unix(rt.clock->now());
  e.actor = actor;
  e.action = "certificate.revoke";
  e.target = rec.serial;
  e.result = "success";
  e.source = source;
  e.details = nlohmann::json{{"reason", pki::revocation_reason_name(reason)}}.dump();
  Revocation out{std::move(rec), {}};
  if (auto a = rt.store->append_audit_event(e); !a) out.warnings.push_back("audit: " + a.error().to_string());
  // The revocation is in the store (the source of truth for OCSP) whatever happens next;
  // the CRL and the cached OCSP answers follow at once, so relying parties need not wait.
  auto more = rt.publish_revocation(out.record, sources);
  out.warnings.insert(out.warnings.end(), more.begin(), more.end());
  return out;
}

core::Result<Runtime> open_runtime(const core::Config& config, const std::string& actor, OpenMode mode,
                                   std::unique_ptr<core::Clock> clock) {
  Runtime rt;
  rt.config = config;
  rt.actor = actor;
  if (!clock) {
    CARTORIO_TRY(clock, process_clock());
  }
  rt.clock = std::move(clock);
  std::error_code ec;
  if (mode == OpenMode::existing && !fs::exists(fs::path(config.data_dir) / "config.toml", ec))
    return core::Error{Errc::not_initialized, "no installation in " + config.data_dir + ": run `cartorio init` first"};
  if (mode == OpenMode::create) CARTORIO_TRY_VOID(core::make_dirs(config.data_dir, 0700));
  // Object storage and its data keys first: the database password may be a secret there.
  CARTORIO_TRY(rt.data_keys, open_data_key_ring(config, *rt.clock, mode == OpenMode::create));
  CARTORIO_TRY(auto storage, open_object_storage(config, *rt.clock, *rt.data_keys));
  rt.objects = std::move(storage.objects);
  rt.object_tiers = {storage.hot, storage.cold, storage.encrypted, std::move(storage.lifecycle_rules)};
  rt.secrets = std::make_unique<secrets::SecretStore>(*rt.objects, *rt.data_keys);
  CARTORIO_TRY(rt.store, open_store(config, *rt.secrets));
  CARTORIO_TRY(auto backend, open_key_backend(config, *rt.clock, mode));
  rt.keys = std::make_unique<keys::AuditedKeyStore>(std::move(backend), *rt.store, *rt.clock, actor);
  CARTORIO_TRY(rt.cache, open_cache(config, *rt.clock));
  CARTORIO_TRY_VOID(core::make_dirs(config.path("run"), 0700));
  CARTORIO_TRY(rt.revocation_epoch, core::SharedCounter::open(config.path("run/revocation.epoch")));
  return rt;
}

}  // namespace cartorio::app
