// What only the PKCS#11 backend promises: token attributes, login and token errors, URIs.
#include "keys/pkcs11/pkcs11_key_store.h"

#include "keys/pkcs11/detail/pkcs11_module.h"
#include "keys/pkcs11/detail/pkcs11_session.h"
#include "keys/pkcs11/detail/pkcs11_uri.h"
#include "softhsm_token.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace cartorio::keys {
namespace {

using core::Errc;
using crypto::KeyAlgorithm;
using detail::AttributeTemplate;
using detail::Pkcs11Module;
using detail::Pkcs11Session;
using testing::SoftHsmToken;

class Pkcs11KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(m_token.error(), "");
    auto s = Pkcs11KeyStore::open(m_token.options());
    ASSERT_TRUE(s) << s.error().to_string();
    m_store = std::move(s).value();
  }

  SoftHsmToken m_token;
  std::unique_ptr<Pkcs11KeyStore> m_store;
};

TEST_F(Pkcs11KeyStoreTest, PrivateKey_IsSensitiveAndNotExtractable) {
  auto info = m_store->create_key(CreateKeyRequest{"tls-ca-2026", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info) << info.error().to_string();
  auto rsa = m_store->create_key(CreateKeyRequest{"document-ca-2026", KeyAlgorithm::rsa2048});
  ASSERT_TRUE(rsa) << rsa.error().to_string();

  // Read the attributes through our own module wrapper, on a session of our own.
  auto module = Pkcs11Module::acquire(SoftHsmToken::module_path());
  ASSERT_TRUE(module) << module.error().to_string();
  auto slot = (*module)->find_token(m_token.label());
  ASSERT_TRUE(slot) << slot.error().to_string();
  auto session = Pkcs11Session::open(*module, *slot);
  ASSERT_TRUE(session) << session.error().to_string();
  ASSERT_TRUE(session->login(crypto::SecretBytes(std::string_view(SoftHsmToken::user_pin()))));
  for (const std::string label : {"tls-ca-2026", "document-ca-2026"}) {
    SCOPED_TRACE(label);
    AttributeTemplate priv;
    priv.add_ulong(CKA_CLASS, CKO_PRIVATE_KEY).add_string(CKA_LABEL, label);
    auto found = session->find_objects(priv);
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u);
    const CK_OBJECT_HANDLE key = found->front();
    EXPECT_EQ(session->get_bool(key, CKA_EXTRACTABLE).value(), false);
    EXPECT_EQ(session->get_bool(key, CKA_SENSITIVE).value(), true);
    EXPECT_EQ(session->get_bool(key, CKA_PRIVATE).value(), true);
    EXPECT_EQ(session->get_bool(key, CKA_TOKEN).value(), true);
    EXPECT_EQ(session->get_bool(key, CKA_SIGN).value(), true);
    EXPECT_EQ(session->get_bool(key, CKA_NEVER_EXTRACTABLE).value(), true);
    auto value = session->get_bytes(key, label == "tls-ca-2026" ? CKA_VALUE : CKA_PRIVATE_EXPONENT);
    ASSERT_FALSE(value);  // the token refuses to reveal it
    EXPECT_NE(value.error().message.find("CKR_ATTRIBUTE_SENSITIVE"), std::string::npos) << value.error().message;
    // The public half shares the CKA_ID and the label.
    auto id = session->get_bytes(key, CKA_ID);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->size(), 16u);
    AttributeTemplate pub;
    pub.add_ulong(CKA_CLASS, CKO_PUBLIC_KEY).add_bytes(CKA_ID, *id).add_string(CKA_LABEL, label);
    auto pubs = session->find_objects(pub);
    ASSERT_TRUE(pubs);
    EXPECT_EQ(pubs->size(), 1u);
  }

  // An independent reader agrees: pkcs11-tool (OpenSC) lists the key as sensitive, never extractable.
  auto r = cartorio::testing::run("SOFTHSM2_CONF=" + cartorio::testing::shell_quote(m_token.conf_path()) +
                                  " " CARTORIO_PKCS11_TOOL " --module " + SoftHsmToken::module_path() +
                                  " --token-label " + m_token.label() + " --login --pin " + SoftHsmToken::user_pin() +
                                  " --list-objects --type privkey");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("label:      tls-ca-2026"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("never extractable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sensitive"), std::string::npos) << r.out;
}

TEST_F(Pkcs11KeyStoreTest, WrongPin_WrongPassphrase) {
  auto open_with = [&](std::string_view pin) {
    auto options = m_token.options();
    options.pin = crypto::SecretBytes(pin);
    return Pkcs11KeyStore::open(std::move(options));
  };
  // While another store is logged in the token no longer checks PINs; ours still must.
  auto s = open_with("000000");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::wrong_passphrase);
  EXPECT_EQ(s.error().message.find("000000"), std::string::npos);  // the PIN is never echoed
  // With nobody logged in, the token itself says no.
  m_store.reset();
  auto alone = open_with("000000");
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code, Errc::wrong_passphrase) << alone.error().to_string();
  auto right = open_with(SoftHsmToken::user_pin());
  EXPECT_TRUE(right) << right.error().to_string();
}

TEST_F(Pkcs11KeyStoreTest, UnknownTokenLabel_KeyBackendNamingTheLabel) {
  auto options = m_token.options();
  options.token_label = "no-such-token";
  auto s = Pkcs11KeyStore::open(std::move(options));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::key_backend);
  EXPECT_NE(s.error().message.find("no-such-token"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(m_token.label()), std::string::npos) << s.error().message;  // what exists
}

TEST_F(Pkcs11KeyStoreTest, MissingModule_KeyBackend) {
  auto options = m_token.options();
  options.module_path = "/nonexistent/libpkcs11.so";
  auto s = Pkcs11KeyStore::open(std::move(options));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::key_backend);
  EXPECT_NE(s.error().message.find("/nonexistent/libpkcs11.so"), std::string::npos);
}

TEST_F(Pkcs11KeyStoreTest, EmptyOptions_ConfigInvalid) {
  auto options = m_token.options();
  options.pin = crypto::SecretBytes();
  auto s = Pkcs11KeyStore::open(std::move(options));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::config_invalid);
}

TEST_F(Pkcs11KeyStoreTest, KeyRef_IsRfc7512Uri) {
  auto info = m_store->create_key(CreateKeyRequest{"tls ca/2026", KeyAlgorithm::ec_p256});
  ASSERT_TRUE(info);
  const std::string& uri = info->ref.uri;
  const std::string prefix = "pkcs11:token=" + m_token.label() + ";id=%";
  EXPECT_EQ(uri.rfind(prefix, 0), 0u) << uri;
  EXPECT_NE(uri.find(";object=tls%20ca%2f2026"), std::string::npos) << uri;
  auto parsed = detail::parse_pkcs11_uri(uri);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->token, m_token.label());
  EXPECT_EQ(parsed->object, "tls ca/2026");
  ASSERT_TRUE(parsed->id.has_value());
  EXPECT_EQ(parsed->id->size(), 16u);

  // Found by label alone too, and a ref naming another token is not ours.
  auto by_label = m_store->public_key(KeyRef{"pkcs11:object=tls%20ca%2F2026"});
  EXPECT_TRUE(by_label) << by_label.error().to_string();
  std::string other = uri;
  other.replace(0, prefix.size() - 5, "pkcs11:token=elsewhere");
  auto elsewhere = m_store->public_key(KeyRef{other});
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, Errc::key_not_found);
}

TEST(Pkcs11Uri, ParsesAndFormats) {
  const crypto::Bytes id{0x00, 0xab, 0x7f};
  const std::string uri = detail::format_pkcs11_uri("My Token", id, "a;b=c");
  EXPECT_EQ(uri, "pkcs11:token=My%20Token;id=%00%ab%7f;object=a%3bb%3dc");
  auto parsed = detail::parse_pkcs11_uri(uri + "?pin-value=1234");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->token, "My Token");
  EXPECT_EQ(parsed->id, id);
  EXPECT_EQ(parsed->object, "a;b=c");
  EXPECT_FALSE(detail::parse_pkcs11_uri("soft:abc"));
  EXPECT_FALSE(detail::parse_pkcs11_uri("pkcs11:id=%zz"));
  EXPECT_FALSE(detail::parse_pkcs11_uri("pkcs11:id=%0"));
  EXPECT_FALSE(detail::parse_pkcs11_uri("pkcs11:token"));
}

}  // namespace
}  // namespace cartorio::keys
