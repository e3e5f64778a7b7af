// What only the software backend promises: sealing, master keys, data-key rotation.
#include "keys/software/software_key_store.h"

#include "crypto/key_pair.h"
#include "signing_checks.h"
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sys/stat.h>

namespace cartorio::keys {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using crypto::KeyAlgorithm;

class SoftwareKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(create_master_key_file(m_master)); }

  SoftwareKeyStoreOptions key_file_options(const fs::path& master) const {
    SoftwareKeyStoreOptions o;
    o.directory = m_keys;
    o.master_key_file = master;
    return o;
  }
  SoftwareKeyStoreOptions passphrase_options(std::string_view passphrase) const {
    SoftwareKeyStoreOptions o;
    o.directory = m_keys;
    o.passphrase = crypto::SecretBytes(passphrase);
    o.scrypt.n = 1u << 12;  // cheap for tests; production keeps the default
    return o;
  }
  std::unique_ptr<SoftwareKeyStore> open_store() {
    auto s = SoftwareKeyStore::open(key_file_options(m_master));
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(s).value() : nullptr;
  }
  nlohmann::json key_file_json(const KeyRef& ref) const {
    return nlohmann::json::parse(cartorio::testing::read_file(key_file(ref)));
  }
  fs::path key_file(const KeyRef& ref) const { return m_keys / "keys" / (ref.uri.substr(5) + ".json"); }
  bool signs(SoftwareKeyStore& store, const KeyRef& ref) {
    auto signer = store.signer(ref, KeyUse{"test", "test", ""});
    auto pub = store.public_key(ref);
    if (!signer || !pub) return false;
    std::string why;
    auto sig = testing::digest_sign((*signer)->pkey(), crypto::as_bytes("x"), testing::RsaPadding::pkcs1, why);
    return sig && testing::digest_verify(pub->get(), crypto::as_bytes("x"), *sig, testing::RsaPadding::pkcs1);
  }

  cartorio::testing::TempDir m_dir;
  fs::path m_master = m_dir / "master.key";
  fs::path m_keys = m_dir / "keys";
};

TEST_F(SoftwareKeyStoreTest, SealedFiles_ContainNoPlaintextKey) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> secrets;
  for (KeyAlgorithm alg : {KeyAlgorithm::rsa2048, KeyAlgorithm::ec_p256, KeyAlgorithm::ec_p384}) {
    auto info = store->create_key(CreateKeyRequest{std::string(crypto::key_algorithm_name(alg)), alg});
    ASSERT_TRUE(info) << info.error().to_string();
    auto signer = store->signer(info->ref, KeyUse{"test", "test", ""});
    ASSERT_TRUE(signer);
    auto der = crypto::private_key_to_der((*signer)->pkey());
    ASSERT_TRUE(der);
    secrets.emplace_back(der->str());
    secrets.push_back(crypto::to_base64(der->view()));
    secrets.push_back(crypto::to_hex(der->view()));
  }
  std::string master_hex = cartorio::testing::read_file(m_master).substr(0, 64);
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(m_keys)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string content = cartorio::testing::read_file(entry.path());
    for (const auto& s : secrets) EXPECT_EQ(content.find(s), std::string::npos) << entry.path();
    EXPECT_EQ(content.find(master_hex), std::string::npos) << entry.path();
  }
  EXPECT_GE(files, 5);  // master.json, data_keys.json, three keys
}

TEST_F(SoftwareKeyStoreTest, Files_AreOwnerOnly) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  auto info = store->create_key(CreateKeyRequest{"k", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  for (const fs::path& p : {m_master, m_keys / "master.json", m_keys / "data_keys.json", key_file(info->ref)}) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << p;
  }
  struct stat st {};
  ASSERT_EQ(::stat(m_keys.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(SoftwareKeyStoreTest, MasterKeyFile_IsHexAndNeverOverwritten) {
  const std::string before = cartorio::testing::read_file(m_master);
  EXPECT_EQ(before.size(), 65u);  // 64 hex digits and a newline
  EXPECT_TRUE(crypto::from_hex(before.substr(0, 64)).has_value());
  auto again = create_master_key_file(m_master);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(cartorio::testing::read_file(m_master), before);
}

TEST_F(SoftwareKeyStoreTest, MasterKeyFile_ReadableByOthers_Refused) {
  ASSERT_EQ(::chmod(m_master.c_str(), 0644), 0);
  auto s = SoftwareKeyStore::open(key_file_options(m_master));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::config_invalid);
  EXPECT_NE(s.error().message.find("chmod 600"), std::string::npos) << s.error().message;
}

TEST_F(SoftwareKeyStoreTest, WrongMasterKey_ClearError) {
  {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_key(CreateKeyRequest{"k", KeyAlgorithm::ec_p256}));
  }
  const fs::path other = m_dir / "other.key";
  ASSERT_TRUE(create_master_key_file(other));
  auto s = SoftwareKeyStore::open(key_file_options(other));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::key_backend);
  EXPECT_NE(s.error().message.find("wrong master key"), std::string::npos) << s.error().message;
}

TEST_F(SoftwareKeyStoreTest, Options_ExactlyOneMasterSource) {
  SoftwareKeyStoreOptions none;
  none.directory = m_keys;
  auto a = SoftwareKeyStore::open(std::move(none));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::config_invalid);
  auto both = passphrase_options("x");
  both.master_key_file = m_master;
  auto b = SoftwareKeyStore::open(std::move(both));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::config_invalid);
}

TEST_F(SoftwareKeyStoreTest, PassphraseMaster_WorksAcrossInstances) {
  KeyRef ref;
  {
    auto s = SoftwareKeyStore::open(passphrase_options("correct horse battery staple"));
    ASSERT_TRUE(s) << s.error().to_string();
    auto info = (*s)->create_key(CreateKeyRequest{"pass-key", KeyAlgorithm::ec_p256});
    ASSERT_TRUE(info);
    ref = info->ref;
  }
  auto s = SoftwareKeyStore::open(passphrase_options("correct horse battery staple"));
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(signs(**s, ref));
  // The cost parameters were taken from master.json, not from the (different) options.
  auto master = nlohmann::json::parse(cartorio::testing::read_file(m_keys / "master.json"));
  EXPECT_EQ(master["kind"], "passphrase");
  EXPECT_EQ(master["scrypt"]["n"], 1u << 12);
}

TEST_F(SoftwareKeyStoreTest, WrongPassphrase_WrongPassphraseError) {
  ASSERT_TRUE(SoftwareKeyStore::open(passphrase_options("right")));
  auto s = SoftwareKeyStore::open(passphrase_options("wrong"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::wrong_passphrase);
}

TEST_F(SoftwareKeyStoreTest, KeyFileForPassphraseDirectory_ConfigInvalid) {
  ASSERT_TRUE(SoftwareKeyStore::open(passphrase_options("right")));
  auto s = SoftwareKeyStore::open(key_file_options(m_master));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::config_invalid);
}

TEST_F(SoftwareKeyStoreTest, RotateDataKey_OldKeysStillSign_NewKeysUseNewDataKey) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  auto old_key = store->create_key(CreateKeyRequest{"before-rotation", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(old_key);
  auto before = store->data_keys();
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 1u);
  const std::string old_dk = before->front().id;
  EXPECT_EQ(key_file_json(old_key->ref)["data_key"], old_dk);

  auto new_dk = store->rotate_data_key();
  ASSERT_TRUE(new_dk) << new_dk.error().to_string();
  EXPECT_NE(*new_dk, old_dk);
  auto new_key = store->create_key(CreateKeyRequest{"after-rotation", KeyAlgorithm::rsa2048});
  ASSERT_TRUE(new_key);
  EXPECT_EQ(key_file_json(new_key->ref)["data_key"], *new_dk);
  EXPECT_EQ(key_file_json(old_key->ref)["data_key"], old_dk);
  EXPECT_TRUE(signs(*store, old_key->ref));
  EXPECT_TRUE(signs(*store, new_key->ref));

  auto after = store->data_keys();
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  for (const auto& dk : *after) EXPECT_EQ(dk.active, dk.id == *new_dk) << dk.id;

  // Another instance opened before the rotation's effects are known picks them up.
  auto other = open_store();
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(signs(*other, old_key->ref));
  EXPECT_TRUE(signs(*other, new_key->ref));
}

TEST_F(SoftwareKeyStoreTest, ResealAll_MovesEveryKeyToActiveDataKey) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  auto a = store->create_key(CreateKeyRequest{"a", KeyAlgorithm::ec_p384});
  auto b = store->create_key(CreateKeyRequest{"b", KeyAlgorithm::rsa2048});
  ASSERT_TRUE(a && b);
  auto pub_before = store->public_key(a->ref);
  ASSERT_TRUE(pub_before);
  auto new_dk = store->rotate_data_key();
  ASSERT_TRUE(new_dk);
  auto count = store->reseal_all();
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 2u);
  EXPECT_EQ(key_file_json(a->ref)["data_key"], *new_dk);
  EXPECT_EQ(key_file_json(b->ref)["data_key"], *new_dk);
  EXPECT_TRUE(signs(*store, a->ref));
  EXPECT_TRUE(signs(*store, b->ref));
  auto pub_after = store->public_key(a->ref);
  ASSERT_TRUE(pub_after);
  EXPECT_TRUE(crypto::same_public_key(pub_before->get(), pub_after->get()));  // same key, re-wrapped
  auto again = store->reseal_all();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

TEST_F(SoftwareKeyStoreTest, TamperedSealedBlob_ErrorNotGarbage) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  auto info = store->create_key(CreateKeyRequest{"victim", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  auto j = key_file_json(info->ref);
  auto sealed = crypto::from_base64(j["sealed"].get<std::string>());
  ASSERT_TRUE(sealed);
  (*sealed)[sealed->size() / 2] ^= 0x01;
  j["sealed"] = crypto::to_base64(*sealed);
  cartorio::testing::write_file(key_file(info->ref), j.dump());
  auto signer = store->signer(info->ref, KeyUse{"test", "test", ""});
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, Errc::key_backend);
  EXPECT_NE(signer.error().message.find("tampered"), std::string::npos) << signer.error().message;
}

TEST_F(SoftwareKeyStoreTest, SealedBlobMovedToAnotherKey_DoesNotOpen) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  auto a = store->create_key(CreateKeyRequest{"a", KeyAlgorithm::ec_p256});
  auto b = store->create_key(CreateKeyRequest{"b", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(a && b);
  auto ja = key_file_json(a->ref);
  auto jb = key_file_json(b->ref);
  jb["sealed"] = ja["sealed"];
  jb["public_key"] = ja["public_key"];
  cartorio::testing::write_file(key_file(b->ref), jb.dump());
  auto signer = store->signer(b->ref, KeyUse{"test", "test", ""});
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, Errc::key_backend);
  // Relabelling a key in its file breaks it too: the label is authenticated.
  ja["label"] = "renamed";
  cartorio::testing::write_file(key_file(a->ref), ja.dump());
  auto relabelled = store->signer(a->ref, KeyUse{"test", "test", ""});
  ASSERT_FALSE(relabelled);
  EXPECT_EQ(relabelled.error().code, Errc::key_backend);
}

// --- the DataKeyRing role (keys for encryption at rest) ------------------------------------

TEST_F(SoftwareKeyStoreTest, DataKeyRing_ActiveKey_IsStable_32Bytes_AndOutlivesTheStore) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  DataKeyRing& ring = *store;
  auto a = ring.active_data_key();
  auto b = ring.active_data_key();
  ASSERT_TRUE(a && b) << (a ? b.error() : a.error()).to_string();
  EXPECT_EQ((*a)->id, (*b)->id);
  EXPECT_EQ((*a)->id.rfind("dk-", 0), 0u) << (*a)->id;
  EXPECT_LE((*a)->id.size(), kMaxDataKeyIdBytes);
  ASSERT_EQ((*a)->key.size(), crypto::kAeadKeySize);
  EXPECT_EQ((*a)->key.str(), (*b)->key.str());
  auto listed = ring.data_keys();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, (*a)->id);
  EXPECT_TRUE(listed->front().active);

  const std::string bytes(std::string((*a)->key.str()));
  std::shared_ptr<const DataKey> kept = *a;
  store.reset();
  EXPECT_EQ(kept->key.str(), bytes) << "a handed-out key stays valid after the store is gone";
}

TEST_F(SoftwareKeyStoreTest, DataKeyRing_Rotate_ChangesActive_OldKeysStillFound_AlsoAfterReopening) {
  std::string old_id, old_bytes, new_id, new_bytes;
  {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    DataKeyRing& ring = *store;
    auto before = ring.active_data_key();
    ASSERT_TRUE(before);
    old_id = (*before)->id;
    old_bytes = std::string((*before)->key.str());

    auto rotated = ring.rotate_data_key();
    ASSERT_TRUE(rotated) << rotated.error().to_string();
    new_id = *rotated;
    EXPECT_NE(new_id, old_id);
    auto after = ring.active_data_key();
    ASSERT_TRUE(after);
    EXPECT_EQ((*after)->id, new_id);
    new_bytes = std::string((*after)->key.str());
    EXPECT_NE(new_bytes, old_bytes);

    auto old_key = ring.find_data_key(old_id);
    ASSERT_TRUE(old_key) << old_key.error().to_string();
    EXPECT_EQ((*old_key)->id, old_id);
    EXPECT_EQ((*old_key)->key.str(), old_bytes);
    auto listed = ring.data_keys();
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    for (const auto& dk : *listed) EXPECT_EQ(dk.active, dk.id == new_id) << dk.id;
  }
  auto reopened = open_store();
  ASSERT_NE(reopened, nullptr);
  DataKeyRing& ring = *reopened;
  auto active = ring.active_data_key();
  ASSERT_TRUE(active);
  EXPECT_EQ((*active)->id, new_id);
  EXPECT_EQ((*active)->key.str(), new_bytes);
  auto old_key = ring.find_data_key(old_id);
  ASSERT_TRUE(old_key) << old_key.error().to_string();
  EXPECT_EQ((*old_key)->key.str(), old_bytes);
}

TEST_F(SoftwareKeyStoreTest, DataKeyRing_RotationByAnotherInstance_IsUsedAtOnce) {
  auto writer = open_store();
  auto other = open_store();
  ASSERT_TRUE(writer && other);
  auto first = other->active_data_key();
  ASSERT_TRUE(first);
  auto rotated = writer->rotate_data_key();
  ASSERT_TRUE(rotated);
  auto now = other->active_data_key();
  ASSERT_TRUE(now) << now.error().to_string();
  EXPECT_EQ((*now)->id, *rotated);
  auto found = other->find_data_key(*rotated);
  ASSERT_TRUE(found);
  EXPECT_EQ((*found)->key.str(), (*now)->key.str());
}

TEST_F(SoftwareKeyStoreTest, DataKeyRing_UnknownId_KeyNotFound) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  for (std::string id : {"dk-0000000000000000", "", "../data_keys", "soft:00"}) {
    auto r = store->find_data_key(id);
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.error().code, Errc::key_not_found) << r.error().to_string();
  }
  // Another directory under the same master key is another ring: the keys sealing private
  // keys and the keys encrypting data stay apart.
  SoftwareKeyStoreOptions o = key_file_options(m_master);
  o.directory = m_dir / "data-keys";
  auto data_ring = SoftwareKeyStore::open(std::move(o));
  ASSERT_TRUE(data_ring) << data_ring.error().to_string();
  auto theirs = (*data_ring)->active_data_key();
  ASSERT_TRUE(theirs);
  EXPECT_ERRC(store->find_data_key((*theirs)->id), Errc::key_not_found);
}

TEST_F(SoftwareKeyStoreTest, PrivateKeyWhoseDataKeyIsGone_KeyBackend) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  auto info = store->create_key(CreateKeyRequest{"orphan", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  auto j = key_file_json(info->ref);
  j["data_key"] = "dk-0000000000000000";
  cartorio::testing::write_file(key_file(info->ref), j.dump());
  auto fresh = open_store();  // nothing unsealed in memory yet
  ASSERT_NE(fresh, nullptr);
  EXPECT_ERRC(fresh->signer(info->ref, KeyUse{"test", "test", ""}), Errc::key_backend);
}

TEST_F(SoftwareKeyStoreTest, RefEscapingTheDirectory_KeyNotFound) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  for (std::string uri : {"soft:../master", "soft:../../etc/passwd", "soft:0011223344556677889900AABBCCDDEEFF",
                          "pkcs11:token=x;id=%01"}) {
    auto r = store->public_key(KeyRef{uri});
    ASSERT_FALSE(r) << uri;
    EXPECT_EQ(r.error().code, Errc::key_not_found) << uri;
  }
}

TEST_F(SoftwareKeyStoreTest, NonEmptyDirectoryWithoutMaster_NotInitialised) {
  fs::create_directories(m_keys / "keys");
  cartorio::testing::write_file(m_keys / "keys" / "00112233445566778899aabbccddeeff.json", "{}");
  auto s = SoftwareKeyStore::open(key_file_options(m_master));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::key_backend);
  EXPECT_FALSE(fs::exists(m_keys / "master.json"));
}

}  // namespace
}  // namespace cartorio::keys
