// FieldCipher over a real SoftwareKeyStore: round trips, tokens bound to their row, column
// and table, tampering, foreign rings, and data-key rotation.
#include "pii/field_cipher.h"

#include "crypto/bytes.h"
#include "key_ring_fixture.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cartorio::pii {
namespace {

using core::Errc;

constexpr FieldContext kCtx{"users", "cpf", "usr_0001"};
constexpr std::string_view kCpf = "52998224725";

class FieldCipherTest : public testing::KeyRingTest {
 protected:
  void SetUp() override {
    KeyRingTest::SetUp();
    ASSERT_NE(m_ring, nullptr);
    m_cipher = std::make_unique<FieldCipher>(*m_ring);
  }
  std::string seal(const FieldContext& ctx, std::string_view plaintext) {
    auto token = m_cipher->seal(ctx, plaintext);
    EXPECT_TRUE(token) << token.error().to_string();
    return token ? *token : std::string();
  }
  // The token does not open in `ctx`, with a store error that names no plaintext.
  void expect_refused(const FieldContext& ctx, const std::string& token, std::string_view plaintext = kCpf) {
    auto opened = m_cipher->open(ctx, token);
    ASSERT_FALSE(opened) << "opened as \"" << *opened << "\"";
    EXPECT_EQ(opened.error().code, Errc::store_error) << opened.error().to_string();
    EXPECT_EQ(opened.error().message.find(plaintext), std::string::npos) << opened.error().message;
  }

  std::unique_ptr<FieldCipher> m_cipher;
};

TEST_F(FieldCipherTest, RoundTrip) {
  for (std::string_view value : {kCpf, std::string_view("Maria José da Conceição"), std::string_view(""),
                                 std::string_view("ana@example.com"), std::string_view("+55 11 91234-5678")}) {
    const std::string token = seal(kCtx, value);
    auto opened = m_cipher->open(kCtx, token);
    ASSERT_TRUE(opened) << opened.error().to_string();
    EXPECT_EQ(*opened, value);
  }
  std::string binary("a\0b\xff", 4);
  auto opened = m_cipher->open(kCtx, seal(kCtx, binary));
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, binary);
}

TEST_F(FieldCipherTest, TokenFormat) {
  const std::string token = seal(kCtx, kCpf);
  const std::string prefix = "pii1." + active_id() + ".";
  ASSERT_EQ(token.rfind(prefix, 0), 0u) << token;
  auto sealed = crypto::from_base64url(std::string_view(token).substr(prefix.size()));
  ASSERT_TRUE(sealed) << token;
  EXPECT_EQ(sealed->size(), kCpf.size() + crypto::kAeadOverhead);
  EXPECT_EQ(token.find(kCpf), std::string::npos);
  for (char c : token) EXPECT_TRUE(c > ' ' && c <= '~') << token;  // plain text for a TEXT column
  auto id = FieldCipher::key_id_of(token);
  ASSERT_OK(id);
  EXPECT_EQ(*id, active_id());
}

// A random nonce per seal: equal values do not give equal tokens (lookups use BlindIndex).
TEST_F(FieldCipherTest, EqualValuesGiveDifferentTokens) {
  std::set<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.insert(seal(kCtx, kCpf));
  EXPECT_EQ(tokens.size(), 20u);
}

TEST_F(FieldCipherTest, TokenOpensOnlyWhereItWasSealed) {
  const std::string token = seal(kCtx, kCpf);
  expect_refused({"users", "cpf", "usr_0002"}, token);
  expect_refused({"users", "name", "usr_0001"}, token);
  expect_refused({"signers", "cpf", "usr_0001"}, token);
  expect_refused({"users", "cpf", "usr_00011"}, token);
  // Length-prefixed fields: moving bytes between table and column changes the context.
  const std::string split = seal({"ab", "c", "1"}, kCpf);
  expect_refused({"a", "bc", "1"}, split);
  const std::string split2 = seal({"t", "c", "12"}, kCpf);
  expect_refused({"t", "c1", "2"}, split2);
}

TEST_F(FieldCipherTest, TamperedTokensDoNotOpen) {
  const std::string token = seal(kCtx, kCpf);
  const std::size_t payload = token.rfind('.') + 1;
  // Every character of the sealed part, flipped to another base64url character.
  for (std::size_t i = payload; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto opened = m_cipher->open(kCtx, t);
    EXPECT_FALSE(opened) << "position " << i;
    if (!opened) {
      EXPECT_EQ(opened.error().code, Errc::store_error);
    }
  }
  expect_refused(kCtx, token.substr(0, token.size() - 1));
  expect_refused(kCtx, token + "A");
  expect_refused(kCtx, "pii2" + token.substr(4));
  expect_refused(kCtx, token.substr(0, payload) + "AAAA");  // shorter than nonce and tag
  for (std::string junk : {"", "pii1.", "pii1..", "pii1.dk-1", "pii1..AAAA", "52998224725", "pii1.dk 1.AAAA",
                           "PII1.dk-1.AAAA"})
    expect_refused(kCtx, junk);
  EXPECT_ERRC(FieldCipher::key_id_of("not a token"), Errc::store_error);
}

TEST_F(FieldCipherTest, SwappedKeyIdDoesNotOpen) {
  const std::string old_id = active_id();
  const std::string old_token = seal(kCtx, kCpf);
  const std::string new_id = rotate();
  const std::string new_token = seal(kCtx, kCpf);
  // Both keys are in the ring: each payload under the other's id must fail.
  auto swap_id = [](const std::string& t, const std::string& from, const std::string& to) {
    return "pii1." + to + t.substr(5 + from.size());
  };
  expect_refused(kCtx, swap_id(old_token, old_id, new_id));
  expect_refused(kCtx, swap_id(new_token, new_id, old_id));
}

TEST_F(FieldCipherTest, ForeignRingDoesNotOpen) {
  auto other_ring = open_ring("other-keys", "other-master.key");
  ASSERT_NE(other_ring, nullptr);
  FieldCipher other(*other_ring);
  auto token = other.seal(kCtx, kCpf);
  ASSERT_OK(token);
  auto opened = m_cipher->open(kCtx, *token);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::store_error);
  EXPECT_NE(opened.error().message.find("does not have"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("users.cpf of row usr_0001"), std::string::npos) << opened.error().message;
}

TEST_F(FieldCipherTest, BadInputIsRefused) {
  EXPECT_ERRC(m_cipher->seal({"", "cpf", "1"}, kCpf), Errc::invalid_argument);
  EXPECT_ERRC(m_cipher->seal({"users", "", "1"}, kCpf), Errc::invalid_argument);
  EXPECT_ERRC(m_cipher->seal({"users", "cpf", ""}, kCpf), Errc::invalid_argument);
  EXPECT_ERRC(m_cipher->open({"users", "cpf", ""}, seal(kCtx, kCpf)), Errc::invalid_argument);
  const std::string big(kMaxFieldBytes + 1, 'x');
  auto r = m_cipher->seal(kCtx, big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message.find("xxxx"), std::string::npos);
  auto max = m_cipher->open(kCtx, seal(kCtx, std::string(kMaxFieldBytes, 'y')));
  ASSERT_OK(max);
  EXPECT_EQ(max->size(), kMaxFieldBytes);
}

TEST_F(FieldCipherTest, RotationKeepsOldTokensOpeningAndMarksThem) {
  const std::string k1 = active_id();
  const std::string old_token = seal(kCtx, kCpf);
  auto before = m_cipher->needs_rotation(old_token);
  ASSERT_OK(before);
  EXPECT_FALSE(*before);

  const std::string k2 = rotate();
  ASSERT_NE(k1, k2);
  const std::string new_token = seal(kCtx, kCpf);
  EXPECT_EQ(*FieldCipher::key_id_of(new_token), k2);
  EXPECT_EQ(*FieldCipher::key_id_of(old_token), k1);
  EXPECT_EQ(*m_cipher->active_key_id(), k2);

  auto old_opened = m_cipher->open(kCtx, old_token);
  ASSERT_OK(old_opened);
  EXPECT_EQ(*old_opened, kCpf);
  EXPECT_TRUE(*m_cipher->needs_rotation(old_token));
  EXPECT_FALSE(*m_cipher->needs_rotation(new_token));

  // reseal: nothing to do for a current token; a new token under k2 for an old one.
  auto same = m_cipher->reseal(kCtx, new_token);
  ASSERT_OK(same);
  EXPECT_FALSE(same->has_value());
  auto moved = m_cipher->reseal(kCtx, old_token);
  ASSERT_OK(moved);
  ASSERT_TRUE(moved->has_value());
  EXPECT_EQ(*FieldCipher::key_id_of(**moved), k2);
  EXPECT_EQ(*m_cipher->open(kCtx, **moved), kCpf);
  // Still bound to its row.
  expect_refused({"users", "cpf", "usr_0002"}, **moved);
  // A damaged old token is reported, not re-sealed.
  std::string bad = old_token;
  bad.back() = bad.back() == 'A' ? 'B' : 'A';
  EXPECT_ERRC(m_cipher->reseal(kCtx, bad), Errc::store_error);
}

// Another instance rotating the same ring directory: this cipher picks the new key up.
TEST_F(FieldCipherTest, RotationByAnotherProcessIsPickedUp) {
  const std::string k1 = active_id();
  auto second = open_ring("data-keys", "master.key");
  ASSERT_NE(second, nullptr);
  auto k2 = second->rotate_data_key();
  ASSERT_OK(k2);
  EXPECT_EQ(*FieldCipher::key_id_of(seal(kCtx, kCpf)), *k2);
  EXPECT_NE(k1, *k2);
}

}  // namespace
}  // namespace cartorio::pii
