#include "crypto/primitives.h"

#include "crypto/vector_file.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cartorio::crypto {
namespace {

using core::Errc;

SecretBytes secret(const Bytes& b) { return SecretBytes(ByteView(b)); }
Bytes bytes_of(const SecretBytes& s) { return {s.view().begin(), s.view().end()}; }

// ---- SHA-256 and HMAC-SHA-256 known answers -----------------------------------------------------

TEST(Sha256, MatchesKnownAnswers) {
  for (const auto& v : cartorio::testing::read_vectors("sha256.vec")) {
    SCOPED_TRACE("sha256.vec line " + std::to_string(v.line));
    Bytes in = v.hex("In");
    if (auto rep = v.get("Repeat")) {
      const Bytes unit = in;
      in.clear();
      for (std::uint64_t i = 0; i < std::stoull(*rep); ++i) in.insert(in.end(), unit.begin(), unit.end());
    }
    const auto d = sha256(in);
    EXPECT_EQ(to_hex(d), v.at("Out"));
  }
}

TEST(Sha256Stream, PiecesAndCopiesGiveTheOneShotDigest) {
  for (const auto& v : cartorio::testing::read_vectors("sha256.vec")) {
    if (v.get("Repeat")) continue;
    SCOPED_TRACE("sha256.vec line " + std::to_string(v.line));
    const Bytes in = v.hex("In");
    for (std::size_t cut : {std::size_t{0}, in.size() / 2, in.size()}) {
      Sha256 h;
      h.update(ByteView(in).first(cut));
      const Sha256 prefix(h);  // the state after the prefix, continued twice
      EXPECT_EQ(to_hex(Sha256(prefix).update(ByteView(in).subspan(cut)).digest()), v.at("Out"));
      EXPECT_EQ(to_hex(h.update(ByteView(in).subspan(cut)).digest()), v.at("Out"));
      EXPECT_EQ(to_hex(prefix.digest()), to_hex(sha256(ByteView(in).first(cut))));  // digest() leaves it usable
    }
  }
}

void check_hmac_vector(const cartorio::testing::Vector& v) {
  SCOPED_TRACE("hmac_sha256.vec line " + std::to_string(v.line));
  const Bytes mac = hmac_sha256(v.hex("Key"), v.hex("In"));
  const std::string& want = v.at("Out");  // may be truncated (test case 5)
  ASSERT_EQ(mac.size(), 32u);
  EXPECT_EQ(to_hex(mac).substr(0, want.size()), want);
}

TEST(HmacSha256, MatchesRfc4231) {
  int n = 0;
  for (const auto& v : cartorio::testing::read_vectors("hmac_sha256.vec")) {
    if (v.at("Key").empty()) continue;  // see ComputesMacWithEmptyKey
    check_hmac_vector(v);
    ++n;
  }
  EXPECT_EQ(n, 7);
}

TEST(HmacSha256, ComputesMacWithEmptyKey) {
  // An empty key is weak but legal (RFC 2104); a failure must not come back as an empty MAC,
  // which constant_time_equal would find equal to any other empty MAC.
  int n = 0;
  for (const auto& v : cartorio::testing::read_vectors("hmac_sha256.vec")) {
    if (!v.at("Key").empty()) continue;
    const Bytes mac = hmac_sha256(v.hex("Key"), v.hex("In"));
    EXPECT_EQ(mac.size(), 32u) << "regression: src/crypto/primitives.cpp:51-55 hmac_sha256 ignores HMAC()'s NULL return "
                                  "(OpenSSL 3 fails for a NULL key) and returns an empty MAC";
    if (mac.size() == 32) check_hmac_vector(v);
    ++n;
  }
  EXPECT_EQ(n, 2);
}

// ---- AES-256-GCM ----------------------------------------------------------------------------------

TEST(AeadOpen, DecryptsKnownAnswers) {
  for (const auto& v : cartorio::testing::read_vectors("aes256_gcm.vec")) {
    SCOPED_TRACE("aes256_gcm.vec line " + std::to_string(v.line));
    Bytes sealed = v.hex("Nonce");
    for (const auto* f : {"Ct", "Tag"}) {
      const Bytes part = v.hex(f);
      sealed.insert(sealed.end(), part.begin(), part.end());
    }
    auto r = aead_open(secret(v.hex("Key")), sealed, v.hex("Ad"));
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(bytes_of(*r), v.hex("In"));
  }
}

TEST(AeadOpen, RejectsKnownAnswerWithOtherAad) {
  for (const auto& v : cartorio::testing::read_vectors("aes256_gcm.vec")) {
    Bytes sealed = v.hex("Nonce");
    for (const auto* f : {"Ct", "Tag"}) {
      const Bytes part = v.hex(f);
      sealed.insert(sealed.end(), part.begin(), part.end());
    }
    Bytes aad = v.hex("Ad");
    aad.push_back(0);
    auto r = aead_open(secret(v.hex("Key")), sealed, aad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::crypto_error);
  }
}

class Aead : public ::testing::Test {
 protected:
  SecretBytes key = random_secret(kAeadKeySize);
  const std::string plaintext = "PKCS#8 key material, or anything else";
  const std::string aad = "cartorio:key:tls-ca";
  Bytes seal() {
    auto r = aead_seal(key, as_bytes(plaintext), as_bytes(aad));
    EXPECT_TRUE(r);
    return r ? *r : Bytes{};
  }
};

TEST_F(Aead, RoundTrips) {
  const Bytes sealed = seal();
  EXPECT_EQ(sealed.size(), plaintext.size() + kAeadOverhead);
  auto r = aead_open(key, sealed, as_bytes(aad));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->str(), plaintext);
}

TEST_F(Aead, RoundTripsEmptyPlaintextAndEmptyAad) {
  auto s = aead_seal(key, ByteView{}, ByteView{});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->size(), kAeadOverhead);
  auto r = aead_open(key, *s, ByteView{});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->empty());
}

TEST_F(Aead, RoundTripsLargePlaintext) {
  const Bytes big = random_bytes(1 << 20);
  auto s = aead_seal(key, big, as_bytes(aad));
  ASSERT_TRUE(s);
  auto r = aead_open(key, *s, as_bytes(aad));
  ASSERT_TRUE(r);
  EXPECT_EQ(bytes_of(*r), big);
}

TEST_F(Aead, DoesNotLeakPlaintextIntoSealedBytes) {
  const Bytes sealed = seal();
  const std::string s(sealed.begin(), sealed.end());
  EXPECT_EQ(s.find("PKCS#8"), std::string::npos);
}

TEST_F(Aead, UsesAFreshNonceEachTime) {
  std::set<Bytes> nonces, outputs;
  for (int i = 0; i < 20; ++i) {
    const Bytes s = seal();
    nonces.insert(Bytes(s.begin(), s.begin() + 12));
    outputs.insert(s);
  }
  EXPECT_EQ(nonces.size(), 20u);
  EXPECT_EQ(outputs.size(), 20u);
}

TEST_F(Aead, FailsWithWrongKey) {
  const Bytes sealed = seal();
  auto r = aead_open(random_secret(kAeadKeySize), sealed, as_bytes(aad));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::crypto_error);
}

TEST_F(Aead, FailsWithWrongAad) {
  const Bytes sealed = seal();
  for (std::string other : {std::string(""), aad + "x", std::string("cartorio:key:doc-ca")}) {
    auto r = aead_open(key, sealed, as_bytes(other));
    ASSERT_FALSE(r) << "opened with aad \"" << other << "\"";
    EXPECT_EQ(r.error().code, Errc::crypto_error);
  }
}

TEST_F(Aead, FailsWhenAadWasEmptyButOneIsGiven) {
  auto s = aead_seal(key, as_bytes(plaintext), ByteView{});
  ASSERT_TRUE(s);
  EXPECT_FALSE(aead_open(key, *s, as_bytes("x")));
}

TEST_F(Aead, FailsWhenAnyByteIsFlipped) {
  const Bytes sealed = seal();
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes t = sealed;
    t[i] ^= 0x01;
    auto r = aead_open(key, t, as_bytes(aad));
    ASSERT_FALSE(r) << "flip at offset " << i << " not detected";
    EXPECT_EQ(r.error().code, Errc::crypto_error);
  }
}

TEST_F(Aead, FailsWhenTruncatedOrExtended) {
  const Bytes sealed = seal();
  for (std::size_t len : {sealed.size() - 1, sealed.size() - 16, kAeadOverhead, kAeadOverhead - 1, std::size_t{12},
                          std::size_t{0}}) {
    auto r = aead_open(key, ByteView(sealed.data(), len), as_bytes(aad));
    ASSERT_FALSE(r) << "opened a truncation to " << len << " bytes";
    EXPECT_EQ(r.error().code, Errc::crypto_error);
  }
  Bytes longer = sealed;
  longer.push_back(0);
  EXPECT_FALSE(aead_open(key, longer, as_bytes(aad)));
}

TEST_F(Aead, RejectsKeysThatAreNot32Bytes) {
  for (std::size_t n : {0u, 16u, 31u, 33u}) {
    SecretBytes k(n);
    auto s = aead_seal(k, as_bytes(plaintext), as_bytes(aad));
    ASSERT_FALSE(s) << n;
    EXPECT_EQ(s.error().code, Errc::invalid_argument);
    auto o = aead_open(k, seal(), as_bytes(aad));
    ASSERT_FALSE(o) << n;
    EXPECT_EQ(o.error().code, Errc::invalid_argument);
  }
}

// ---- scrypt ------------------------------------------------------------------------------------------

TEST(Scrypt, MatchesRfc7914) {
  for (const auto& v : cartorio::testing::read_vectors("scrypt.vec")) {
    SCOPED_TRACE("scrypt.vec line " + std::to_string(v.line));
    const Bytes pass = v.hex("Passphrase");
    ScryptParams p;
    p.n = v.number("N");
    p.r = static_cast<std::uint32_t>(v.number("R"));
    p.p = static_cast<std::uint32_t>(v.number("P"));
    const Bytes want = v.hex("Out");
    auto r = scrypt_derive(std::string_view(reinterpret_cast<const char*>(pass.data()), pass.size()), v.hex("Salt"),
                           p, want.size());
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(to_hex(r->view()), to_hex(want));
  }
}

TEST(Scrypt, IsDeterministicAndSaltSensitive) {
  ScryptParams p;
  p.n = 1024;
  const Bytes salt1(16, 1), salt2(16, 2);
  auto a = scrypt_derive("correct horse battery", salt1, p);
  auto b = scrypt_derive("correct horse battery", salt1, p);
  auto c = scrypt_derive("correct horse battery", salt2, p);
  auto d = scrypt_derive("correct horse batterz", salt1, p);
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_EQ(bytes_of(*a), bytes_of(*b));
  EXPECT_NE(bytes_of(*a), bytes_of(*c));
  EXPECT_NE(bytes_of(*a), bytes_of(*d));
}

TEST(Scrypt, FailsWithCryptoError_ForInvalidParameters) {
  const Bytes salt(16, 0);
  for (ScryptParams p : {ScryptParams{1000, 8, 1}, ScryptParams{1, 8, 1}, ScryptParams{0, 8, 1}}) {
    auto r = scrypt_derive("passphrase", salt, p);
    ASSERT_FALSE(r) << "n=" << p.n;
    EXPECT_EQ(r.error().code, Errc::crypto_error);
  }
}

// ---- random ------------------------------------------------------------------------------------------

TEST(RandomBytes, HasTheRequestedSizeAndVaries) {
  EXPECT_TRUE(random_bytes(0).empty());
  EXPECT_EQ(random_bytes(33).size(), 33u);
  EXPECT_NE(random_bytes(16), random_bytes(16));
  EXPECT_EQ(random_secret(32).size(), 32u);
  EXPECT_NE(bytes_of(random_secret(16)), bytes_of(random_secret(16)));
}

// ---- SecretBytes ---------------------------------------------------------------------------------------

TEST(SecretBytes, MoveEmptiesTheSource) {
  SecretBytes a(std::string_view("s3cret"));
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.str(), "s3cret");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented behaviour
  SecretBytes c;
  c = std::move(b);
  EXPECT_EQ(c.str(), "s3cret");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(SecretBytes, CloneIsAnEqualIndependentCopy) {
  SecretBytes a(std::string_view("abc"));
  SecretBytes b = a.clone();
  EXPECT_EQ(b.str(), "abc");
  b.data()[0] = 'x';
  EXPECT_EQ(a.str(), "abc");
}

}  // namespace
}  // namespace cartorio::crypto
