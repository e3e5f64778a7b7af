// EncryptedObjectStore: encryption at rest for any ObjectStore (envelope encryption, as
// S3's SSE-KMS), so a raw copy of the directory or bucket reveals no object's content.
// docs/encryption.md has the format and the key hierarchy.
//
//   data key (keys::DataKeyRing, active one)      sealed under the master key by the ring
//     └─ per-object DEK (32 random bytes, fresh per put)    wrapped under the data key
//          └─ object bytes, and their SHA-256              sealed under the DEK
//
// Every seal is AES-256-GCM (crypto::aead_seal: nonce || ciphertext || tag, 28 bytes more).
// The associated data binds each seal to the object key (and the wrapped DEK to its data
// key id too), so a ciphertext or envelope copied to another key does not open.
//
// Stored object (inner store): the ciphertext as data, the caller's content type, the
// caller's metadata plus the envelope under names starting with kEnvelopeMetadataPrefix:
//   cartorio-enc-version  "1"
//   cartorio-enc-key-id   the data key's id
//   cartorio-enc-dek      base64url(seal(data key, DEK))
//   cartorio-enc-sha256   base64url(seal(DEK, SHA-256 of the plaintext))  -- head()'s ETag
//                         without reading the data, and without the digest in clear (it
//                         would confirm a guessed document)
// Content types and user metadata are NOT encrypted: they are labels (ids, kinds), never
// personal data; callers keep personal data in the object bytes.
//
// What callers see is the ObjectStore contract over the plaintext: sizes, ETags (SHA-256 of
// the plaintext) and metadata without the envelope, in put/get/head/list/list_versions/
// list_versioned_keys. Metadata budget: the envelope takes up to kEnvelopeMetadataBytes of
// the inner store's kMaxMetadataBytes, so callers get kMaxUserMetadataBytes; names with the
// reserved prefix are refused (Errc::invalid_argument).
//
// Reading (get, get_version, head): a missing or garbled envelope, a data key id the ring
// does not have, a tag that does not verify, or plaintext whose SHA-256 differs from the
// sealed one is Errc::store_error; messages name the object and key id, never bytes.
// Objects without any envelope name (written before encryption was switched on) are refused
// the same way unless allow_plaintext_reads is set, for the migration window; then they
// read as stored, and reencrypt() encrypts them.
//
// Key ring errors: Errc::io_error passes through, anything else (damaged ring, unknown id)
// becomes Errc::store_error (for check(): Errc::store_unavailable).
//
// Ownership: owns `inner`; the ring is borrowed and must outlive this object.
// Thread-safety: as safe as the inner store and the ring (both are thread-safe by contract);
// this class keeps no mutable state.
#pragma once

#include "keys/data_key_ring.h"
#include "objectstore/object_store.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cartorio::objectstore {

inline constexpr std::string_view kEnvelopeMetadataPrefix = "cartorio-enc-";
// Upper bound of the envelope's names and values (with a data key id of up to
// keys::kMaxDataKeyIdBytes): 21 + 19+128 + 16+80 + 19+80 = 363, rounded up.
inline constexpr std::size_t kEnvelopeMetadataBytes = 384;
inline constexpr std::size_t kMaxUserMetadataBytes = kMaxMetadataBytes - kEnvelopeMetadataBytes;

struct EncryptedObjectStoreOptions {
  // Largest plaintext accepted (Errc::invalid_argument beyond). The inner store must accept
  // max_object_bytes + crypto::kAeadOverhead (28) bytes.
  std::uint64_t max_object_bytes = kDefaultMaxObjectBytes;
  // Read objects that carry no envelope as plaintext (migration only: they are not
  // authenticated by this layer, just by the inner store's ETag).
  bool allow_plaintext_reads = false;
};

class EncryptedObjectStore final : public ObjectStore {
 public:
  EncryptedObjectStore(std::unique_ptr<ObjectStore> inner, keys::DataKeyRing& ring,
                       EncryptedObjectStoreOptions options = {});

  core::Result<ObjectInfo> put(std::string_view key, std::string_view data, const PutOptions& options = {}) override;
  core::Result<bool> put_if_absent(std::string_view key, std::string_view data,
                                   const PutOptions& options = {}) override;
  core::Result<Object> get(std::string_view key) override;
  core::Result<ObjectInfo> head(std::string_view key) override;
  core::Result<bool> erase(std::string_view key) override { return m_inner->erase(key); }
  core::Result<ListPage> list(std::string_view prefix = {}, std::size_t limit = kMaxListLimit,
                              std::string_view start_after = {}) override;
  core::Result<VersionPage> list_versions(std::string_view key, std::size_t limit = kMaxListLimit,
                                          std::string_view after_version = {}) override;
  core::Result<Object> get_version(std::string_view key, std::string_view version_id) override;
  core::Result<bool> erase_version(std::string_view key, std::string_view version_id) override {
    return m_inner->erase_version(key, version_id);
  }
  core::Result<ListPage> list_versioned_keys(std::string_view prefix = {}, std::size_t limit = kMaxListLimit,
                                             std::string_view start_after = {}) override;
  // The inner store's check, and the ring's active data key can be read.
  core::Result<void> check() override;
  std::string backend_name() const override { return "encrypted+" + m_inner->backend_name(); }

  // After a data key rotation: rewrites every current object under `prefix` whose envelope
  // names another data key than the active one, re-wrapping its DEK only (the ciphertext is
  // stored again unchanged); with allow_plaintext_reads, also encrypts objects that have no
  // envelope. Returns how many objects were rewritten; stops at the first error (its message
  // names the object). Each rewrite is a put: a new version in a versioned store (older
  // versions keep their old data key, so retired data keys must be kept while versions
  // wrapped under them exist), and last_modified becomes the rewrite's time. An object
  // replaced by someone else while it was being rewritten is left to that writer.
  core::Result<std::size_t> reencrypt(std::string_view prefix = {});

  ObjectStore& inner() { return *m_inner; }

 private:
  struct Sealed;
  // Checks the caller's input, then encrypts `data` under a fresh DEK wrapped under `kek`
  // (nullptr: the ring's active key).
  core::Result<Sealed> seal(std::string_view key, std::string_view data, const PutOptions& options,
                            const keys::DataKey* kek = nullptr);
  // The caller's view of a stored object or its info; `key` is the one asked for (the
  // associated data binds to it).
  core::Result<Object> open(std::string_view key, Object stored);
  core::Result<ObjectInfo> open_info(std::string_view key, ObjectInfo stored);
  // true when the object was rewritten under `kek`.
  core::Result<bool> reencrypt_one(std::string_view key, const keys::DataKey& kek);

  const std::unique_ptr<ObjectStore> m_inner;
  keys::DataKeyRing& m_ring;
  const EncryptedObjectStoreOptions m_options;
};

}  // namespace cartorio::objectstore
