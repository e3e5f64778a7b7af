// SoftwareKeyStore: private keys in files, sealed by envelope encryption (the KMS role on one
// machine).
//
//   master key (key file or scrypt(passphrase))      -- never stored in the directory
//     └─ seals data keys        (AES-256-GCM, AAD = data key id)         data_keys.json
//          └─ active one seals private keys (PKCS#8 DER; AAD = key id,
//             label, algorithm, public key)                                keys/<id>.json
//
// Layout of `directory` (0700, every file 0600, written atomically):
//   master.json      how the master key is obtained (kind, scrypt salt/params) and a check
//                    value that tells a wrong master key from a tampered file
//   data_keys.json   sealed data keys, the active one's id; retired keys stay to open old keys
//   keys/<id>.json   one private key: id, label, algorithm, data key id, public key, sealed blob
//   .lock            flock(2) that serialises writers across processes
// No plaintext key byte is ever written. Format details: docs/keys.md.
//
// The data keys double as a DataKeyRing (keys/data_key_ring.h) for encryption at rest. The
// composition root opens a separate directory for that role (same master key), so the keys
// sealing private keys never encrypt data and rotating one set leaves the other alone.
//
// KeyRef: "soft:<32 hex digits>". capabilities(): not hardware-backed, not exportable through
// this interface, deletes keys.
//
// Thread-safety: all members may be called concurrently (one mutex around the directory and the
// data-key cache; writers also take .lock). A key is unsealed once and kept: its Signers share
// that EVP_PKEY (OpenSSL signs with one key from several threads), which is freed and wiped
// when the last of them and the store's cache let go.
#pragma once

#include "core/clock.h"
#include "crypto/primitives.h"
#include "crypto/secret_bytes.h"
#include "keys/data_key_ring.h"
#include "keys/key_store.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::keys {

struct SoftwareKeyStoreOptions {
  // Where the keys live; created (0700) with a fresh master.json and first data key when it
  // does not exist or is empty.
  std::filesystem::path directory;
  // Master key from a file of 64 hex digits, mode 0600 (see create_master_key_file)...
  std::filesystem::path master_key_file;
  // ...or from a passphrase through scrypt. Exactly one of the two must be set.
  crypto::SecretBytes passphrase;
  // scrypt cost used when a passphrase directory is initialised; later opens read the
  // parameters from master.json.
  crypto::ScryptParams scrypt{};
  // Timestamps written into data_keys.json and key files; nullptr means the system clock.
  // Not owned; must outlive the store.
  const core::Clock* clock = nullptr;
};

// Writes a new random 32-byte master key as hex to `path`, mode 0600, atomically and durably.
// Errc::already_exists when `path` exists (it is never overwritten), Errc::io_error.
core::Result<void> create_master_key_file(const std::filesystem::path& path);

class SoftwareKeyStore final : public KeyStore, public DataKeyRing {
 public:
  // Opens (or initialises) the key directory and checks the master key against it.
  // Errc::config_invalid (options, key file format or permissions, passphrase given for a
  // key-file directory or the reverse), Errc::wrong_passphrase (passphrase does not open the
  // directory), Errc::key_backend (key file does not open it, or the directory is damaged),
  // Errc::io_error.
  static core::Result<std::unique_ptr<SoftwareKeyStore>> open(SoftwareKeyStoreOptions options);

 private:
  // Only members can name Passkey: open() uses make_unique while the constructor stays out of
  // reach of callers (a store must be checked against its directory first).
  struct Passkey {
    explicit Passkey() = default;
  };

 public:
  SoftwareKeyStore(Passkey, SoftwareKeyStoreOptions options, crypto::SecretBytes master_key);

  ~SoftwareKeyStore() override;
  SoftwareKeyStore(const SoftwareKeyStore&) = delete;
  SoftwareKeyStore& operator=(const SoftwareKeyStore&) = delete;

  std::string backend_name() const override { return "software"; }
  Capabilities capabilities() const override;
  // Also Errc::invalid_argument for a bad label (see docs/keys.md).
  core::Result<KeyInfo> create_key(const CreateKeyRequest& req) override;
  core::Result<crypto::PKey> public_key(const KeyRef& ref) override;
  // Errc::key_backend when the sealed key does not open (tampered, moved to another name,
  // or its data key is gone).
  core::Result<std::unique_ptr<Signer>> signer(const KeyRef& ref, const KeyUse& use) override;
  core::Result<std::vector<KeyInfo>> list_keys() override;
  core::Result<void> destroy_key(const KeyRef& ref) override;
  core::Result<void> check() override;

  // DataKeyRing. Ids are "dk-<16 hex digits>".
  // Re-reads data_keys.json (no unsealing of keys already known), so a rotation made by
  // another process is used from the next call on.
  core::Result<std::shared_ptr<const DataKey>> active_data_key() override;
  // Re-reads data_keys.json only for an id not seen yet.
  core::Result<std::shared_ptr<const DataKey>> find_data_key(std::string_view id) override;
  // Makes a new active data key and returns its id; keys created from now on are sealed under
  // it, existing keys keep opening with their (now retired) data key.
  core::Result<std::string> rotate_data_key() override;
  core::Result<std::vector<DataKeyInfo>> data_keys() override;

  // Re-seals every key not sealed under the active data key; returns how many were re-sealed.
  // Retired data keys are kept (a backup of an old key file still opens).
  core::Result<std::size_t> reseal_all();

 private:
  struct KeyFile;
  struct SealedDataKey {
    std::shared_ptr<const DataKey> key;  // unsealed; shared with DataKeyRing callers
    std::int64_t created_at = 0;
    std::string sealed_b64;  // as stored, so rewriting the index does not re-seal
  };

  std::int64_t now() const;
  std::filesystem::path key_path(const std::string& id) const;
  core::Result<void> initialise_directory_locked();
  core::Result<void> load_data_keys_locked();
  core::Result<void> write_data_keys_locked();
  // Errc::key_not_found when the id is not in data_keys.json (re-read once to be sure).
  core::Result<std::shared_ptr<const DataKey>> data_key_locked(std::string_view id);
  core::Result<KeyFile> read_key_file(const std::string& id) const;
  core::Result<std::vector<KeyFile>> read_all_key_files() const;
  core::Result<crypto::PKey> unseal_locked(const KeyFile& kf);
  core::Result<void> seal_and_write_locked(KeyFile& kf, const crypto::SecretBytes& pkcs8);

  SoftwareKeyStoreOptions m_options;
  crypto::SecretBytes m_master_key;  // key-encryption key for data keys; wiped on destruction
  std::mutex m_mutex;                // guards everything below and the directory contents
  std::map<std::string, SealedDataKey, std::less<>> m_data_keys;
  // Unsealed private keys by id, so a signature does not pay for reading, opening and
  // decoding its key (and OpenSSL rebuilding RSA blinding) every time. A key's material never
  // changes under its id (re-sealing keeps it); destroy_key drops it.
  std::map<std::string, std::shared_ptr<const crypto::PKey>> m_unsealed;
  std::string m_active_data_key;
};

}  // namespace cartorio::keys
