#include "crypto/bytes.h"

#include "crypto/vector_file.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace cartorio::crypto {
namespace {

Bytes b(std::string_view s) {
  auto v = as_bytes(s);
  return {v.begin(), v.end()};
}

// ---- known answers (RFC 4648 section 10) ---------------------------------------------------------

TEST(Rfc4648, Base64AndBase16KnownAnswers) {
  for (const auto& v : cartorio::testing::read_vectors("rfc4648.vec")) {
    const Bytes in = v.hex("In");
    SCOPED_TRACE("line " + std::to_string(v.line));
    EXPECT_EQ(to_base64(in), v.at("Base64"));
    auto back = from_base64(v.at("Base64"));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, in);
    EXPECT_EQ(to_hex(in, /*upper=*/true), v.at("Base16"));
    auto hex_back = from_hex(v.at("Base16"));
    ASSERT_TRUE(hex_back.has_value());
    EXPECT_EQ(*hex_back, in);
  }
}

// ---- hex -------------------------------------------------------------------------------------------

TEST(Hex, LowercaseByDefault) {
  EXPECT_EQ(to_hex(Bytes{0x00, 0x0f, 0xa0, 0xff}), "000fa0ff");
  EXPECT_EQ(to_hex(Bytes{0x00, 0x0f, 0xa0, 0xff}, true), "000FA0FF");
  EXPECT_EQ(to_hex(Bytes{}), "");
}

TEST(Hex, RoundTripsEveryByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  auto back = from_hex(to_hex(all));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, all);
}

TEST(Hex, AcceptsMixedCase) {
  auto r = from_hex("aBcDeF");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (Bytes{0xab, 0xcd, 0xef}));
}

TEST(Hex, RejectsOddLength) {
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("0"));
}

TEST(Hex, RejectsNonHexCharacters) {
  for (const char* bad : {"zz", "0g", "g0", "0x12", "12 34", " 1", "1\n", "--", "\xc3\xa9\xc3\xa9"})
    EXPECT_FALSE(from_hex(bad)) << bad;
  EXPECT_FALSE(from_hex(std::string_view("0\0", 2)));
}

// ---- base64 ----------------------------------------------------------------------------------------

TEST(Base64, RoundTripsEveryLengthUpTo100) {
  std::mt19937 rng(1234);
  for (std::size_t n = 0; n <= 100; ++n) {
    Bytes in(n);
    for (auto& x : in) x = static_cast<std::uint8_t>(rng());
    const std::string enc = to_base64(in);
    EXPECT_EQ(enc.size(), 4 * ((n + 2) / 3));
    auto dec = from_base64(enc);
    ASSERT_TRUE(dec) << n;
    EXPECT_EQ(*dec, in) << n;
  }
}

TEST(Base64, SkipsLineBreaksAndSpaces) {
  auto r = from_base64("Zm9v\nYmFy\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, b("foobar"));
  auto s = from_base64(" Zm9v YmFy ");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, b("foobar"));
}

TEST(Base64, RejectsBadCharacters) {
  for (const char* bad : {"Zm9v!mFy", "Zm9-", "Zm9_", "Zm\x01v", "Zm9v\tYmFy", "\xc3\xa9\xc3\xa9"})
    EXPECT_FALSE(from_base64(bad)) << bad;
}

TEST(Base64, RejectsLengthNotMultipleOfFour) {
  for (const char* bad : {"Z", "Zm", "Zm9", "Zm9vY", "Zg=", "Zg==="}) EXPECT_FALSE(from_base64(bad)) << bad;
}

class Base64BadPadding : public ::testing::TestWithParam<const char*> {};

TEST_P(Base64BadPadding, IsRejected) {
  auto r = from_base64(GetParam());
  EXPECT_FALSE(r) << "regression: src/crypto/bytes.cpp:50-56 from_base64 accepts \"" << GetParam() << "\" as "
                  << (r ? to_hex(*r) : "") << " (EVP_DecodeBlock decodes '=' as zero bits anywhere; the pad "
                  << "count only looks at the last two characters)";
}

// '=' only belongs at the end, at most two of them, and never as a whole quantum.
INSTANTIATE_TEST_SUITE_P(Cases, Base64BadPadding,
                         ::testing::Values("====",       // a block of padding only
                                           "Z===",       // three pad characters
                                           "Zg==Zg==",   // padding in the middle
                                           "=Zm9",       // padding first
                                           "Zm=v",       // padding before data
                                           "Zg=A"));     // "=" then data in the last quantum

// ---- base64url and base32 (RFC 4648 5 and 6) ------------------------------------------------------

TEST(Base64Url, Rfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {{"", ""},         {"f", "Zg"},        {"fo", "Zm8"},
                                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(to_base64url(as_bytes(plain)), enc);
    auto d = from_base64url(enc);
    ASSERT_TRUE(d) << enc;
    EXPECT_EQ(to_string(*d), plain);
  }
}

TEST(Base64Url, UsesTheUrlSafeAlphabet) {
  const Bytes b = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(to_base64url(b), "-_-_");
  EXPECT_EQ(from_base64url("-_-_"), std::optional<Bytes>(b));
}

TEST(Base64Url, StrictDecoding) {
  EXPECT_FALSE(from_base64url("Zg=="));    // padding
  EXPECT_FALSE(from_base64url("+/+/"));    // standard alphabet
  EXPECT_FALSE(from_base64url("Zm9 v"));   // whitespace
  EXPECT_FALSE(from_base64url("Zm9v\n"));
  EXPECT_FALSE(from_base64url("Z"));       // length 1 mod 4
  EXPECT_FALSE(from_base64url("Zm9vY"));
  // Non-canonical: unused low bits set ("Zg" is canonical for "f", "Zh" is not).
  EXPECT_FALSE(from_base64url("Zh"));
  EXPECT_FALSE(from_base64url("Zm9"));     // canonical: "Zm8"
  EXPECT_TRUE(from_base64url("Zm8"));
}

TEST(Base32, Rfc4648VectorsUnpadded) {
  const std::pair<const char*, const char*> v[] = {{"", ""},          {"f", "MY"},          {"fo", "MZXQ"},
                                                   {"foo", "MZXW6"},  {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"},
                                                   {"foobar", "MZXW6YTBOI"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(to_base32(as_bytes(plain)), enc);
    auto d = from_base32(enc);
    ASSERT_TRUE(d) << enc;
    EXPECT_EQ(to_string(*d), plain);
  }
}

TEST(Base32, LenientDecodingForHumans) {
  EXPECT_EQ(from_base32("mzxw6ytboi"), std::optional<Bytes>(Bytes{'f', 'o', 'o', 'b', 'a', 'r'}));
  EXPECT_EQ(from_base32("MZXW 6YTB-OI======"), from_base32("MZXW6YTBOI"));
  EXPECT_FALSE(from_base32("MZXW1"));  // '1' is not in the alphabet
  EXPECT_FALSE(from_base32("MZXW8"));
  EXPECT_FALSE(from_base32("MZ_W6"));
}

// ---- constant_time_equal -----------------------------------------------------------------------------

TEST(ConstantTimeEqual, TrueOnlyForSameBytes) {
  EXPECT_TRUE(constant_time_equal(as_bytes("token-123"), as_bytes("token-123")));
  EXPECT_FALSE(constant_time_equal(as_bytes("token-123"), as_bytes("token-124")));
  EXPECT_FALSE(constant_time_equal(as_bytes("xoken-123"), as_bytes("token-123")));
}

TEST(ConstantTimeEqual, FalseForDifferentLengths) {
  EXPECT_FALSE(constant_time_equal(as_bytes("abc"), as_bytes("abcd")));
  EXPECT_FALSE(constant_time_equal(as_bytes(""), as_bytes("a")));
  EXPECT_FALSE(constant_time_equal(as_bytes("abcd"), as_bytes("abc")));
}

TEST(ConstantTimeEqual, TrueForTwoEmpty) {
  EXPECT_TRUE(constant_time_equal(ByteView{}, ByteView{}));
}

TEST(ConstantTimeEqual, ComparesEmbeddedZeros) {
  const std::string a("a\0b", 3), c("a\0c", 3);
  EXPECT_TRUE(constant_time_equal(as_bytes(a), as_bytes(a)));
  EXPECT_FALSE(constant_time_equal(as_bytes(a), as_bytes(c)));
}

}  // namespace
}  // namespace cartorio::crypto
