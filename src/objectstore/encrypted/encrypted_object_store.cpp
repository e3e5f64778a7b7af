#include "objectstore/encrypted/encrypted_object_store.h"

#include "crypto/bytes.h"
#include "crypto/framing.h"
#include "crypto/primitives.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

namespace cartorio::objectstore {

using core::Errc;

namespace {

constexpr std::string_view kEnvelopeVersion = "1";
constexpr std::string_view kNameVersion = "cartorio-enc-version";
constexpr std::string_view kNameKeyId = "cartorio-enc-key-id";
constexpr std::string_view kNameDek = "cartorio-enc-dek";
constexpr std::string_view kNameSha256 = "cartorio-enc-sha256";
constexpr std::size_t kSha256Bytes = 32;

// Associated data as length-prefixed fields (crypto/framing.h), one tag per purpose, so no
// sealed piece can stand in for another.
crypto::Bytes data_aad(std::string_view key) { return crypto::length_prefixed({"cartorio/object-data/v1", key}); }
crypto::Bytes digest_aad(std::string_view key) { return crypto::length_prefixed({"cartorio/object-sha256/v1", key}); }
crypto::Bytes dek_aad(std::string_view key_id, std::string_view key) {
  return crypto::length_prefixed({"cartorio/object-dek/v1", key_id, key});
}

std::string_view as_text(const crypto::Bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Envelope values come from storage (possibly tampered with).
std::string shown(std::string_view s) { return quoted_for_message(s); }

core::Error damaged(std::string_view key, const std::string& why) {
  return {Errc::store_error, "encrypted object " + shown(key) + " " + why};
}

// Ring failures in ObjectStore terms: the OS failing stays io_error, the rest (damaged ring,
// missing key) is stored data this layer cannot use.
core::Error ring_error(core::Error e) {
  if (e.code == Errc::io_error) return e;
  return {Errc::store_error, "data key ring: " + e.message};
}

bool is_reserved(std::string_view name) { return name.starts_with(kEnvelopeMetadataPrefix); }

std::uint64_t plaintext_size(std::uint64_t stored) {
  return stored >= crypto::kAeadOverhead ? stored - crypto::kAeadOverhead : 0;
}

struct Envelope {
  std::string key_id;
  crypto::Bytes wrapped_dek;  // seal(data key, DEK, dek_aad)
  crypto::Bytes sealed_sha;   // seal(DEK, SHA-256 of the plaintext, digest_aad)
};

// nullopt when the object has no envelope name at all (stored before encryption).
core::Result<std::optional<Envelope>> parse_envelope(std::string_view key, const Metadata& metadata) {
  if (std::none_of(metadata.begin(), metadata.end(), [](const auto& e) { return is_reserved(e.first); }))
    return std::optional<Envelope>();
  auto field = [&](std::string_view name) -> const std::string* {
    auto it = metadata.find(std::string(name));
    return it == metadata.end() ? nullptr : &it->second;
  };
  // The version first: a later format may use other fields.
  const std::string* version = field(kNameVersion);
  if (!version) return damaged(key, "has an incomplete envelope (no " + std::string(kNameVersion) + ")");
  if (*version != kEnvelopeVersion) return damaged(key, "has an unsupported envelope version " + shown(*version));
  for (const auto& [name, value] : metadata)
    if (is_reserved(name) && name != kNameVersion && name != kNameKeyId && name != kNameDek && name != kNameSha256)
      return damaged(key, "has an unknown envelope field " + shown(name));
  Envelope env;
  const std::string* id = field(kNameKeyId);
  const std::string* dek = field(kNameDek);
  const std::string* sha = field(kNameSha256);
  if (!id || !dek || !sha || id->empty()) return damaged(key, "has an incomplete envelope");
  env.key_id = *id;
  auto wrapped = crypto::from_base64url(*dek);
  auto sealed = crypto::from_base64url(*sha);
  if (!wrapped || wrapped->size() != crypto::kAeadKeySize + crypto::kAeadOverhead)
    return damaged(key, "has a malformed wrapped data encryption key");
  if (!sealed || sealed->size() != kSha256Bytes + crypto::kAeadOverhead)
    return damaged(key, "has a malformed sealed digest");
  env.wrapped_dek = std::move(*wrapped);
  env.sealed_sha = std::move(*sealed);
  return std::optional<Envelope>(std::move(env));
}

Metadata without_envelope(Metadata metadata) {
  std::erase_if(metadata, [](const auto& entry) { return is_reserved(entry.first); });
  return metadata;
}

void set_envelope(Metadata& metadata, const keys::DataKey& kek, const crypto::Bytes& wrapped_dek,
                  std::string sealed_sha_b64) {
  metadata[std::string(kNameVersion)] = std::string(kEnvelopeVersion);
  metadata[std::string(kNameKeyId)] = kek.id;
  metadata[std::string(kNameDek)] = crypto::to_base64url(wrapped_dek);
  metadata[std::string(kNameSha256)] = std::move(sealed_sha_b64);
}

// The DEK the envelope wraps.
core::Result<crypto::SecretBytes> unwrap_dek(keys::DataKeyRing& ring, std::string_view key, const Envelope& env) {
  auto kek = ring.find_data_key(env.key_id);
  if (!kek) {
    if (kek.error().code == Errc::key_not_found)
      return damaged(key, "is encrypted under data key " + shown(env.key_id) + ", which the key ring does not have");
    return ring_error(std::move(kek).error());
  }
  auto dek = crypto::aead_open((*kek)->key, env.wrapped_dek, dek_aad(env.key_id, key));
  if (!dek || dek->size() != crypto::kAeadKeySize)
    return damaged(key, "has a data encryption key that does not open under data key " + shown(env.key_id) +
                            " (tampered with, or moved from another object)");
  return std::move(dek).value();
}

core::Result<std::array<std::uint8_t, kSha256Bytes>> open_digest(const crypto::SecretBytes& dek, std::string_view key,
                                                                  const Envelope& env) {
  auto sha = crypto::aead_open(dek, env.sealed_sha, digest_aad(key));
  if (!sha || sha->size() != kSha256Bytes)
    return damaged(key, "has a sealed digest that does not open (tampered with, or moved from another object)");
  std::array<std::uint8_t, kSha256Bytes> out{};
  std::copy(sha->view().begin(), sha->view().end(), out.begin());
  return out;
}

// What the caller sees of a stored object's info.
ObjectInfo caller_info(ObjectInfo stored, std::uint64_t size, std::string etag) {
  stored.size = size;
  stored.etag = std::move(etag);
  stored.metadata = without_envelope(std::move(stored.metadata));
  return stored;
}

core::Result<std::shared_ptr<const keys::DataKey>> usable_active_key(keys::DataKeyRing& ring) {
  auto kek = ring.active_data_key();
  if (!kek) return ring_error(std::move(kek).error());
  const keys::DataKey& k = **kek;
  // Checked here rather than trusted: the id goes into metadata (printable ASCII, within
  // the envelope budget) and a short key would make aead_seal fail later, less clearly.
  bool printable = !k.id.empty() && k.id.size() <= keys::kMaxDataKeyIdBytes;
  for (char c : k.id) printable = printable && c >= 0x20 && c <= 0x7e;
  if (!printable) return core::Error(Errc::store_error, "data key ring: the active key id is not usable in metadata");
  if (k.key.size() != crypto::kAeadKeySize)
    return core::Error(Errc::store_error, "data key ring: active key " + shown(k.id) + " is not a 32-byte key");
  return kek;
}

}  // namespace

struct EncryptedObjectStore::Sealed {
  crypto::Bytes ciphertext;
  PutOptions inner_options;  // caller's content type, metadata + envelope
  std::string etag;          // SHA-256 of the plaintext, as the caller sees it
};

EncryptedObjectStore::EncryptedObjectStore(std::unique_ptr<ObjectStore> inner, keys::DataKeyRing& ring,
                                           EncryptedObjectStoreOptions options)
    : m_inner(std::move(inner)), m_ring(ring), m_options(options) {}

core::Result<EncryptedObjectStore::Sealed> EncryptedObjectStore::seal(std::string_view key, std::string_view data,
                                                                      const PutOptions& options,
                                                                      const keys::DataKey* kek) {
  CARTORIO_TRY(PutOptions checked, check_put(key, data.size(), options, m_options.max_object_bytes));
  std::size_t user_bytes = 0;
  for (const auto& [name, value] : checked.metadata) {
    if (is_reserved(name))
      return core::Error(Errc::invalid_argument, "metadata name " + shown(name) + " uses the reserved prefix \"" +
                                                     std::string(kEnvelopeMetadataPrefix) + "\"");
    user_bytes += name.size() + value.size();
  }
  if (user_bytes > kMaxUserMetadataBytes)
    return core::Error(Errc::invalid_argument, "metadata is " + std::to_string(user_bytes) +
                                                   " bytes, the limit is " + std::to_string(kMaxUserMetadataBytes) +
                                                   " on an encrypted store (the envelope takes the rest)");
  std::shared_ptr<const keys::DataKey> active;  // asked only for input that passed the checks
  if (!kek) {
    CARTORIO_TRY(active, usable_active_key(m_ring));
    kek = active.get();
  }

  std::array<std::uint8_t, kSha256Bytes> sha{};
  if (checked.sha256_hex.empty()) {
    sha = crypto::sha256(crypto::as_bytes(data));
  } else {
    auto given = crypto::from_hex(checked.sha256_hex);  // well-formed: check_put said so
    std::copy(given->begin(), given->end(), sha.begin());
  }
  const crypto::SecretBytes dek = crypto::random_secret(crypto::kAeadKeySize);
  Sealed out;
  CARTORIO_TRY(out.ciphertext, crypto::aead_seal(dek, crypto::as_bytes(data), data_aad(key)));
  CARTORIO_TRY(crypto::Bytes sealed_sha, crypto::aead_seal(dek, sha, digest_aad(key)));
  CARTORIO_TRY(crypto::Bytes wrapped, crypto::aead_seal(kek->key, dek.view(), dek_aad(kek->id, key)));
  out.etag = crypto::to_hex(sha);
  out.inner_options.content_type = std::move(checked.content_type);
  out.inner_options.metadata = std::move(checked.metadata);
  set_envelope(out.inner_options.metadata, *kek, wrapped, crypto::to_base64url(sealed_sha));
  return out;
}

core::Result<ObjectInfo> EncryptedObjectStore::put(std::string_view key, std::string_view data,
                                                   const PutOptions& options) {
  CARTORIO_TRY(Sealed sealed, seal(key, data, options));
  CARTORIO_TRY(ObjectInfo stored, m_inner->put(key, as_text(sealed.ciphertext), sealed.inner_options));
  return caller_info(std::move(stored), data.size(), std::move(sealed.etag));
}

core::Result<bool> EncryptedObjectStore::put_if_absent(std::string_view key, std::string_view data,
                                                       const PutOptions& options) {
  CARTORIO_TRY(Sealed sealed, seal(key, data, options));
  return m_inner->put_if_absent(key, as_text(sealed.ciphertext), sealed.inner_options);
}

core::Result<Object> EncryptedObjectStore::open(std::string_view key, Object stored) {
  CARTORIO_TRY(std::optional<Envelope> env, parse_envelope(key, stored.info.metadata));
  if (!env) {
    if (m_options.allow_plaintext_reads) return stored;
    return damaged(key, "has no encryption envelope (stored before encryption at rest was enabled?); "
                        "allow_plaintext_reads reads such objects while migrating");
  }
  CARTORIO_TRY(crypto::SecretBytes dek, unwrap_dek(m_ring, key, *env));
  CARTORIO_TRY(auto sha, open_digest(dek, key, *env));
  auto plaintext = crypto::aead_open(dek, crypto::as_bytes(stored.data), data_aad(key));
  if (!plaintext) return damaged(key, "does not decrypt (tampered with, or moved from another object)");
  if (crypto::sha256(plaintext->view()) != sha) return damaged(key, "does not match its sealed SHA-256 (ETag)");
  Object out;
  out.data.assign(plaintext->str());
  out.info = caller_info(std::move(stored.info), out.data.size(), crypto::to_hex(sha));
  return out;
}

core::Result<ObjectInfo> EncryptedObjectStore::open_info(std::string_view key, ObjectInfo stored) {
  CARTORIO_TRY(std::optional<Envelope> env, parse_envelope(key, stored.metadata));
  if (!env) {
    if (m_options.allow_plaintext_reads) return stored;
    return damaged(key, "has no encryption envelope (stored before encryption at rest was enabled?); "
                        "allow_plaintext_reads reads such objects while migrating");
  }
  if (stored.size < crypto::kAeadOverhead) return damaged(key, "is shorter than its encryption overhead");
  CARTORIO_TRY(crypto::SecretBytes dek, unwrap_dek(m_ring, key, *env));
  CARTORIO_TRY(auto sha, open_digest(dek, key, *env));
  const std::uint64_t size = plaintext_size(stored.size);
  return caller_info(std::move(stored), size, crypto::to_hex(sha));
}

core::Result<Object> EncryptedObjectStore::get(std::string_view key) {
  CARTORIO_TRY(Object stored, m_inner->get(key));
  return open(key, std::move(stored));
}

core::Result<Object> EncryptedObjectStore::get_version(std::string_view key, std::string_view version_id) {
  CARTORIO_TRY(Object stored, m_inner->get_version(key, version_id));
  return open(key, std::move(stored));
}

core::Result<ObjectInfo> EncryptedObjectStore::head(std::string_view key) {
  CARTORIO_TRY(ObjectInfo stored, m_inner->head(key));
  return open_info(key, std::move(stored));
}

// Listings carry sizes only, so they are adjusted without opening anything: every
// encrypted object is its plaintext plus the constant overhead. (A plaintext object of the
// migration window lists 28 bytes short; head() and get() report it right.)
core::Result<ListPage> EncryptedObjectStore::list(std::string_view prefix, std::size_t limit,
                                                  std::string_view start_after) {
  CARTORIO_TRY(ListPage page, m_inner->list(prefix, limit, start_after));
  for (auto& e : page.entries) e.size = plaintext_size(e.size);
  return page;
}

core::Result<VersionPage> EncryptedObjectStore::list_versions(std::string_view key, std::size_t limit,
                                                              std::string_view after_version) {
  CARTORIO_TRY(VersionPage page, m_inner->list_versions(key, limit, after_version));
  for (auto& e : page.entries)
    if (!e.delete_marker) e.size = plaintext_size(e.size);
  return page;
}

core::Result<ListPage> EncryptedObjectStore::list_versioned_keys(std::string_view prefix, std::size_t limit,
                                                                 std::string_view start_after) {
  CARTORIO_TRY(ListPage page, m_inner->list_versioned_keys(prefix, limit, start_after));
  for (auto& e : page.entries) e.size = plaintext_size(e.size);  // a delete marker's 0 stays 0
  return page;
}

core::Result<void> EncryptedObjectStore::check() {
  CARTORIO_TRY_VOID(m_inner->check());
  auto kek = usable_active_key(m_ring);
  if (!kek) return core::Error(Errc::store_unavailable, kek.error().message);
  return core::ok();
}

core::Result<std::size_t> EncryptedObjectStore::reencrypt(std::string_view prefix) {
  CARTORIO_TRY(auto active, usable_active_key(m_ring));
  const keys::DataKey& kek = *active;
  std::size_t rewritten = 0;
  std::string after;
  for (;;) {
    CARTORIO_TRY(ListPage page, m_inner->list(prefix, kMaxListLimit, after));
    for (const auto& entry : page.entries) {
      CARTORIO_TRY(bool done, reencrypt_one(entry.key, kek));
      if (done) ++rewritten;
    }
    if (!page.truncated) return rewritten;
    after = page.next_start_after;
  }
}

core::Result<bool> EncryptedObjectStore::reencrypt_one(std::string_view key, const keys::DataKey& kek) {
  // head() first: objects already under the active key (most of them, on a rerun) are not read.
  auto head = m_inner->head(key);
  if (!head && head.error().code == Errc::not_found) return false;  // erased since the listing
  if (!head) return std::move(head).error();
  CARTORIO_TRY(std::optional<Envelope> env, parse_envelope(key, head->metadata));
  if (env && env->key_id == kek.id) return false;

  auto got = m_inner->get(key);
  if (!got && got.error().code == Errc::not_found) return false;
  if (!got) return std::move(got).error();
  Object& stored = *got;
  CARTORIO_TRY(env, parse_envelope(key, stored.info.metadata));  // the object read, not the one headed
  if (env && env->key_id == kek.id) return false;

  std::string data;
  PutOptions options;
  if (env) {
    // Re-wrap the DEK only: ciphertext and sealed digest stay as they are.
    CARTORIO_TRY(crypto::SecretBytes dek, unwrap_dek(m_ring, key, *env));
    CARTORIO_TRY(crypto::Bytes wrapped, crypto::aead_seal(kek.key, dek.view(), dek_aad(kek.id, key)));
    options.content_type = stored.info.content_type;
    options.metadata = std::move(stored.info.metadata);
    set_envelope(options.metadata, kek, wrapped, crypto::to_base64url(env->sealed_sha));
    options.sha256_hex = stored.info.etag;  // the same ciphertext: the inner store verified it on get
    data = std::move(stored.data);
  } else {
    if (!m_options.allow_plaintext_reads)
      return damaged(key, "has no encryption envelope; set allow_plaintext_reads to encrypt such objects");
    PutOptions plain;
    plain.content_type = stored.info.content_type;
    plain.metadata = std::move(stored.info.metadata);
    plain.sha256_hex = stored.info.etag;  // the plaintext's, verified by the inner get
    auto sealed = seal(key, stored.data, plain, &kek);
    if (!sealed) return damaged(key, "cannot be encrypted: " + sealed.error().message);
    data.assign(as_text(sealed->ciphertext));
    options = std::move(sealed->inner_options);
  }

  // Narrows (cannot close: the contract has no conditional put) the window in which a
  // concurrent writer's object would be replaced by this older one. In a versioned store the
  // writer's object stays as a noncurrent version even then.
  auto now = m_inner->head(key);
  if (!now && now.error().code == Errc::not_found) return false;
  if (!now) return std::move(now).error();
  if (now->version_id != stored.info.version_id || now->etag != stored.info.etag ||
      now->last_modified != stored.info.last_modified)
    return false;
  CARTORIO_TRY_VOID(m_inner->put(key, data, options));
  return true;
}

}  // namespace cartorio::objectstore
