#include "keys/software/software_key_store.h"

#include "crypto/bytes.h"
#include "crypto/framing.h"
#include "crypto/key_pair.h"
#include "keys/detail/atomic_file.h"
#include "keys/detail/key_label.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>

namespace cartorio::keys {

namespace fs = std::filesystem;
using core::Errc;
using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;
constexpr std::string_view kUriScheme = "soft:";
constexpr std::size_t kKeyIdBytes = 16;
constexpr std::size_t kDataKeyIdBytes = 8;
constexpr std::string_view kMasterCheckPlaintext = "cartorio master key check";
constexpr std::string_view kKindKeyFile = "key-file";
constexpr std::string_view kKindPassphrase = "passphrase";

const core::SystemClock& system_clock() {
  static const core::SystemClock clock;
  return clock;
}

// Associated data as length-prefixed fields (crypto/framing.h).
crypto::Bytes master_check_aad() { return crypto::length_prefixed({crypto::as_bytes("cartorio/master-check/v1")}); }
crypto::Bytes data_key_aad(const std::string& id) {
  return crypto::length_prefixed({crypto::as_bytes("cartorio/data-key/v1"), crypto::as_bytes(id)});
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "soft:<32 hex>" -> id. Anything else names no key of this store; checking the shape also
// keeps a crafted reference from escaping keys/ ("soft:../../x").
core::Result<std::string> parse_ref(const KeyRef& ref) {
  std::string_view uri = ref.uri;
  if (uri.substr(0, kUriScheme.size()) != kUriScheme)
    return {Errc::key_not_found, "not a software key reference: '" + ref.uri + "'"};
  std::string_view id = uri.substr(kUriScheme.size());
  if (id.size() != 2 * kKeyIdBytes || !is_lower_hex(id))
    return {Errc::key_not_found, "malformed software key reference: '" + ref.uri + "'"};
  return std::string(id);
}

KeyRef make_ref(const std::string& id) { return KeyRef{std::string(kUriScheme) + id}; }

std::shared_ptr<const DataKey> make_data_key(const std::string& id, crypto::SecretBytes key) {
  return std::make_shared<const DataKey>(DataKey{id, std::move(key)});
}

crypto::ByteView view(const crypto::Bytes& b) { return b; }

std::string json_text(const json& j) { return j.dump(2) + "\n"; }

core::Result<json> parse_json(const std::string& text, const fs::path& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return {Errc::key_backend, "corrupt file " + where.string() + ": not a JSON object"};
  return j;
}

// Typed field access that reports the file and field instead of throwing.
core::Result<std::string> str_field(const json& j, const char* name, const fs::path& where) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return {Errc::key_backend, "corrupt file " + where.string() + ": field '" + name + "' missing or not a string"};
  return it->get<std::string>();
}
core::Result<std::int64_t> int_field(const json& j, const char* name, const fs::path& where) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer())
    return {Errc::key_backend, "corrupt file " + where.string() + ": field '" + name + "' missing or not an integer"};
  return it->get<std::int64_t>();
}
core::Result<crypto::Bytes> b64_field(const json& j, const char* name, const fs::path& where) {
  CARTORIO_TRY(std::string s, str_field(j, name, where));
  auto b = crypto::from_base64(s);
  if (!b) return {Errc::key_backend, "corrupt file " + where.string() + ": field '" + name + "' is not base64"};
  return std::move(*b);
}

// The master key from a key file: 64 hex digits, readable by the owner only.
core::Result<crypto::SecretBytes> read_master_key_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return {Errc::config_invalid, "master key file " + path.string() + " cannot be read"};
  if ((st.st_mode & 077) != 0)
    return {Errc::config_invalid, "master key file " + path.string() +
                                      " is accessible by group or others; chmod 600 it"};
  auto text = detail::read_file(path);
  if (!text) return {Errc::config_invalid, "master key file: " + text.error().message};
  crypto::SecretBytes content{std::string_view(*text)};
  std::fill(text->begin(), text->end(), '\0');
  std::string_view s = content.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  if (s.size() != 2 * crypto::kAeadKeySize)
    return {Errc::config_invalid, "master key file " + path.string() + " must hold 64 hex digits"};
  crypto::SecretBytes key(crypto::kAeadKeySize);
  for (std::size_t i = 0; i < key.size(); ++i) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return {Errc::config_invalid, "master key file " + path.string() + " must hold 64 hex digits"};
    key.data()[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

// Shares the store's unsealed key: OpenSSL signs with one EVP_PKEY from several threads
// at once (each operation has its own context).
class SoftwareSigner final : public Signer {
 public:
  SoftwareSigner(KeyRef ref, std::shared_ptr<const crypto::PKey> key) : m_ref(std::move(ref)), m_key(std::move(key)) {}
  const KeyRef& ref() const override { return m_ref; }
  EVP_PKEY* pkey() const override { return m_key->get(); }

 private:
  KeyRef m_ref;
  std::shared_ptr<const crypto::PKey> m_key;  // EVP_PKEY_free clears the private key material
};

// Keys kept unsealed in memory at once; beyond, the cache starts over (an installation has
// a handful: CAs, OCSP responders, TSA, token signing keys).
constexpr std::size_t kMaxUnsealedKeys = 64;

}  // namespace

struct SoftwareKeyStore::KeyFile {
  std::string id;
  std::string label;
  crypto::KeyAlgorithm algorithm = crypto::KeyAlgorithm::ec_p256;
  std::string data_key;
  std::int64_t created_at = 0;
  crypto::Bytes public_key;  // SubjectPublicKeyInfo DER
  crypto::Bytes sealed;      // AES-256-GCM(data key, PKCS#8 DER, aad)

  // Everything that names the key is authenticated with it: a blob copied into another key's
  // file, or a file whose label/algorithm/public key was edited, does not open.
  crypto::Bytes aad() const {
    return crypto::length_prefixed({crypto::as_bytes("cartorio/soft-key/v1"), crypto::as_bytes(id), crypto::as_bytes(label),
                     crypto::as_bytes(crypto::key_algorithm_name(algorithm)), view(public_key)});
  }
  KeyInfo info() const { return KeyInfo{make_ref(id), label, algorithm, "software"}; }
  json to_json() const {
    return json{{"version", kFormatVersion},
                {"id", id},
                {"label", label},
                {"algorithm", std::string(crypto::key_algorithm_name(algorithm))},
                {"data_key", data_key},
                {"created_at", created_at},
                {"public_key", crypto::to_base64(public_key)},
                {"sealed", crypto::to_base64(sealed)}};
  }
  static core::Result<KeyFile> from_json(const json& j, const fs::path& where) {
    KeyFile kf;
    CARTORIO_TRY(kf.id, str_field(j, "id", where));
    CARTORIO_TRY(kf.label, str_field(j, "label", where));
    CARTORIO_TRY(std::string alg, str_field(j, "algorithm", where));
    auto parsed = crypto::parse_key_algorithm(alg);
    if (!parsed) return {Errc::key_backend, "corrupt file " + where.string() + ": unknown algorithm '" + alg + "'"};
    kf.algorithm = *parsed;
    CARTORIO_TRY(kf.data_key, str_field(j, "data_key", where));
    CARTORIO_TRY(kf.created_at, int_field(j, "created_at", where));
    CARTORIO_TRY(kf.public_key, b64_field(j, "public_key", where));
    CARTORIO_TRY(kf.sealed, b64_field(j, "sealed", where));
    return kf;
  }
};

core::Result<void> create_master_key_file(const fs::path& path) {
  crypto::SecretBytes key = crypto::random_secret(crypto::kAeadKeySize);
  std::string hex = crypto::to_hex(key.view()) + "\n";
  crypto::SecretBytes text{std::string_view(hex)};  // wiped; the std::string copy is cleared below
  std::fill(hex.begin(), hex.end(), '\0');
  if (path.has_parent_path()) {
    std::error_code ec;
    if (!fs::is_directory(path.parent_path(), ec))
      return {Errc::io_error, "directory " + path.parent_path().string() + " does not exist"};
  }
  return detail::write_file_exclusive(path, text.view());
}

SoftwareKeyStore::SoftwareKeyStore(Passkey, SoftwareKeyStoreOptions options, crypto::SecretBytes master_key)
    : m_options(std::move(options)), m_master_key(std::move(master_key)) {}

SoftwareKeyStore::~SoftwareKeyStore() = default;

core::Result<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::open(SoftwareKeyStoreOptions options) {
  if (options.directory.empty()) return {Errc::config_invalid, "software key store: directory is not set"};
  const bool use_file = !options.master_key_file.empty();
  const bool use_pass = !options.passphrase.empty();
  if (use_file == use_pass)
    return {Errc::config_invalid, "software key store: set exactly one of master_key_file and passphrase"};

  CARTORIO_TRY_VOID(detail::ensure_private_directory(options.directory));
  CARTORIO_TRY(detail::FileLock lock, detail::FileLock::acquire(options.directory / ".lock"));

  const fs::path master_path = options.directory / "master.json";
  auto master_text = detail::read_file(master_path);
  if (!master_text && master_text.error().code != Errc::not_found) return std::move(master_text).error();
  const std::string_view kind = use_file ? kKindKeyFile : kKindPassphrase;

  if (!master_text) {
    // Initialise only a directory that holds no key: keys without their master.json are a
    // damaged store, and a fresh master key would orphan them. What an interrupted
    // initialisation leaves (data_keys.json, an empty keys/, temp files) is fine to redo.
    for (const auto& entry : fs::directory_iterator(options.directory)) {
      const std::string name = entry.path().filename().string();
      std::error_code ec;
      const bool leftover = name == ".lock" || name == "data_keys.json" ||
                            name.find(".tmp") != std::string::npos ||
                            (name == "keys" && fs::is_empty(entry.path(), ec));
      if (!leftover)
        return {Errc::key_backend, "key directory " + options.directory.string() +
                                       " has content but no master.json; refusing to initialise it"};
    }
    json master{{"version", kFormatVersion}, {"kind", std::string(kind)}};
    crypto::SecretBytes kek;
    if (use_file) {
      CARTORIO_TRY(kek, read_master_key_file(options.master_key_file));
    } else {
      crypto::Bytes salt = crypto::random_bytes(16);
      CARTORIO_TRY(kek, crypto::scrypt_derive(options.passphrase.str(), salt, options.scrypt));
      master["scrypt"] = json{{"salt", crypto::to_hex(salt)},
                              {"n", options.scrypt.n},
                              {"r", options.scrypt.r},
                              {"p", options.scrypt.p}};
    }
    CARTORIO_TRY(crypto::Bytes check, crypto::aead_seal(kek, crypto::as_bytes(kMasterCheckPlaintext), master_check_aad()));
    master["check"] = crypto::to_base64(check);
    auto store = std::make_unique<SoftwareKeyStore>(Passkey{}, std::move(options), std::move(kek));
    CARTORIO_TRY_VOID(store->initialise_directory_locked());
    // master.json last: a crash before this leaves a directory that is initialised again.
    const std::string text = json_text(master);
    CARTORIO_TRY_VOID(detail::write_file_atomic(master_path, crypto::as_bytes(text)));
    return store;
  }

  CARTORIO_TRY(json master, parse_json(*master_text, master_path));
  CARTORIO_TRY(std::string stored_kind, str_field(master, "kind", master_path));
  if (stored_kind != kind)
    return {Errc::config_invalid, "key directory " + options.directory.string() + " is sealed with a " +
                                      stored_kind + " master key, but a " + std::string(kind) + " was given"};
  crypto::SecretBytes kek;
  if (use_file) {
    CARTORIO_TRY(kek, read_master_key_file(options.master_key_file));
  } else {
    auto sc = master.find("scrypt");
    if (sc == master.end() || !sc->is_object()) return {Errc::key_backend, "corrupt master.json: no scrypt parameters"};
    CARTORIO_TRY(std::string salt_hex, str_field(*sc, "salt", master_path));
    CARTORIO_TRY(std::int64_t n, int_field(*sc, "n", master_path));
    CARTORIO_TRY(std::int64_t r, int_field(*sc, "r", master_path));
    CARTORIO_TRY(std::int64_t p, int_field(*sc, "p", master_path));
    auto salt = crypto::from_hex(salt_hex);
    if (!salt || n <= 1 || r <= 0 || p <= 0) return {Errc::key_backend, "corrupt master.json: bad scrypt parameters"};
    crypto::ScryptParams params{static_cast<std::uint64_t>(n), static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(p)};
    CARTORIO_TRY(kek, crypto::scrypt_derive(options.passphrase.str(), *salt, params));
  }
  CARTORIO_TRY(crypto::Bytes check, b64_field(master, "check", master_path));
  if (!crypto::aead_open(kek, check, master_check_aad())) {
    if (use_file)
      return {Errc::key_backend, "the master key file does not open key directory " + options.directory.string() +
                                     " (wrong master key)"};
    return {Errc::wrong_passphrase, "the passphrase does not open key directory " + options.directory.string()};
  }
  auto store = std::make_unique<SoftwareKeyStore>(Passkey{}, std::move(options), std::move(kek));
  std::lock_guard guard(store->m_mutex);
  CARTORIO_TRY_VOID(store->load_data_keys_locked());
  return store;
}

std::int64_t SoftwareKeyStore::now() const {
  return core::to_unix((m_options.clock ? *m_options.clock : system_clock()).now());
}

fs::path SoftwareKeyStore::key_path(const std::string& id) const {
  return m_options.directory / "keys" / (id + ".json");
}

core::Result<void> SoftwareKeyStore::initialise_directory_locked() {
  CARTORIO_TRY_VOID(detail::ensure_private_directory(m_options.directory / "keys"));
  const std::string id = "dk-" + crypto::to_hex(crypto::random_bytes(kDataKeyIdBytes));
  crypto::SecretBytes key = crypto::random_secret(crypto::kAeadKeySize);
  CARTORIO_TRY(crypto::Bytes sealed, crypto::aead_seal(m_master_key, key.view(), data_key_aad(id)));
  m_data_keys.clear();
  m_data_keys.emplace(id, SealedDataKey{make_data_key(id, std::move(key)), now(), crypto::to_base64(sealed)});
  m_active_data_key = id;
  return write_data_keys_locked();
}

core::Result<void> SoftwareKeyStore::write_data_keys_locked() {
  json list = json::array();
  for (const auto& [id, dk] : m_data_keys) {
    list.push_back(json{{"id", id},
                        {"state", id == m_active_data_key ? "active" : "retired"},
                        {"created_at", dk.created_at},
                        {"sealed", dk.sealed_b64}});
  }
  json index{{"version", kFormatVersion}, {"active", m_active_data_key}, {"data_keys", list}};
  const std::string text = json_text(index);
  return detail::write_file_atomic(m_options.directory / "data_keys.json", crypto::as_bytes(text));
}

// (Re)reads data_keys.json: another store on the same directory may have rotated. Data keys
// already unsealed are kept, new ones are unsealed with the master key.
core::Result<void> SoftwareKeyStore::load_data_keys_locked() {
  const fs::path path = m_options.directory / "data_keys.json";
  auto text = detail::read_file(path);
  if (!text) {
    if (text.error().code == Errc::not_found)
      return {Errc::key_backend, "key directory " + m_options.directory.string() + " has no data_keys.json"};
    return std::move(text).error();
  }
  CARTORIO_TRY(json index, parse_json(*text, path));
  CARTORIO_TRY(std::string active, str_field(index, "active", path));
  auto list = index.find("data_keys");
  if (list == index.end() || !list->is_array()) return {Errc::key_backend, "corrupt " + path.string() + ": no data_keys"};
  std::map<std::string, SealedDataKey, std::less<>> loaded;
  for (const auto& entry : *list) {
    if (!entry.is_object()) return {Errc::key_backend, "corrupt " + path.string() + ": bad entry"};
    CARTORIO_TRY(std::string id, str_field(entry, "id", path));
    CARTORIO_TRY(std::int64_t created_at, int_field(entry, "created_at", path));
    CARTORIO_TRY(std::string sealed_b64, str_field(entry, "sealed", path));
    if (auto it = m_data_keys.find(id); it != m_data_keys.end() && it->second.sealed_b64 == sealed_b64) {
      loaded.emplace(id, SealedDataKey{it->second.key, created_at, sealed_b64});
      continue;
    }
    auto sealed = crypto::from_base64(sealed_b64);
    if (!sealed) return {Errc::key_backend, "corrupt " + path.string() + ": data key " + id + " is not base64"};
    auto key = crypto::aead_open(m_master_key, *sealed, data_key_aad(id));
    if (!key) return {Errc::key_backend, "data key " + id + " in " + path.string() + " does not open: tampered or sealed under another master key"};
    if (key->size() != crypto::kAeadKeySize) return {Errc::key_backend, "data key " + id + " has the wrong size"};
    loaded.emplace(id, SealedDataKey{make_data_key(id, std::move(key).value()), created_at, sealed_b64});
  }
  if (!loaded.count(active)) return {Errc::key_backend, "corrupt " + path.string() + ": active data key " + active + " is not listed"};
  m_data_keys = std::move(loaded);
  m_active_data_key = active;
  return core::ok();
}

core::Result<std::shared_ptr<const DataKey>> SoftwareKeyStore::data_key_locked(std::string_view id) {
  if (m_data_keys.find(id) == m_data_keys.end()) CARTORIO_TRY_VOID(load_data_keys_locked());
  auto it = m_data_keys.find(id);
  if (it == m_data_keys.end())
    return {Errc::key_not_found, "data key " + std::string(id) + " is not in key directory " + m_options.directory.string()};
  return it->second.key;
}

core::Result<SoftwareKeyStore::KeyFile> SoftwareKeyStore::read_key_file(const std::string& id) const {
  const fs::path path = key_path(id);
  auto text = detail::read_file(path);
  if (!text) {
    if (text.error().code == Errc::not_found) return {Errc::key_not_found, "no software key " + std::string(kUriScheme) + id};
    return std::move(text).error();
  }
  CARTORIO_TRY(json j, parse_json(*text, path));
  CARTORIO_TRY(KeyFile kf, KeyFile::from_json(j, path));
  if (kf.id != id) return {Errc::key_backend, "key file " + path.string() + " names another key (" + kf.id + ")"};
  return kf;
}

core::Result<std::vector<SoftwareKeyStore::KeyFile>> SoftwareKeyStore::read_all_key_files() const {
  std::vector<KeyFile> out;
  std::error_code ec;
  fs::directory_iterator it(m_options.directory / "keys", ec);
  if (ec) return {Errc::io_error, "cannot list " + (m_options.directory / "keys").string() + ": " + ec.message()};
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    // Only "<id>.json": temp files of an interrupted write are not keys.
    if (name.size() != 2 * kKeyIdBytes + 5 || name.substr(2 * kKeyIdBytes) != ".json") continue;
    const std::string id = name.substr(0, 2 * kKeyIdBytes);
    if (!is_lower_hex(id)) continue;
    auto kf = read_key_file(id);
    if (!kf) {
      if (kf.error().code == Errc::key_not_found) continue;  // destroyed meanwhile
      return std::move(kf).error();
    }
    out.push_back(std::move(kf).value());
  }
  std::sort(out.begin(), out.end(), [](const KeyFile& a, const KeyFile& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.label < b.label;
  });
  return out;
}

core::Result<crypto::PKey> SoftwareKeyStore::unseal_locked(const KeyFile& kf) {
  auto dk = data_key_locked(kf.data_key);
  if (!dk) {
    // A private key whose data key is gone is a damaged store, not an unknown key.
    if (dk.error().code == Errc::key_not_found) return {Errc::key_backend, dk.error().message};
    return std::move(dk).error();
  }
  auto der = crypto::aead_open((*dk)->key, kf.sealed, kf.aad());
  if (!der)
    return {Errc::key_backend, "sealed key " + std::string(kUriScheme) + kf.id +
                                   " does not open: the file was tampered with or moved from another key"};
  auto key = crypto::private_key_from_der(der->view());
  if (!key) return {Errc::key_backend, "sealed key " + std::string(kUriScheme) + kf.id + " holds no valid private key"};
  return std::move(key).value();
}

core::Result<void> SoftwareKeyStore::seal_and_write_locked(KeyFile& kf, const crypto::SecretBytes& pkcs8) {
  CARTORIO_TRY(std::shared_ptr<const DataKey> dk, data_key_locked(m_active_data_key));
  kf.data_key = m_active_data_key;
  CARTORIO_TRY(kf.sealed, crypto::aead_seal(dk->key, pkcs8.view(), kf.aad()));
  const std::string text = json_text(kf.to_json());
  return detail::write_file_atomic(key_path(kf.id), crypto::as_bytes(text));
}

Capabilities SoftwareKeyStore::capabilities() const {
  return Capabilities{.hardware_backed = false, .exportable = false, .deletes_keys = true};
}

core::Result<KeyInfo> SoftwareKeyStore::create_key(const CreateKeyRequest& req) {
  CARTORIO_TRY_VOID(detail::validate_key_label(req.label));
  // Generate outside the lock: an RSA-4096 key takes seconds and blocks nobody else.
  auto key = crypto::generate_key(req.algorithm);
  if (!key) return {Errc::key_backend, "key generation failed: " + key.error().message};
  CARTORIO_TRY(crypto::SecretBytes pkcs8, crypto::private_key_to_der(key->get()));

  std::lock_guard guard(m_mutex);
  CARTORIO_TRY(detail::FileLock lock, detail::FileLock::acquire(m_options.directory / ".lock"));
  CARTORIO_TRY_VOID(load_data_keys_locked());  // seal under the data key active right now
  CARTORIO_TRY(std::vector<KeyFile> existing, read_all_key_files());
  for (const auto& kf : existing)
    if (kf.label == req.label) return {Errc::already_exists, "a key labelled '" + req.label + "' already exists"};

  KeyFile kf;
  kf.id = crypto::to_hex(crypto::random_bytes(kKeyIdBytes));
  kf.label = req.label;
  kf.algorithm = req.algorithm;
  kf.created_at = now();
  CARTORIO_TRY(kf.public_key, crypto::public_key_to_der(key->get()));
  CARTORIO_TRY_VOID(seal_and_write_locked(kf, pkcs8));
  return kf.info();
}

core::Result<crypto::PKey> SoftwareKeyStore::public_key(const KeyRef& ref) {
  CARTORIO_TRY(std::string id, parse_ref(ref));
  CARTORIO_TRY(KeyFile kf, read_key_file(id));
  auto key = crypto::public_key_from_der(kf.public_key);
  if (!key) return {Errc::key_backend, "key file for " + ref.uri + " holds a bad public key"};
  return std::move(key).value();
}

core::Result<std::unique_ptr<Signer>> SoftwareKeyStore::signer(const KeyRef& ref, const KeyUse& /*use*/) {
  CARTORIO_TRY(std::string id, parse_ref(ref));
  // Another process may have destroyed the key: its file decides, even when it is cached.
  std::error_code ec;
  if (!fs::is_regular_file(key_path(id), ec)) return {Errc::key_not_found, "no software key " + ref.uri};
  std::lock_guard guard(m_mutex);
  auto it = m_unsealed.find(id);
  if (it == m_unsealed.end()) {
    CARTORIO_TRY(KeyFile kf, read_key_file(id));
    CARTORIO_TRY(crypto::PKey key, unseal_locked(kf));
    if (m_unsealed.size() >= kMaxUnsealedKeys) m_unsealed.clear();
    it = m_unsealed.emplace(id, std::make_shared<const crypto::PKey>(std::move(key))).first;
  }
  return std::unique_ptr<Signer>(std::make_unique<SoftwareSigner>(make_ref(id), it->second));
}

core::Result<std::vector<KeyInfo>> SoftwareKeyStore::list_keys() {
  CARTORIO_TRY(std::vector<KeyFile> files, read_all_key_files());
  std::vector<KeyInfo> out;
  out.reserve(files.size());
  for (const auto& kf : files) out.push_back(kf.info());
  return out;
}

core::Result<void> SoftwareKeyStore::destroy_key(const KeyRef& ref) {
  CARTORIO_TRY(std::string id, parse_ref(ref));
  std::lock_guard guard(m_mutex);
  CARTORIO_TRY(detail::FileLock lock, detail::FileLock::acquire(m_options.directory / ".lock"));
  m_unsealed.erase(id);
  auto removed = detail::remove_file_durable(key_path(id));
  if (!removed && removed.error().code == Errc::not_found) return {Errc::key_not_found, "no software key " + ref.uri};
  return removed;
}

core::Result<void> SoftwareKeyStore::check() {
  std::error_code ec;
  if (!fs::is_directory(m_options.directory / "keys", ec))
    return {Errc::key_backend, "key directory " + m_options.directory.string() + " is not reachable"};
  std::lock_guard guard(m_mutex);
  CARTORIO_TRY_VOID(load_data_keys_locked());
  return core::ok();
}

core::Result<std::string> SoftwareKeyStore::rotate_data_key() {
  std::lock_guard guard(m_mutex);
  CARTORIO_TRY(detail::FileLock lock, detail::FileLock::acquire(m_options.directory / ".lock"));
  CARTORIO_TRY_VOID(load_data_keys_locked());
  const std::string id = "dk-" + crypto::to_hex(crypto::random_bytes(kDataKeyIdBytes));
  crypto::SecretBytes key = crypto::random_secret(crypto::kAeadKeySize);
  CARTORIO_TRY(crypto::Bytes sealed, crypto::aead_seal(m_master_key, key.view(), data_key_aad(id)));
  const std::string previous = m_active_data_key;
  m_data_keys.emplace(id, SealedDataKey{make_data_key(id, std::move(key)), now(), crypto::to_base64(sealed)});
  m_active_data_key = id;
  if (auto written = write_data_keys_locked(); !written) {
    m_data_keys.erase(id);  // nothing changed on disk: keep memory in step
    m_active_data_key = previous;
    return std::move(written).error();
  }
  return id;
}

core::Result<std::size_t> SoftwareKeyStore::reseal_all() {
  std::lock_guard guard(m_mutex);
  CARTORIO_TRY(detail::FileLock lock, detail::FileLock::acquire(m_options.directory / ".lock"));
  CARTORIO_TRY_VOID(load_data_keys_locked());
  CARTORIO_TRY(std::vector<KeyFile> files, read_all_key_files());
  std::size_t count = 0;
  for (auto& kf : files) {
    if (kf.data_key == m_active_data_key) continue;
    CARTORIO_TRY(crypto::PKey key, unseal_locked(kf));
    CARTORIO_TRY(crypto::SecretBytes pkcs8, crypto::private_key_to_der(key.get()));
    CARTORIO_TRY_VOID(seal_and_write_locked(kf, pkcs8));  // one file at a time, each atomic
    ++count;
  }
  return count;
}

core::Result<std::vector<DataKeyInfo>> SoftwareKeyStore::data_keys() {
  std::lock_guard guard(m_mutex);
  CARTORIO_TRY_VOID(load_data_keys_locked());
  std::vector<DataKeyInfo> out;
  for (const auto& [id, dk] : m_data_keys) out.push_back(DataKeyInfo{id, id == m_active_data_key, dk.created_at});
  std::sort(out.begin(), out.end(), [](const DataKeyInfo& a, const DataKeyInfo& b) { return a.created_at < b.created_at; });
  return out;
}

core::Result<std::shared_ptr<const DataKey>> SoftwareKeyStore::active_data_key() {
  std::lock_guard guard(m_mutex);
  CARTORIO_TRY_VOID(load_data_keys_locked());  // another process may have rotated
  return data_key_locked(m_active_data_key);
}

core::Result<std::shared_ptr<const DataKey>> SoftwareKeyStore::find_data_key(std::string_view id) {
  std::lock_guard guard(m_mutex);
  return data_key_locked(id);
}

}  // namespace cartorio::keys
