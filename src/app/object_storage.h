// The object storage of an installation, composed from config (docs/objectstore.md):
//
//   domain code ── EncryptedObjectStore (objects.encryption; the data-key ring, keys.data_keys_dir)
//                    └─ TieredObjectStore (objects.cold_tier)
//                         ├─ hot:  filesystem (objects.filesystem_root) | S3 (objects.s3_bucket)
//                         └─ cold: filesystem (objects.cold_filesystem_root) | S3 (objects.s3_cold_bucket)
//
// The lifecycle job works on the raw hot and cold backends beneath the encryption: it moves
// ciphertext as it is and needs no data key.
#pragma once

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "keys/data_key_ring.h"
#include "keys/software/software_key_store.h"
#include "objectstore/encrypted/encrypted_object_store.h"
#include "objectstore/lifecycle.h"
#include "objectstore/object_store.h"

#include <memory>
#include <vector>

namespace cartorio::app {

struct ObjectStorage {
  std::unique_ptr<objectstore::ObjectStore> objects;  // what domain code uses; borrows the ring
  objectstore::ObjectStore* hot = nullptr;            // the raw backends, owned by `objects`
  objectstore::ObjectStore* cold = nullptr;           // null without a cold tier
  objectstore::EncryptedObjectStore* encrypted = nullptr;  // null when encryption is off
  std::vector<objectstore::LifecycleRule> lifecycle_rules;
};

// `ring` must outlive the storage. Errc::config_invalid for bad options or lifecycle rules;
// the backends' errors otherwise.
core::Result<ObjectStorage> open_object_storage(const core::Config& config, const core::Clock& clock,
                                                keys::DataKeyRing& ring);

// The installation's data-key ring (keys.data_keys_dir). `create_master_key`: `init` makes
// the master key file when it is missing (data keys are sealed under it even when the CA
// keys live in an HSM).
core::Result<std::unique_ptr<keys::SoftwareKeyStore>> open_data_key_ring(const core::Config& config,
                                                                         const core::Clock& clock,
                                                                         bool create_master_key);

// The master key (file or passphrase) options of a software key directory.
core::Result<keys::SoftwareKeyStoreOptions> software_key_options(const core::Config& config,
                                                                 const std::string& directory,
                                                                 const core::Clock& clock, bool create_master_key);

}  // namespace cartorio::app
