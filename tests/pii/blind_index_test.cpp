// BlindIndex: the documented HMAC construction, determinism, separation by domain and key,
// key derivation, and the normalisers that make spellings of one value meet.
#include "pii/blind_index.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <string>

namespace cartorio::pii {
namespace {

using core::Errc;

crypto::SecretBytes key_of(std::uint8_t fill) {
  crypto::SecretBytes k(BlindIndex::kKeySize);
  for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(fill + i);
  return k;
}

BlindIndex index_with(std::uint8_t fill) {
  auto index = BlindIndex::create(key_of(fill));
  EXPECT_TRUE(index) << index.error().to_string();
  return std::move(index).value();
}

// The format docs/personal-data.md documents, rebuilt by hand: 4-byte big-endian lengths.
std::string framed(std::initializer_list<std::string_view> fields) {
  std::string out;
  for (auto f : fields) {
    const auto n = static_cast<std::uint32_t>(f.size());
    out.push_back(static_cast<char>(n >> 24));
    out.push_back(static_cast<char>(n >> 16));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n));
    out.append(f);
  }
  return out;
}

TEST(BlindIndex, IsTheDocumentedHmac) {
  const BlindIndex index = index_with(1);
  const auto key = key_of(1);
  const std::string expected = crypto::to_base64url(
      crypto::hmac_sha256(key.view(), crypto::as_bytes(framed({"cartorio/pii-index/v1", "users.cpf", "52998224725"}))));
  EXPECT_EQ(index.index("users.cpf", "52998224725"), expected);
  EXPECT_EQ(expected.size(), 43u);
}

TEST(BlindIndex, DeterministicPerDomainAndKey) {
  const BlindIndex a = index_with(1);
  const BlindIndex a_again = index_with(1);
  const BlindIndex b = index_with(2);
  const std::string v = "52998224725";
  EXPECT_EQ(a.index("users.cpf", v), a.index("users.cpf", v));
  EXPECT_EQ(a.index("users.cpf", v), a_again.index("users.cpf", v));
  EXPECT_NE(a.index("users.cpf", v), a.index("signers.cpf", v));
  EXPECT_NE(a.index("users.cpf", v), b.index("users.cpf", v));
  EXPECT_NE(a.index("users.cpf", v), a.index("users.cpf", "12345678909"));
  // Framing: bytes moved between domain and value give another digest.
  EXPECT_NE(a.index("users.cpf5", "2998224725"), a.index("users.cpf", v));
  EXPECT_NE(a.index("", ""), a.index("x", ""));
  for (char c : a.index("users.email", "ana@example.com"))
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
}

TEST(BlindIndex, KeySizeIsChecked) {
  EXPECT_ERRC(BlindIndex::create(crypto::SecretBytes(31)), Errc::invalid_argument);
  EXPECT_ERRC(BlindIndex::create(crypto::SecretBytes(33)), Errc::invalid_argument);
  EXPECT_ERRC(BlindIndex::create(crypto::SecretBytes()), Errc::invalid_argument);
  EXPECT_ERRC(BlindIndex::derive(crypto::SecretBytes(31)), Errc::invalid_argument);
  ASSERT_OK(BlindIndex::derive(crypto::SecretBytes(64)));
}

TEST(BlindIndex, DerivedKeyIsDocumentedAndNotTheSecret) {
  const auto secret = key_of(7);
  auto derived = BlindIndex::derive(secret);
  ASSERT_OK(derived);
  auto direct = BlindIndex::create(secret.clone());
  ASSERT_OK(direct);
  EXPECT_NE(derived->index("users.cpf", "52998224725"), direct->index("users.cpf", "52998224725"));
  // derive(s) == create(HMAC-SHA256(s, "cartorio/pii-index-key/v1")).
  auto k = crypto::hmac_sha256(secret.view(), crypto::as_bytes("cartorio/pii-index-key/v1"));
  auto by_hand = BlindIndex::create(crypto::SecretBytes(k));
  ASSERT_OK(by_hand);
  EXPECT_EQ(derived->index("users.cpf", "52998224725"), by_hand->index("users.cpf", "52998224725"));
  auto again = BlindIndex::derive(key_of(7));
  ASSERT_OK(again);
  EXPECT_EQ(derived->index("users.cpf", "52998224725"), again->index("users.cpf", "52998224725"));
}

TEST(BlindIndex, BothCpfSpellingsMeet) {
  const BlindIndex index = index_with(3);
  auto punctuated = normalize_cpf("529.982.247-25");
  auto plain = normalize_cpf("52998224725");
  ASSERT_OK(punctuated);
  ASSERT_OK(plain);
  EXPECT_EQ(*punctuated, "52998224725");
  EXPECT_EQ(index.index("users.cpf", *punctuated), index.index("users.cpf", *plain));
  EXPECT_ERRC(normalize_cpf("529.982.247-26"), Errc::invalid_cpf);
  EXPECT_ERRC(normalize_cpf("111.111.111-11"), Errc::invalid_cpf);
}

TEST(BlindIndex, EmailNormalisation) {
  EXPECT_EQ(normalize_email("  Ana.Souza@Example.COM \t\r\n"), "ana.souza@example.com");
  EXPECT_EQ(normalize_email("ana@example.com"), "ana@example.com");
  EXPECT_EQ(normalize_email(""), "");
  EXPECT_EQ(normalize_email(" \t "), "");
  EXPECT_EQ(normalize_email("a b@X"), "a b@x");  // inner spaces kept: not a validator
  EXPECT_EQ(normalize_email("JOSÉ@EXAMPLE.COM"), "josÉ@example.com");  // ASCII folding only
  const BlindIndex index = index_with(4);
  EXPECT_EQ(index.index("users.email", normalize_email(" ANA@example.com")),
            index.index("users.email", normalize_email("ana@EXAMPLE.com ")));
}

}  // namespace
}  // namespace cartorio::pii
