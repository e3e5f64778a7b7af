#include "app/runtime.h"

#include "core/files.h"
#include "crl/crl_generator.h"
#include "keys/audited_key_store.h"
#include "keys/pkcs11/pkcs11_key_store.h"
#include "keys/software/software_key_store.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

#include <filesystem>

namespace cartorio::app {

namespace fs = std::filesystem;
using core::Errc;

namespace {

core::Result<std::unique_ptr<store::Store>> open_store(const core::Config& c) {
  if (c.store.backend == "postgres") return store::open_postgres_store(c.store.postgres_url);
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
  keys::SoftwareKeyStoreOptions o;
  o.directory = c.path(c.keys.software_dir);
  o.clock = &clock;
  if (!c.keys.master_passphrase.empty()) {
    o.passphrase = crypto::SecretBytes(c.keys.master_passphrase);
  } else {
    o.master_key_file = c.path(c.keys.master_key_file);
    std::error_code ec;
    if (mode == OpenMode::create && !fs::exists(o.master_key_file, ec)) {
      CARTORIO_TRY_VOID(core::make_dirs(o.master_key_file.parent_path().string(), 0700));
      CARTORIO_TRY_VOID(keys::create_master_key_file(o.master_key_file));
    }
  }
  CARTORIO_TRY(auto ks, keys::SoftwareKeyStore::open(std::move(o)));
  return std::unique_ptr<keys::KeyStore>(std::move(ks));
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
  CARTORIO_TRY_VOID(crl::publish_crl(crl_dir(), ca_name, crl.get()));
  return crl;
}

core::Result<Runtime> open_runtime(const core::Config& config, const std::string& actor, OpenMode mode) {
  Runtime rt;
  rt.config = config;
  rt.actor = actor;
  rt.clock = std::make_unique<core::SystemClock>();
  std::error_code ec;
  if (mode == OpenMode::existing && !fs::exists(fs::path(config.data_dir) / "config.toml", ec))
    return core::Error{Errc::not_initialized, "no installation in " + config.data_dir + ": run `cartorio init` first"};
  if (mode == OpenMode::create) CARTORIO_TRY_VOID(core::make_dirs(config.data_dir, 0700));
  CARTORIO_TRY(rt.store, open_store(config));
  CARTORIO_TRY(auto backend, open_key_backend(config, *rt.clock, mode));
  rt.keys = std::make_unique<keys::AuditedKeyStore>(std::move(backend), *rt.store, *rt.clock, actor);
  return rt;
}

}  // namespace cartorio::app
