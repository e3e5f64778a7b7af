// Signed download links: round trip, expiry at the boundary (ManualClock), and every way a
// link can be spoiled.
#include "documents/download_links.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace cartorio::documents {
namespace {

using core::Errc;

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kId = "doc_abcdefghijklmnopqrstuvwxyz";

crypto::SecretBytes key_of(std::uint8_t fill) { return crypto::SecretBytes(crypto::Bytes(32, fill)); }

// The parts of a link made by DownloadLinks::make.
struct Link {
  std::string path;
  std::string expires;
  std::string sig;
};

Link parse(const std::string& url) {
  Link l;
  const auto q = url.find('?');
  EXPECT_NE(q, std::string::npos) << url;
  l.path = url.substr(0, q);
  std::map<std::string, std::string> params;
  std::string query = url.substr(q + 1);
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto amp = std::min(query.find('&', pos), query.size());
    const std::string pair = query.substr(pos, amp - pos);
    const auto eq = pair.find('=');
    params[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    pos = amp + 1;
  }
  EXPECT_EQ(params.size(), 2u) << url;
  l.expires = params["expires"];
  l.sig = params["sig"];
  return l;
}

class DownloadLinksTest : public ::testing::Test {
 protected:
  DownloadLinksTest() : m_clock(core::from_unix(kNow)) {}

  DownloadLinks links(std::uint8_t key_fill = 7) {
    auto l = DownloadLinks::create(key_of(key_fill), m_clock);
    EXPECT_TRUE(l) << l.error().to_string();
    return std::move(l).value();
  }

  core::ManualClock m_clock;
};

TEST_F(DownloadLinksTest, MakesThePathAndQuery_TheApiServes) {
  const Link l = parse(links().make(kId, std::chrono::minutes(60)));
  EXPECT_EQ(l.path, "/api/v1/documents/" + kId + "/content");
  EXPECT_EQ(l.expires, std::to_string(kNow + 3600));
  EXPECT_EQ(l.sig.size(), 43u);  // 32 bytes, base64url unpadded
  EXPECT_TRUE(crypto::from_base64url(l.sig));
}

TEST_F(DownloadLinksTest, SignsTheVersionedCanonicalString) {
  // Pins the format: links made by one release must verify on the next and on other
  // instances, so the MAC input may change only with a new version prefix.
  const Link l = parse(links().make(kId, std::chrono::seconds(600)));
  const std::string canonical = "cartorio.download-link.v1\n" + kId + "\n" + std::to_string(kNow + 600);
  EXPECT_EQ(l.sig, crypto::to_base64url(crypto::hmac_sha256(crypto::Bytes(32, 7), crypto::as_bytes(canonical))));
}

TEST_F(DownloadLinksTest, AcceptsItsOwnLink_UntilItExpires) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::minutes(60)));
  ASSERT_OK(dl.check(kId, l.expires, l.sig));
  m_clock.advance(std::chrono::minutes(59));
  ASSERT_OK(dl.check(kId, l.expires, l.sig));
}

TEST_F(DownloadLinksTest, ExpiresExactlyAtTheBoundary) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::seconds(300)));
  m_clock.set(core::from_unix(kNow + 299));
  ASSERT_OK(dl.check(kId, l.expires, l.sig));  // the last good second
  m_clock.set(core::from_unix(kNow + 300));
  EXPECT_ERRC(dl.check(kId, l.expires, l.sig), Errc::link_expired);
  m_clock.set(core::from_unix(kNow + 86400));
  EXPECT_ERRC(dl.check(kId, l.expires, l.sig), Errc::link_expired);
}

TEST_F(DownloadLinksTest, ZeroLifetime_IsExpiredAtOnce) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::seconds(0)));
  EXPECT_ERRC(dl.check(kId, l.expires, l.sig), Errc::link_expired);
}

TEST_F(DownloadLinksTest, Rejects_LinkOfAnotherDocument) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::minutes(60)));
  EXPECT_ERRC(dl.check("doc_abcdefghijklmnopqrstuvwxy2", l.expires, l.sig), Errc::link_invalid);
  EXPECT_ERRC(dl.check(kId + "x", l.expires, l.sig), Errc::link_invalid);
  EXPECT_ERRC(dl.check("", l.expires, l.sig), Errc::link_invalid);
}

TEST_F(DownloadLinksTest, Rejects_TamperedExpiry) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::minutes(60)));
  const std::int64_t expires = std::stoll(l.expires);
  for (const std::string& e : {std::to_string(expires + 1), std::to_string(expires - 1), std::to_string(expires * 10),
                               "0" + l.expires, "+" + l.expires, l.expires + " ", " " + l.expires}) {
    SCOPED_TRACE("expires '" + e + "'");
    EXPECT_ERRC(dl.check(kId, e, l.sig), Errc::link_invalid);
  }
}

TEST_F(DownloadLinksTest, Rejects_TamperedSignature) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::minutes(60)));
  auto raw = crypto::from_base64url(l.sig);
  ASSERT_TRUE(raw);
  for (std::size_t i : {std::size_t{0}, std::size_t{15}, std::size_t{31}}) {
    crypto::Bytes flipped = *raw;
    flipped[i] ^= 0x01;
    SCOPED_TRACE("flipped byte " + std::to_string(i));
    EXPECT_ERRC(dl.check(kId, l.expires, crypto::to_base64url(flipped)), Errc::link_invalid);
  }
  crypto::Bytes shorter(raw->begin(), raw->end() - 1);
  EXPECT_ERRC(dl.check(kId, l.expires, crypto::to_base64url(shorter)), Errc::link_invalid);
  crypto::Bytes longer = *raw;
  longer.push_back(0);
  EXPECT_ERRC(dl.check(kId, l.expires, crypto::to_base64url(longer)), Errc::link_invalid);
  // The same bytes in another spelling: padded, standard base64, a non-canonical last char.
  EXPECT_ERRC(dl.check(kId, l.expires, l.sig + "="), Errc::link_invalid);
  EXPECT_ERRC(dl.check(kId, l.expires, crypto::to_base64(*raw)), Errc::link_invalid);
  std::string loose = l.sig;
  loose.back() = static_cast<char>(loose.back() + 1);
  EXPECT_ERRC(dl.check(kId, l.expires, loose), Errc::link_invalid);
}

TEST_F(DownloadLinksTest, Rejects_LinkMadeUnderAnotherKey) {
  const Link l = parse(links(/*key_fill=*/8).make(kId, std::chrono::minutes(60)));
  EXPECT_ERRC(links(/*key_fill=*/7).check(kId, l.expires, l.sig), Errc::link_invalid);
  ASSERT_OK(links(/*key_fill=*/8).check(kId, l.expires, l.sig));
}

TEST_F(DownloadLinksTest, ReportsForgedExpiredLinks_AsInvalidNotExpired) {
  // Only a link this installation signed learns that it expired.
  const Link l = parse(links(/*key_fill=*/8).make(kId, std::chrono::minutes(1)));
  m_clock.advance(std::chrono::hours(1));
  EXPECT_ERRC(links(/*key_fill=*/7).check(kId, l.expires, l.sig), Errc::link_invalid);
}

TEST_F(DownloadLinksTest, Rejects_EmptyAndGarbageInput) {
  auto dl = links();
  const Link l = parse(dl.make(kId, std::chrono::minutes(60)));
  EXPECT_ERRC(dl.check(kId, "", ""), Errc::link_invalid);
  EXPECT_ERRC(dl.check(kId, l.expires, ""), Errc::link_invalid);
  EXPECT_ERRC(dl.check(kId, "", l.sig), Errc::link_invalid);
  for (const char* e : {"abc", "-1", "1e9", "17000000000000000000000", "99999999999999999999", "1.5", "0x10"}) {
    SCOPED_TRACE(e);
    EXPECT_ERRC(dl.check(kId, e, l.sig), Errc::link_invalid);
  }
  for (const std::string& s : {std::string("garbage!"), std::string("%2F%2F"), std::string(43, '*'),
                               std::string(4096, 'A'), std::string("A\0B", 3)})
    EXPECT_ERRC(dl.check(kId, l.expires, s), Errc::link_invalid);
  EXPECT_ERRC(dl.check(kId, std::string_view("1\0", 2), l.sig), Errc::link_invalid);
}

TEST_F(DownloadLinksTest, Refuses_KeysOfTheWrongSize) {
  for (std::size_t n : {std::size_t{0}, std::size_t{16}, std::size_t{31}, std::size_t{33}, std::size_t{64}}) {
    SCOPED_TRACE(n);
    EXPECT_ERRC(DownloadLinks::create(crypto::SecretBytes(crypto::Bytes(n, 1)), m_clock), Errc::invalid_argument);
  }
}

}  // namespace
}  // namespace cartorio::documents
