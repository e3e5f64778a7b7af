// The composition root: the only code that names concrete backends (SQLite or PostgreSQL,
// software or PKCS#11 keys). Everything else receives interfaces.
#pragma once

#include "cache/cache.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "core/shared_counter.h"
#include "keys/key_store.h"
#include "keys/data_key_ring.h"
#include "objectstore/encrypted/encrypted_object_store.h"
#include "objectstore/lifecycle.h"
#include "objectstore/object_store.h"
#include "ocsp/ocsp_sources.h"
#include "pki/ceremony.h"
#include "pki/hierarchy.h"
#include "secrets/secret_store.h"
#include "store/store.h"

#include <memory>
#include <string>
#include <vector>

namespace cartorio::app {

struct Runtime {
  core::Config config;
  std::unique_ptr<core::Clock> clock;
  // The data-key ring for data at rest (keys.data_keys_dir): objects' envelopes and
  // personal fields. Declared before `objects`, which borrows it.
  std::unique_ptr<keys::DataKeyRing> data_keys;
  // Signed documents, CRLs, audit logs, backups: encrypted, tiered, on the filesystem or
  // S3 (app/object_storage.h).
  std::unique_ptr<objectstore::ObjectStore> objects;
  struct ObjectTiers {
    objectstore::ObjectStore* hot = nullptr;   // raw backends beneath `objects`, for the
    objectstore::ObjectStore* cold = nullptr;  // lifecycle job; cold is null without a tier
    objectstore::EncryptedObjectStore* encrypted = nullptr;  // for reencrypt(); may be null
    std::vector<objectstore::LifecycleRule> lifecycle_rules;
  } object_tiers;
  // Versioned secrets in the object store, sealed under the data keys (secrets/). Declared
  // before `store`, whose connections may log in with the password kept here.
  std::unique_ptr<secrets::SecretStore> secrets;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<keys::KeyStore> keys;  // audited: every key use is an audit event
  // In-process, or Redis with an in-process fallback (cache.backend).
  std::unique_ptr<cache::Cache> cache;
  // Bumped on every revocation; invalidates in-process OCSP cache entries of every process
  // of this installation on this machine (DATA_DIR/run/revocation.epoch).
  std::unique_ptr<core::SharedCounter> revocation_epoch;
  std::string actor;                     // who this process acts as, e.g. "cli", "server"

  pki::PublicUrls urls() const { return pki::make_urls(config.pki.public_base_url); }
  pki::HierarchyOptions hierarchy_options() const;
  core::Result<pki::Hierarchy> hierarchy() const;

  // Signs the next CRL of an online CA ("tls" or "document") and publishes it to the object
  // store, where the distribution point is served from. Errc::ca_offline for "root" (needs the ceremony).
  core::Result<crypto::X509Crl> publish_crl(const std::string& ca_name) const;

  // Whether `cache` is shared with other instances (Redis) rather than this process's own.
  bool cache_is_shared() const { return config.cache.backend == "redis"; }
  // The OCSP sources this installation serves: live responders behind the cache for the
  // online CAs, pre-signed files for the root.
  core::Result<ocsp::CachedSources> ocsp_sources() const;

  // Makes a committed revocation visible everywhere at once: republishes the CRL, bumps
  // the revocation epoch, replaces the shared cache's OCSP answers (Redis), or — for a
  // root-issued certificate — withdraws its pre-signed answers. `sources` are the caller's
  // own cached sources (the server's), refreshed too; may be null. Returns what could not
  // be done (the revocation itself stands: the store is the source of truth).
  std::vector<std::string> publish_revocation(const store::CertificateRecord& revoked,
                                              const ocsp::CachedSources* sources = nullptr) const;
};

enum class OpenMode {
  existing,  // the data dir must hold an installation
  create,    // `init`: create the master key and directories when absent
};

struct Revocation {
  store::CertificateRecord record;
  std::vector<std::string> warnings;  // from publish_revocation
};

// Revokes (Errc::not_found, already_revoked, invalid_reason), records a certificate.revoke
// audit event for `actor` from `source`, then publish_revocation(). The CLI and the API
// both revoke through here.
core::Result<Revocation> revoke_certificate(const Runtime& rt, const std::string& serial, int reason,
                                            const std::string& actor, const std::string& source,
                                            const ocsp::CachedSources* sources = nullptr);

// `clock`: the process's clock; null for the system clock — or, when CARTORIO_FAKE_CLOCK
// holds an RFC 3339 UTC time ("2031-01-02T03:04:05Z"), a clock that starts there and
// advances in real time (Boulder's FAKECLOCK: end-to-end tests of expiry; warned about
// loudly, never for production). Errc::config_invalid for an unreadable CARTORIO_FAKE_CLOCK.
core::Result<Runtime> open_runtime(const core::Config& config, const std::string& actor, OpenMode mode,
                                   std::unique_ptr<core::Clock> clock = nullptr);

}  // namespace cartorio::app
