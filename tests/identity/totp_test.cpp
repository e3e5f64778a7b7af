// TOTP (RFC 6238 over RFC 4226): the RFCs' test vectors, the acceptance window, the
// enrolment URI and its QR code.
#include "identity/totp.h"

#include "core/clock.h"
#include "crypto/bytes.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace cartorio::identity {
namespace {

using core::Errc;

const std::string kRfcSecret = "12345678901234567890";  // RFC 4226 / RFC 6238 SHA-1 seed

crypto::ByteView rfc_secret() { return crypto::as_bytes(kRfcSecret); }

TEST(Hotp, Rfc4226AppendixDVectors) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter)
    EXPECT_EQ(totp::hotp(rfc_secret(), counter), expected[counter]) << "counter " << counter;
}

struct Rfc6238Vector {
  long long unix_time;
  std::int64_t step;
  const char* code8;
};

// RFC 6238 Appendix B, SHA-1 column.
constexpr Rfc6238Vector kRfc6238[] = {
    {59, 0x1, "94287082"},
    {1111111109, 0x23523EC, "07081804"},
    {1111111111, 0x23523ED, "14050471"},
    {1234567890, 0x273EF07, "89005924"},
    {2000000000, 0x3F940AA, "69279037"},
    {20000000000LL, 0x27BC86AA, "65353130"},
};

// T = 20000000000 (year 2603) lies beyond what a std::chrono::system_clock time_point of
// nanoseconds can hold (about 1678..2262), so core::TimePoint cannot carry it: that vector's
// step is checked by the RFC's arithmetic only, the others through totp::time_step as well.
bool representable(long long unix_time) {
  return unix_time < std::chrono::duration_cast<std::chrono::seconds>(core::TimePoint::max().time_since_epoch()).count();
}

TEST(Totp, Rfc6238AppendixBSha1EightDigits) {
  for (const auto& v : kRfc6238) {
    EXPECT_EQ(v.unix_time / 30, v.step) << "T = " << v.unix_time;
    if (representable(v.unix_time)) {
      EXPECT_EQ(totp::time_step(core::from_unix(v.unix_time)), v.step) << "T = " << v.unix_time;
    }
    EXPECT_EQ(totp::hotp(rfc_secret(), static_cast<std::uint64_t>(v.step), 8), v.code8) << "T = " << v.unix_time;
  }
}

TEST(Totp, Rfc6238AppendixBSixDigitTruncations) {
  // The default (6 digits) is the last six of the 8-digit value: the same 31-bit number mod 10^6.
  const std::pair<std::int64_t, const char*> six[] = {{0x1, "287082"},       {0x23523EC, "081804"},
                                                      {0x23523ED, "050471"}, {0x273EF07, "005924"},
                                                      {0x3F940AA, "279037"}, {0x27BC86AA, "353130"}};
  for (const auto& [step, code] : six) {
    EXPECT_EQ(totp::hotp(rfc_secret(), static_cast<std::uint64_t>(step)), code) << "step " << step;
    EXPECT_EQ(totp::match(rfc_secret(), code, step), std::optional<std::int64_t>(step));
  }
}

TEST(Totp, CodesAreZeroPaddedToTheRequestedDigits) {
  // T = 1111111109 gives 07081804: the leading zero must survive.
  const auto step = static_cast<std::uint64_t>(totp::time_step(core::from_unix(1111111109)));
  EXPECT_EQ(totp::hotp(rfc_secret(), step, 8), "07081804");
  EXPECT_EQ(totp::hotp(rfc_secret(), step, 7).size(), 7u);
  EXPECT_EQ(totp::hotp(rfc_secret(), step, 9).size(), 9u);
}

TEST(Totp, TimeStepBoundaries) {
  EXPECT_EQ(totp::time_step(core::from_unix(0)), 0);
  EXPECT_EQ(totp::time_step(core::from_unix(29)), 0);
  EXPECT_EQ(totp::time_step(core::from_unix(30)), 1);
  EXPECT_EQ(totp::time_step(core::from_unix(59)), 1);
  EXPECT_EQ(totp::time_step(core::from_unix(60)), 2);
  EXPECT_EQ(totp::time_step(core::from_unix(60), std::chrono::seconds(60)), 1);
  EXPECT_EQ(totp::time_step(core::from_unix(-1)), -1);  // floor, not truncation
}

TEST(TotpMatch, AcceptsTheCurrentStepAndOneEitherSide) {
  const std::int64_t now = 56666667;
  for (int d : {-1, 0, 1}) {
    const auto code = totp::hotp(rfc_secret(), static_cast<std::uint64_t>(now + d));
    auto m = totp::match(rfc_secret(), code, now);
    ASSERT_TRUE(m.has_value()) << "offset " << d;
    EXPECT_EQ(*m, now + d);
  }
}

TEST(TotpMatch, RefusesCodesBeyondTheWindow) {
  const std::int64_t now = 56666667;
  for (int d : {-3, -2, 2, 3, 10}) {
    const auto code = totp::hotp(rfc_secret(), static_cast<std::uint64_t>(now + d));
    // (A code of another step may collide with one in the window once in ~10^5 cases; these
    // fixed steps do not.)
    EXPECT_FALSE(totp::match(rfc_secret(), code, now).has_value()) << "offset " << d;
  }
}

TEST(TotpMatch, WindowIsConfigurable) {
  const std::int64_t now = 1000;
  const auto plus_two = totp::hotp(rfc_secret(), now + 2);
  EXPECT_FALSE(totp::match(rfc_secret(), plus_two, now, 1).has_value());
  EXPECT_EQ(totp::match(rfc_secret(), plus_two, now, 2), std::optional<std::int64_t>(now + 2));
  const auto minus_one = totp::hotp(rfc_secret(), now - 1);
  EXPECT_FALSE(totp::match(rfc_secret(), minus_one, now, 0).has_value());
  EXPECT_EQ(totp::match(rfc_secret(), totp::hotp(rfc_secret(), now), now, 0), std::optional<std::int64_t>(now));
}

TEST(TotpMatch, RefusesMalformedCodes) {
  const std::int64_t now = 1000;
  const auto code = totp::hotp(rfc_secret(), now);
  EXPECT_FALSE(totp::match(rfc_secret(), "", now).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), code.substr(0, 5), now).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), code + "0", now).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), " " + code.substr(1), now).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), "12345a", now).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), "-12345", now).has_value());
  // The right code with the wrong digit count setting.
  EXPECT_FALSE(totp::match(rfc_secret(), code, now, 1, 8).has_value());
  // The right code under another secret.
  EXPECT_FALSE(totp::match(crypto::as_bytes(std::string_view("another secret value")), code, now).has_value());
}

TEST(TotpMatch, OtherDigitCountsWithinRange) {
  const std::int64_t now = 1000;
  for (int digits : {6, 7, 8, 9}) {
    const auto code = totp::hotp(rfc_secret(), now, digits);
    ASSERT_EQ(code.size(), static_cast<std::size_t>(digits));
    EXPECT_EQ(totp::match(rfc_secret(), code, now, 1, digits), std::optional<std::int64_t>(now)) << digits;
  }
}

// hotp() only makes 6..9 digits (it clamps anything else), so match() cannot check a code
// of another length: it must refuse, not compare against a clamped code. (It used to accept
// the first five digits of the 6-digit code for digits = 5, and to read past the candidate
// for digits > 10.)
TEST(TotpMatch, RefusesDigitCountsOutsideSixToNine) {
  const std::int64_t now = 1000;
  const auto six = totp::hotp(rfc_secret(), now);
  EXPECT_FALSE(totp::match(rfc_secret(), six.substr(0, 5), now, 1, 5).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), six.substr(1), now, 1, 5).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), "", now, 1, 0).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), totp::hotp(rfc_secret(), now, 9) + "0", now, 1, 10).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), std::string(12, '1'), now, 1, 12).has_value());
  EXPECT_FALSE(totp::match(rfc_secret(), six, now, 1, -6).has_value());
}

TEST(TotpMatch, NoNegativeSteps) {
  // Step -1 does not exist: at step 0 only steps 0 and 1 can match.
  EXPECT_EQ(totp::match(rfc_secret(), totp::hotp(rfc_secret(), 0), 0), std::optional<std::int64_t>(0));
  EXPECT_EQ(totp::match(rfc_secret(), totp::hotp(rfc_secret(), 1), 0), std::optional<std::int64_t>(1));
}

TEST(TotpUri, KeyUriFormat) {
  const std::string secret = crypto::to_base32(rfc_secret());
  EXPECT_EQ(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(totp::otpauth_uri("Cartorio Digital", "alice@example.com", secret),
            "otpauth://totp/Cartorio%20Digital:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=Cartorio%20Digital&algorithm=SHA1&digits=6&period=30");
}

TEST(TotpUri, PercentEncodesIssuerAndAccount) {
  const auto uri = totp::otpauth_uri("A&B:C/é", "x?y#z", "ABC", 8, std::chrono::seconds(60));
  EXPECT_EQ(uri, "otpauth://totp/A%26B%3AC%2F%C3%A9:x%3Fy%23z?secret=ABC&issuer=A%26B%3AC%2F%C3%A9"
                 "&algorithm=SHA1&digits=8&period=60");
  // Unreserved characters stay as they are.
  EXPECT_EQ(totp::otpauth_uri("a-b.c_d~e", "u", "S"),
            "otpauth://totp/a-b.c_d~e:u?secret=S&issuer=a-b.c_d~e&algorithm=SHA1&digits=6&period=30");
}

// The SVG is one <svg> element holding a white <rect> and one black <path> of unit-height
// runs inside the quiet zone; checked by structure, not by string equality.
TEST(TotpQr, SvgIsWellFormed) {
  const std::string uri = totp::otpauth_uri("Cartorio Digital", "alice", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  auto svg = totp::qr_svg(uri);
  ASSERT_TRUE(svg) << svg.error().to_string();
  const std::string& s = *svg;
  ASSERT_TRUE(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" ")) << s.substr(0, 80);
  ASSERT_TRUE(s.ends_with("</svg>"));
  // Exactly one opening and one closing svg tag; every other element self-closes.
  EXPECT_EQ(s.find("<svg", 1), std::string::npos);
  EXPECT_EQ(s.find("</svg>"), s.size() - 6);
  std::smatch m;
  const std::regex shape(
      R"re(^<svg xmlns="http://www\.w3\.org/2000/svg" viewBox="0 0 (\d+) (\d+)" width="(\d+)" height="(\d+)" )re"
      R"re(shape-rendering="crispEdges"><rect width="(\d+)" height="(\d+)" fill="#fff"/>)re"
      R"re(<path fill="#000" d="([^"]*)"/></svg>$)re");
  ASSERT_TRUE(std::regex_match(s, m, shape)) << s.substr(0, 300);
  const int size = std::stoi(m[1]);
  EXPECT_EQ(std::stoi(m[2]), size);
  EXPECT_EQ(std::stoi(m[5]), size);
  EXPECT_EQ(std::stoi(m[6]), size);
  EXPECT_EQ(std::stoi(m[3]), size * 6);
  // QR versions are 21 + 4(v-1) modules wide; plus a 4-module quiet zone on each side.
  const int modules = size - 8;
  EXPECT_GE(modules, 21);
  EXPECT_EQ((modules - 21) % 4, 0) << modules;
  // Every run "M x y h n v1 h-n z" lies inside the symbol.
  const std::string d = m[7];
  ASSERT_FALSE(d.empty());
  const std::regex run(R"(M(\d+) (\d+)h(\d+)v1h-(\d+)z)");
  std::size_t covered = 0, runs = 0;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), run); it != std::sregex_iterator(); ++it) {
    const int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]), n = std::stoi((*it)[3]);
    EXPECT_EQ(std::stoi((*it)[4]), n);
    EXPECT_GE(x, 4);
    EXPECT_GE(y, 4);
    EXPECT_LE(x + n, 4 + modules);
    EXPECT_LT(y, 4 + modules);
    covered += static_cast<std::size_t>(it->length());
    ++runs;
  }
  EXPECT_EQ(covered, d.size()) << "the path holds something other than runs";
  // The three finder patterns alone give 3 * 7 rows with dark modules.
  EXPECT_GT(runs, 21u);
}

TEST(TotpQr, RefusesEmptyNulAndOversizedText) {
  EXPECT_ERRC(totp::qr_svg(""), Errc::invalid_argument);
  EXPECT_ERRC(totp::qr_svg(std::string("abc\0def", 7)), Errc::invalid_argument);
  // QR version 40-M holds at most 2331 bytes.
  EXPECT_ERRC(totp::qr_svg(std::string(5000, 'x')), Errc::invalid_argument);
}

}  // namespace
}  // namespace cartorio::identity
