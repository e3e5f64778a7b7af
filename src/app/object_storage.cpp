#include "app/object_storage.h"

#include "core/files.h"
#include "crypto/primitives.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "objectstore/s3/s3_object_store.h"
#include "objectstore/tiered_object_store.h"

#include <filesystem>

namespace cartorio::app {

namespace {

namespace fs = std::filesystem;

// The raw backend at one location: a directory, or a bucket on the configured S3 server.
core::Result<std::unique_ptr<objectstore::ObjectStore>> open_backend(const core::Config& c, const core::Clock& clock,
                                                                     const std::string& where,
                                                                     std::uint64_t max_object_bytes) {
  const auto& o = c.objects;
  if (o.backend == "s3") {
    objectstore::S3ObjectStoreOptions s3;
    s3.client.endpoint = o.s3_endpoint;
    s3.client.region = o.s3_region;
    s3.client.access_key = o.s3_access_key;
    s3.client.secret_key = o.s3_secret_key;
    s3.client.ca_file = o.s3_ca_file.empty() ? std::string() : c.path(o.s3_ca_file);
    s3.bucket = where;
    s3.key_prefix = o.s3_key_prefix;
    s3.max_object_bytes = max_object_bytes;
    CARTORIO_TRY(auto store, objectstore::S3ObjectStore::open(std::move(s3)));
    return std::unique_ptr<objectstore::ObjectStore>(std::move(store));
  }
  objectstore::FilesystemObjectStoreOptions files;
  files.root = c.path(where);
  files.max_object_bytes = max_object_bytes;
  CARTORIO_TRY_VOID(core::make_dirs(files.root.string(), 0700));
  CARTORIO_TRY(auto store, objectstore::FilesystemObjectStore::open(std::move(files), clock));
  return std::unique_ptr<objectstore::ObjectStore>(std::move(store));
}

}  // namespace

core::Result<keys::SoftwareKeyStoreOptions> software_key_options(const core::Config& c,
                                                                 const std::string& directory,
                                                                 const core::Clock& clock, bool create_master_key) {
  keys::SoftwareKeyStoreOptions o;
  o.directory = c.path(directory);
  o.clock = &clock;
  if (!c.keys.master_passphrase.empty()) {
    o.passphrase = crypto::SecretBytes(c.keys.master_passphrase);
    return o;
  }
  o.master_key_file = c.path(c.keys.master_key_file);
  std::error_code ec;
  if (create_master_key && !fs::exists(o.master_key_file, ec)) {
    CARTORIO_TRY_VOID(core::make_dirs(o.master_key_file.parent_path().string(), 0700));
    CARTORIO_TRY_VOID(keys::create_master_key_file(o.master_key_file));
  }
  return o;
}

core::Result<std::unique_ptr<keys::SoftwareKeyStore>> open_data_key_ring(const core::Config& c,
                                                                         const core::Clock& clock,
                                                                         bool create_master_key) {
  CARTORIO_TRY(auto options, software_key_options(c, c.keys.data_keys_dir, clock, create_master_key));
  return keys::SoftwareKeyStore::open(std::move(options));
}

core::Result<ObjectStorage> open_object_storage(const core::Config& c, const core::Clock& clock,
                                                keys::DataKeyRing& ring) {
  const auto& o = c.objects;
  ObjectStorage out;
  CARTORIO_TRY(out.lifecycle_rules, objectstore::parse_lifecycle_rules(o.lifecycle_rules));
  // The encrypted layer limits the plaintext; the backends beneath hold its ciphertext.
  const std::uint64_t stored_limit =
      objectstore::kDefaultMaxObjectBytes + (o.encryption ? crypto::kAeadOverhead : 0);
  const bool s3 = o.backend == "s3";
  CARTORIO_TRY(auto hot, open_backend(c, clock, s3 ? o.s3_bucket : o.filesystem_root, stored_limit));
  out.hot = hot.get();
  std::unique_ptr<objectstore::ObjectStore> objects = std::move(hot);
  if (o.cold_tier) {
    const std::string where = s3 ? (o.s3_cold_bucket.empty() ? o.s3_bucket + "-cold" : o.s3_cold_bucket)
                                 : o.cold_filesystem_root;
    CARTORIO_TRY(auto cold, open_backend(c, clock, where, stored_limit));
    out.cold = cold.get();
    objects = std::make_unique<objectstore::TieredObjectStore>(std::move(objects), std::move(cold));
  }
  if (o.encryption) {
    auto encrypted = std::make_unique<objectstore::EncryptedObjectStore>(
        std::move(objects), ring,
        objectstore::EncryptedObjectStoreOptions{.max_object_bytes = objectstore::kDefaultMaxObjectBytes,
                                                 .allow_plaintext_reads = o.allow_plaintext_reads});
    out.encrypted = encrypted.get();
    objects = std::move(encrypted);
  }
  out.objects = std::move(objects);
  return out;
}

}  // namespace cartorio::app
