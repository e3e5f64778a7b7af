// The composition root: the only code that names concrete backends (SQLite or PostgreSQL,
// software or PKCS#11 keys). Everything else receives interfaces.
#pragma once

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "keys/key_store.h"
#include "pki/ceremony.h"
#include "pki/hierarchy.h"
#include "store/store.h"

#include <memory>
#include <string>

namespace cartorio::app {

struct Runtime {
  core::Config config;
  std::unique_ptr<core::Clock> clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<keys::KeyStore> keys;  // audited: every key use is an audit event
  std::string actor;                     // who this process acts as, e.g. "cli", "server"

  std::string crl_dir() const { return config.path("crl"); }
  pki::PublicUrls urls() const { return pki::make_urls(config.pki.public_base_url); }
  pki::HierarchyOptions hierarchy_options() const;
  core::Result<pki::Hierarchy> hierarchy() const;

  // Signs the next CRL of an online CA ("tls" or "document") and publishes it where the
  // distribution point is served from. Errc::ca_offline for "root" (needs the ceremony).
  core::Result<crypto::X509Crl> publish_crl(const std::string& ca_name) const;
};

enum class OpenMode {
  existing,  // the data dir must hold an installation
  create,    // `init`: create the master key and directories when absent
};

core::Result<Runtime> open_runtime(const core::Config& config, const std::string& actor, OpenMode mode);

}  // namespace cartorio::app
