// The encryption decorator over a plain backend (filesystem or S3), as a backend of the
// ObjectStore conformance suite (see object_store_backends.h for the concept):
// EncryptedObjectStore over the plain one, its data keys in a SoftwareKeyStore directory of
// its own (master key file in the same temp dir). Every open() wraps a new plain store on the
// same namespace with the same ring, so a reopened store reads what an earlier one wrote.
#pragma once

#include "crypto/primitives.h"
#include "keys/software/software_key_store.h"
#include "objectstore/encrypted/encrypted_object_store.h"

#include "object_store_backends.h"

#include <memory>
#include <type_traits>

namespace cartorio::objectstore_test {

template <class Plain>
class EncryptedBackend {
 public:
  static constexpr const char* kBackendName =
      std::is_same_v<Plain, FilesystemBackend> ? "encrypted+filesystem" : "encrypted+s3";
  static constexpr std::chrono::seconds kLastModifiedSlack = Plain::kLastModifiedSlack;

  // Creates the master key file and opens (initialises) the data-key directory.
  core::Result<void> prepare() {
    if (m_ring) return core::ok();
    CARTORIO_TRY_VOID(m_plain.prepare());
    const auto master = m_keys_dir / "master.key";
    CARTORIO_TRY_VOID(keys::create_master_key_file(master));
    keys::SoftwareKeyStoreOptions o;
    o.directory = ring_directory();
    o.master_key_file = master;
    CARTORIO_TRY(m_ring, keys::SoftwareKeyStore::open(std::move(o)));
    return core::ok();
  }

  core::Result<std::unique_ptr<objectstore::ObjectStore>> open(const OpenOptions& o = {}) {
    CARTORIO_TRY(auto store, open_encrypted(o, {}));
    return std::unique_ptr<objectstore::ObjectStore>(std::move(store));
  }

  // The decorator itself, for the cases that need its own options or reencrypt().
  core::Result<std::unique_ptr<objectstore::EncryptedObjectStore>> open_encrypted(
      const OpenOptions& o, objectstore::EncryptedObjectStoreOptions options) {
    CARTORIO_TRY_VOID(prepare());
    // The inner store holds ciphertexts: the caller's limit plus the constant overhead.
    CARTORIO_TRY(auto inner, m_plain.open(OpenOptions{o.max_object_bytes + crypto::kAeadOverhead}));
    options.max_object_bytes = o.max_object_bytes;
    return std::make_unique<objectstore::EncryptedObjectStore>(std::move(inner), *m_ring, options);
  }

  core::TimePoint now() const { return m_plain.now(); }
  std::filesystem::path root() const { return m_plain.root(); }  // the ciphertexts (filesystem only)
  keys::SoftwareKeyStore& ring() { return *m_ring; }            // after prepare()
  std::filesystem::path ring_directory() const { return m_keys_dir / "data-keys"; }
  Plain& plain() { return m_plain; }

 private:
  Plain m_plain;
  testing::TempDir m_keys_dir;
  std::unique_ptr<keys::SoftwareKeyStore> m_ring;  // declared last: stores borrow it, the backend outlives them
};

using EncryptedFilesystemBackend = EncryptedBackend<FilesystemBackend>;
using EncryptedS3Backend = EncryptedBackend<S3Backend>;

}  // namespace cartorio::objectstore_test
