// EncryptedObjectStore over the filesystem backend and a SoftwareKeyStore data-key ring:
// what encryption at rest adds to the contract (the contract itself is the conformance
// suite's, which runs on EncryptedFilesystemBackend too).
#include "objectstore/encrypted/encrypted_object_store.h"

#include "encrypted_backend.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace cartorio::objectstore_test {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using objectstore::EncryptedObjectStore;
using objectstore::EncryptedObjectStoreOptions;
using objectstore::Metadata;
using objectstore::ObjectStore;
using objectstore::PutOptions;

// Recognisable personal data: none of it may show up in what the inner store keeps.
const std::string kSecret = "CPF 529.982.247-25 Maria da Silva, Rua das Flores 12, Recife. ";
std::string secret_document() {
  std::string s;
  for (int i = 0; i < 40; ++i) s += kSecret;
  return s;
}

class EncryptedObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(m_backend.prepare());
    m_store = open({});
    ASSERT_NE(m_store, nullptr);
  }

  std::unique_ptr<EncryptedObjectStore> open(EncryptedObjectStoreOptions options) {
    auto s = m_backend.open_encrypted({}, options);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(s).value() : nullptr;
  }
  EncryptedObjectStore& store() { return *m_store; }
  ObjectStore& inner() { return m_store->inner(); }
  keys::SoftwareKeyStore& ring() { return m_backend.ring(); }

  std::string active_id() {
    auto k = ring().active_data_key();
    EXPECT_TRUE(k);
    return k ? (*k)->id : "";
  }
  objectstore::Object raw(std::string_view key) {
    auto o = inner().get(key);
    EXPECT_TRUE(o) << o.error().to_string();
    return o ? std::move(o).value() : objectstore::Object{};
  }
  // Writes a stored object back into the inner store as given (the inner store computes its
  // own ETag, so only the decorator can notice what changed).
  void write_raw(std::string_view key, const std::string& data, const objectstore::ObjectInfo& info) {
    PutOptions o;
    o.content_type = info.content_type;
    o.metadata = info.metadata;
    ASSERT_OK(inner().put(key, data, o));
  }
  void expect_store_error(std::string_view key, const std::string& why_fragment = "") {
    SCOPED_TRACE(std::string(key));
    auto got = store().get(key);
    ASSERT_FALSE(got) << "a damaged object was served";
    EXPECT_EQ(got.error().code, Errc::store_error) << got.error().to_string();
    if (!why_fragment.empty()) cartorio::testing::expect_contains(got.error().message, why_fragment);
    EXPECT_EQ(got.error().message.find(kSecret.substr(0, 14)), std::string::npos);
  }

  EncryptedFilesystemBackend m_backend;  // first: outlives the store
  std::unique_ptr<EncryptedObjectStore> m_store;
};

TEST_F(EncryptedObjectStoreTest, RoundTrip_CallerSeesPlaintextSizeEtagAndMetadata) {
  const std::string doc = secret_document();
  PutOptions o;
  o.content_type = "application/pdf";
  o.metadata = {{"document-id", "42"}};
  auto put = store().put("docs/2024/contract.pdf", doc, o);
  ASSERT_OK(put);
  EXPECT_EQ(put->size, doc.size());
  EXPECT_EQ(put->etag, objectstore::etag_of(doc));
  EXPECT_EQ(put->metadata, o.metadata);
  EXPECT_EQ(put->content_type, "application/pdf");
  EXPECT_FALSE(put->version_id.empty());

  auto got = store().get("docs/2024/contract.pdf");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, doc);
  EXPECT_EQ(got->info.size, doc.size());
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.metadata, o.metadata);
  EXPECT_EQ(got->info.content_type, "application/pdf");
  EXPECT_EQ(got->info.version_id, put->version_id);

  auto head = store().head("docs/2024/contract.pdf");
  ASSERT_OK(head);
  EXPECT_EQ(head->size, doc.size());
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->metadata, o.metadata);

  auto page = store().list("docs/");
  ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].size, doc.size());

  // Empty and binary objects too.
  ASSERT_OK(store().put("empty", ""));
  EXPECT_EQ(store().get("empty")->data, "");
  EXPECT_EQ(store().head("empty")->size, 0u);
  std::string binary(300, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i);
  ASSERT_OK(store().put("binary", binary));
  EXPECT_EQ(store().get("binary")->data, binary);
  EXPECT_EQ(store().backend_name(), "encrypted+filesystem");
  ASSERT_OK(store().check());
}

TEST_F(EncryptedObjectStoreTest, StoredBytes_RevealNoPlaintext_NorItsDigest) {
  const std::string doc = secret_document();
  ASSERT_OK(store().put("people/maria", doc, PutOptions{"text/plain", {{"kind", "record"}}, ""}));
  ASSERT_OK(store().put("people/maria", doc + "v2"));  // a noncurrent version lies on disk too
  const std::string digest = objectstore::etag_of(doc);

  auto stored = raw("people/maria");
  EXPECT_EQ(stored.data.find(kSecret.substr(0, 20)), std::string::npos);
  EXPECT_EQ(stored.data.size(), doc.size() + 2 + crypto::kAeadOverhead);
  EXPECT_NE(stored.info.etag, objectstore::etag_of(doc + "v2")) << "the inner ETag is the ciphertext's";
  for (const auto& [name, value] : stored.info.metadata) {
    EXPECT_EQ(value.find(digest), std::string::npos) << name;
    EXPECT_EQ(value.find(kSecret.substr(0, 20)), std::string::npos) << name;
  }

  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(m_backend.root())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string content = cartorio::testing::read_file(entry.path());
    EXPECT_EQ(content.find(kSecret.substr(0, 20)), std::string::npos) << entry.path();
    EXPECT_EQ(content.find("529.982.247-25"), std::string::npos) << entry.path();
    EXPECT_EQ(content.find(digest), std::string::npos) << entry.path();
    EXPECT_EQ(content.find(objectstore::etag_of(doc + "v2")), std::string::npos) << entry.path();
  }
  EXPECT_GE(files, 2);  // the current version and the noncurrent one
  EXPECT_EQ(store().get("people/maria")->data, doc + "v2");
}

TEST_F(EncryptedObjectStoreTest, Envelope_IsInTheInnerMetadata_UnderTheReservedPrefix) {
  ASSERT_OK(store().put("k", "hello", PutOptions{"text/plain", {{"owner", "cartorio"}}, ""}));
  auto stored = raw("k");
  EXPECT_EQ(stored.info.content_type, "text/plain") << "content types are labels, not encrypted";
  EXPECT_EQ(stored.info.metadata.at("owner"), "cartorio") << "user metadata is not encrypted";
  EXPECT_EQ(stored.info.metadata.at("cartorio-enc-version"), "1");
  EXPECT_EQ(stored.info.metadata.at("cartorio-enc-key-id"), active_id());
  auto dek = crypto::from_base64url(stored.info.metadata.at("cartorio-enc-dek"));
  ASSERT_TRUE(dek);
  EXPECT_EQ(dek->size(), crypto::kAeadKeySize + crypto::kAeadOverhead);
  auto sha = crypto::from_base64url(stored.info.metadata.at("cartorio-enc-sha256"));
  ASSERT_TRUE(sha);
  EXPECT_EQ(sha->size(), 32 + crypto::kAeadOverhead);
  EXPECT_EQ(stored.info.metadata.size(), 5u);

  std::size_t envelope = 0;
  for (const auto& [name, value] : stored.info.metadata)
    if (name.starts_with(objectstore::kEnvelopeMetadataPrefix)) envelope += name.size() + value.size();
  EXPECT_LE(envelope, objectstore::kEnvelopeMetadataBytes);

  // Same plaintext twice: fresh DEK and nonce, nothing in common.
  ASSERT_OK(store().put("k2", "hello"));
  auto other = raw("k2");
  EXPECT_NE(other.data, stored.data);
  EXPECT_NE(other.info.metadata.at("cartorio-enc-dek"), stored.info.metadata.at("cartorio-enc-dek"));
}

TEST_F(EncryptedObjectStoreTest, CallersSha256_IsTheEtag_AWrongOneFailsOnRead) {
  const std::string data = "signed bytes";
  PutOptions o;
  o.sha256_hex = objectstore::etag_of(data);
  auto put = store().put("given", data, o);
  ASSERT_OK(put);
  EXPECT_EQ(put->etag, o.sha256_hex);
  EXPECT_EQ(store().head("given")->etag, o.sha256_hex);
  EXPECT_EQ(store().get("given")->data, data);

  o.sha256_hex = std::string(64, 'A');
  EXPECT_ERRC(store().put("bad", data, o), Errc::invalid_argument);
  EXPECT_ERRC(inner().head("bad"), Errc::not_found);

  // Well-formed but wrong: the contract's "caller's bug the integrity check reports".
  o.sha256_hex = objectstore::etag_of("other bytes");
  ASSERT_OK(store().put("wrong", data, o));
  expect_store_error("wrong", "SHA-256");
}

TEST_F(EncryptedObjectStoreTest, ReservedMetadataPrefix_Refused_AndTheUserBudgetIsSmaller) {
  for (const std::string name : {"cartorio-enc-key-id", "cartorio-enc-anything"}) {
    PutOptions o;
    o.metadata = {{name, "x"}};
    EXPECT_ERRC(store().put("k", "x", o), Errc::invalid_argument);
    EXPECT_ERRC(store().put_if_absent("k", "x", o), Errc::invalid_argument);
  }
  PutOptions fits;
  fits.metadata = {{"a", std::string(objectstore::kMaxUserMetadataBytes - 1, 'v')}};
  ASSERT_OK(store().put("k", "x", fits));
  EXPECT_EQ(store().head("k")->metadata, fits.metadata);
  PutOptions over;
  over.metadata = {{"a", std::string(objectstore::kMaxUserMetadataBytes, 'v')}};
  EXPECT_ERRC(store().put("k2", "x", over), Errc::invalid_argument);
  EXPECT_ERRC(inner().head("k2"), Errc::not_found);
}

TEST_F(EncryptedObjectStoreTest, TamperedCiphertext_StoreError) {
  ASSERT_OK(store().put("doc", secret_document()));
  auto stored = raw("doc");
  for (std::size_t at : {std::size_t{0}, std::size_t{12}, stored.data.size() / 2, stored.data.size() - 1}) {
    std::string flipped = stored.data;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    write_raw("doc", flipped, stored.info);
    expect_store_error("doc", "does not decrypt");
  }
  write_raw("doc", stored.data.substr(0, 10), stored.info);  // shorter than nonce + tag
  expect_store_error("doc");
  EXPECT_ERRC(store().head("doc"), Errc::store_error);
  write_raw("doc", stored.data, stored.info);  // put back as it was: reads again
  EXPECT_EQ(store().get("doc")->data, secret_document());
}

TEST_F(EncryptedObjectStoreTest, TamperedOrGarbledEnvelope_StoreError_OnGetAndHead) {
  ASSERT_OK(store().put("doc", "content"));
  const auto stored = raw("doc");
  auto flip_b64 = [](const std::string& b64) {
    auto b = crypto::from_base64url(b64);
    (*b)[b->size() / 2] ^= 0x01;
    return crypto::to_base64url(*b);
  };
  struct Case {
    const char* what;
    std::function<void(Metadata&)> edit;
    const char* message;  // part of the error's message
  };
  const std::vector<Case> cases = {
      {"wrapped DEK flipped", [&](Metadata& m) { m["cartorio-enc-dek"] = flip_b64(m["cartorio-enc-dek"]); },
       "data encryption key that does not open"},
      {"sealed digest flipped", [&](Metadata& m) { m["cartorio-enc-sha256"] = flip_b64(m["cartorio-enc-sha256"]); },
       "sealed digest that does not open"},
      {"not base64url", [](Metadata& m) { m["cartorio-enc-dek"] = "not base64!"; }, "malformed wrapped"},
      {"truncated", [](Metadata& m) { m["cartorio-enc-dek"] = m["cartorio-enc-dek"].substr(0, 40); }, "malformed wrapped"},
      {"no key id", [](Metadata& m) { m.erase("cartorio-enc-key-id"); }, "incomplete envelope"},
      {"no version", [](Metadata& m) { m.erase("cartorio-enc-version"); }, "incomplete envelope"},
      {"future version", [](Metadata& m) { m["cartorio-enc-version"] = "2"; }, "unsupported envelope version \"2\""},
      {"unknown field", [](Metadata& m) { m["cartorio-enc-extra"] = "1"; }, "unknown envelope field"},
      {"no envelope at all",
       [](Metadata& m) { std::erase_if(m, [](const auto& e) { return e.first.starts_with("cartorio-enc-"); }); },
       "no encryption envelope"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto info = stored.info;
    c.edit(info.metadata);
    write_raw("doc", stored.data, info);
    expect_store_error("doc", c.message);
    EXPECT_ERRC(store().head("doc"), Errc::store_error);
  }
}

TEST_F(EncryptedObjectStoreTest, MovedToAnotherKey_StoreError) {
  ASSERT_OK(store().put("a", "for a"));
  ASSERT_OK(store().put("b", "for b"));
  const auto a = raw("a");
  const auto b = raw("b");
  write_raw("b", a.data, a.info);  // ciphertext and envelope together
  expect_store_error("b", "moved from another object");
  EXPECT_ERRC(store().head("b"), Errc::store_error);
  write_raw("b", a.data, b.info);  // ciphertext only, under b's envelope
  expect_store_error("b");
  EXPECT_EQ(store().get("a")->data, "for a");
}

TEST_F(EncryptedObjectStoreTest, UnknownOrOtherKeyId_StoreError) {
  ASSERT_OK(store().put("doc", "content"));
  const auto stored = raw("doc");
  auto info = stored.info;
  info.metadata["cartorio-enc-key-id"] = "dk-ffffffffffffffff";
  write_raw("doc", stored.data, info);
  expect_store_error("doc", "which the key ring does not have");
  EXPECT_ERRC(store().head("doc"), Errc::store_error);

  // A key the ring has, but not the one that wrapped the DEK.
  auto other = ring().rotate_data_key();
  ASSERT_OK(other);
  info.metadata["cartorio-enc-key-id"] = *other;
  write_raw("doc", stored.data, info);
  expect_store_error("doc", "does not open");
}

TEST_F(EncryptedObjectStoreTest, Rotation_NewObjectsUseTheNewKey_OldOnesStillRead) {
  const std::string first_key = active_id();
  ASSERT_OK(store().put("old", "written before"));
  auto rotated = ring().rotate_data_key();
  ASSERT_OK(rotated);
  ASSERT_OK(store().put("new", "written after"));
  EXPECT_EQ(raw("old").info.metadata.at("cartorio-enc-key-id"), first_key);
  EXPECT_EQ(raw("new").info.metadata.at("cartorio-enc-key-id"), *rotated);
  EXPECT_EQ(store().get("old")->data, "written before");
  EXPECT_EQ(store().get("new")->data, "written after");
  EXPECT_EQ(store().head("old")->etag, objectstore::etag_of("written before"));

  // A store opened afresh reads both.
  auto reopened = m_backend.open();
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->get("old")->data, "written before");
  EXPECT_EQ((*reopened)->get("new")->data, "written after");
}

TEST_F(EncryptedObjectStoreTest, Reencrypt_MovesEveryCurrentObjectToTheActiveKey_ByRewrappingOnly) {
  const std::vector<std::string> keys = {"a", "docs/1", "docs/2", "docs/deep/3", "other/4"};
  for (const auto& k : keys) ASSERT_OK(store().put(k, "content of " + k, PutOptions{"text/plain", {{"k", "v"}}, ""}));
  const auto before = raw("docs/1");
  auto rotated = ring().rotate_data_key();
  ASSERT_OK(rotated);
  ASSERT_OK(store().put("fresh", "already under the new key"));

  auto docs = store().reencrypt("docs/");
  ASSERT_OK(docs);
  EXPECT_EQ(*docs, 3u);
  EXPECT_NE(raw("a").info.metadata.at("cartorio-enc-key-id"), *rotated) << "outside the prefix: untouched";
  auto all = store().reencrypt();
  ASSERT_OK(all);
  EXPECT_EQ(*all, 2u);  // "a" and "other/4"; "fresh" and docs/ were current
  auto again = store().reencrypt();
  ASSERT_OK(again);
  EXPECT_EQ(*again, 0u);

  for (const auto& k : keys) {
    SCOPED_TRACE(k);
    auto stored = raw(k);
    EXPECT_EQ(stored.info.metadata.at("cartorio-enc-key-id"), *rotated);
    EXPECT_EQ(stored.info.metadata.at("k"), "v");
    EXPECT_EQ(stored.info.content_type, "text/plain");
    auto got = store().get(k);
    ASSERT_OK(got);
    EXPECT_EQ(got->data, "content of " + k);
    EXPECT_EQ(got->info.etag, objectstore::etag_of("content of " + k));
  }
  const auto after = raw("docs/1");
  EXPECT_EQ(after.data, before.data) << "only the DEK is re-wrapped";
  EXPECT_EQ(after.info.metadata.at("cartorio-enc-sha256"), before.info.metadata.at("cartorio-enc-sha256"));
  EXPECT_NE(after.info.metadata.at("cartorio-enc-dek"), before.info.metadata.at("cartorio-enc-dek"));

  // The rewrite is a new version; the old one still reads under the retired key.
  auto versions = store().list_versions("docs/1");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->entries.size(), 2u);
  auto old = store().get_version("docs/1", versions->entries[1].version_id);
  ASSERT_OK(old);
  EXPECT_EQ(old->data, "content of docs/1");
}

TEST_F(EncryptedObjectStoreTest, Reencrypt_StopsAtADamagedObject_NamingIt) {
  ASSERT_OK(store().put("good", "fine"));
  ASSERT_OK(store().put("bad", "fine too"));
  auto stored = raw("bad");
  stored.info.metadata["cartorio-enc-key-id"] = "dk-0000000000000000";
  write_raw("bad", stored.data, stored.info);
  ASSERT_OK(ring().rotate_data_key());
  auto r = store().reencrypt();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::store_error);
  cartorio::testing::expect_contains(r.error().message, "\"bad\"");
}

TEST_F(EncryptedObjectStoreTest, PlaintextObjects_RefusedByDefault_ReadAndMigratedWhenAllowed) {
  ASSERT_OK(inner().put("legacy/doc", "written before encryption", PutOptions{"text/plain", {{"k", "v"}}, ""}));
  expect_store_error("legacy/doc", "allow_plaintext_reads");
  EXPECT_ERRC(store().head("legacy/doc"), Errc::store_error);
  EXPECT_ERRC(store().reencrypt(), Errc::store_error);

  auto migrating = open(EncryptedObjectStoreOptions{.allow_plaintext_reads = true});
  ASSERT_NE(migrating, nullptr);
  auto got = migrating->get("legacy/doc");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, "written before encryption");
  EXPECT_EQ(got->info.etag, objectstore::etag_of("written before encryption"));
  EXPECT_EQ(migrating->head("legacy/doc")->size, got->data.size());
  // Encrypted objects read as ever; tampering is still caught (no fallback to plaintext).
  ASSERT_OK(migrating->put("new", "encrypted"));
  EXPECT_EQ(migrating->get("new")->data, "encrypted");

  auto count = migrating->reencrypt();
  ASSERT_OK(count);
  EXPECT_EQ(*count, 1u);
  auto stored = raw("legacy/doc");
  EXPECT_EQ(stored.info.metadata.at("cartorio-enc-key-id"), active_id());
  EXPECT_EQ(stored.data.find("written before"), std::string::npos);
  auto strict = store().get("legacy/doc");  // the default store reads it now
  ASSERT_OK(strict);
  EXPECT_EQ(strict->data, "written before encryption");
  EXPECT_EQ(strict->info.metadata, (Metadata{{"k", "v"}}));
}

TEST_F(EncryptedObjectStoreTest, Versions_ReportPlaintextSizes_AndEachVersionReads) {
  auto v1 = store().put("k", "one");
  auto v2 = store().put("k", "number two");
  ASSERT_OK(v1);
  ASSERT_OK(v2);
  ASSERT_OK(store().erase("k"));
  EXPECT_ERRC(store().get("k"), Errc::not_found);

  auto versions = store().list_versions("k");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->entries.size(), 3u);
  EXPECT_TRUE(versions->entries[0].delete_marker);
  EXPECT_EQ(versions->entries[0].size, 0u);
  EXPECT_EQ(versions->entries[1].version_id, v2->version_id);
  EXPECT_EQ(versions->entries[1].size, 10u);
  EXPECT_EQ(versions->entries[2].version_id, v1->version_id);
  EXPECT_EQ(versions->entries[2].size, 3u);

  auto one = store().get_version("k", v1->version_id);
  ASSERT_OK(one);
  EXPECT_EQ(one->data, "one");
  EXPECT_EQ(one->info.etag, objectstore::etag_of("one"));
  EXPECT_TRUE(one->info.metadata.empty());

  auto keys_page = store().list_versioned_keys();
  ASSERT_OK(keys_page);
  ASSERT_EQ(keys_page->entries.size(), 1u);
  EXPECT_EQ(keys_page->entries[0].size, 0u);  // newest is the delete marker

  ASSERT_OK(store().erase_version("k", versions->entries[0].version_id));  // brings v2 back
  EXPECT_EQ(store().get("k")->data, "number two");
  keys_page = store().list_versioned_keys();
  ASSERT_OK(keys_page);
  ASSERT_EQ(keys_page->entries.size(), 1u);
  EXPECT_EQ(keys_page->entries[0].size, 10u);
}

TEST_F(EncryptedObjectStoreTest, PutIfAbsent_AndErase_Forward) {
  auto first = store().put_if_absent("once", "first");
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  auto second = store().put_if_absent("once", "second");
  ASSERT_OK(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(store().get("once")->data, "first");
  EXPECT_EQ(raw("once").info.metadata.at("cartorio-enc-key-id"), active_id());
  auto erased = store().erase("once");
  ASSERT_OK(erased);
  EXPECT_TRUE(*erased);
  EXPECT_ERRC(store().get("once"), Errc::not_found);
  EXPECT_ERRC(store().get("a//b"), Errc::invalid_argument);
  EXPECT_ERRC(store().put("a//b", "x"), Errc::invalid_argument);
}

TEST_F(EncryptedObjectStoreTest, DamagedRing_PutRefused_CheckUnavailable_NothingWritten) {
  ASSERT_OK(store().put("before", "x"));
  cartorio::testing::write_file(m_backend.ring_directory() / "data_keys.json", "{}");
  EXPECT_ERRC(store().put("k", "x"), Errc::store_error);
  EXPECT_ERRC(store().put_if_absent("k", "x"), Errc::store_error);
  EXPECT_ERRC(inner().head("k"), Errc::not_found);
  EXPECT_ERRC(store().check(), Errc::store_unavailable);
  EXPECT_ERRC(store().reencrypt(), Errc::store_error);
  // Keys already known to the ring still open what they wrapped.
  EXPECT_EQ(store().get("before")->data, "x");
}

TEST_F(EncryptedObjectStoreTest, SizeLimit_IsOnThePlaintext) {
  auto small = m_backend.open(OpenOptions{1024});
  ASSERT_OK(small);
  ASSERT_OK((*small)->put("fits", std::string(1024, 'x')));
  EXPECT_ERRC((*small)->put("too-big", std::string(1025, 'x')), Errc::invalid_argument);
  EXPECT_EQ((*small)->get("fits")->data, std::string(1024, 'x'));
}

}  // namespace
}  // namespace cartorio::objectstore_test
