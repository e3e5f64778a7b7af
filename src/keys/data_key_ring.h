// DataKeyRing: symmetric data keys for encrypting data at rest (the KMS data-key role):
// objects in the ObjectStore, encrypted fields. Callers wrap their own per-item keys (DEKs)
// under the active data key with AES-256-GCM and store the data key's id beside what they
// wrapped; reading looks the id up again.
//
// Rotation adds a new active key and keeps every old one, so everything wrapped before keeps
// opening until its owner re-wraps it (a retired key is never deleted through this interface:
// a backup may still need it).
//
// Keys handed out are immutable and wiped when the last holder lets go; a caller may keep one
// for a batch of writes, but should ask active_data_key() again per write so a rotation made
// by another instance is picked up.
//
// Thread-safety: every implementation is safe to call from several threads.
#pragma once

#include "core/error.h"
#include "crypto/secret_bytes.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::keys {

struct DataKey {
  std::string id;          // printable ASCII, at most kMaxDataKeyIdBytes; "dk-<16 hex>" in software
  crypto::SecretBytes key;  // crypto::kAeadKeySize (32) bytes, AES-256-GCM
};

// Callers store ids next to their data (object metadata, a column): bounded so they can
// budget for it.
inline constexpr std::size_t kMaxDataKeyIdBytes = 128;

struct DataKeyInfo {
  std::string id;
  bool active = false;
  std::int64_t created_at = 0;  // Unix seconds
};

class DataKeyRing {
 public:
  virtual ~DataKeyRing() = default;

  // The key new data is wrapped under. Errc::key_backend, Errc::io_error.
  virtual core::Result<std::shared_ptr<const DataKey>> active_data_key() = 0;
  // Any key of the ring, active or retired. Errc::key_not_found for an id the ring never
  // had (or lost); Errc::key_backend, Errc::io_error.
  virtual core::Result<std::shared_ptr<const DataKey>> find_data_key(std::string_view id) = 0;
  // Makes a new active key and returns its id; the previous ones stay findable.
  virtual core::Result<std::string> rotate_data_key() = 0;
  // Every key, oldest first; exactly one is active.
  virtual core::Result<std::vector<DataKeyInfo>> data_keys() = 0;
};

}  // namespace cartorio::keys
