// Passwords: the length-based policy and argon2id PHC hashing.
#include "identity/password.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <string>

namespace cartorio::identity {
namespace {

using core::Errc;

PasswordParams fast() { return PasswordParams{1, 256, 1}; }

TEST(PasswordHasher, HashIsAnArgon2idPhcStringOfItsParameters) {
  PasswordHasher h(fast());
  auto phc = h.hash("correct horse battery staple");
  ASSERT_OK(phc);
  EXPECT_TRUE(phc->starts_with("$argon2id$v=19$m=256,t=1,p=1$")) << *phc;
  // salt and hash parts follow, unpadded base64
  const auto tail = phc->substr(std::string("$argon2id$v=19$m=256,t=1,p=1$").size());
  const auto dollar = tail.find('$');
  ASSERT_NE(dollar, std::string::npos);
  EXPECT_EQ(dollar, 22u);                      // 16-byte salt
  EXPECT_EQ(tail.size() - dollar - 1, 43u);    // 32-byte hash
  EXPECT_EQ(tail.find('='), std::string::npos);
}

TEST(PasswordHasher, VerifiesTheRightPasswordOnly) {
  PasswordHasher h(fast());
  auto phc = h.hash("correct horse battery staple");
  ASSERT_OK(phc);
  EXPECT_TRUE(h.verify("correct horse battery staple", *phc));
  EXPECT_FALSE(h.verify("correct horse battery stapl", *phc));
  EXPECT_FALSE(h.verify("Correct horse battery staple", *phc));
  EXPECT_FALSE(h.verify("", *phc));
  EXPECT_FALSE(h.verify(std::string("correct horse battery staple\0", 29), *phc));
}

TEST(PasswordHasher, SaltIsFreshEachTime) {
  PasswordHasher h(fast());
  auto a = h.hash("same password here");
  auto b = h.hash("same password here");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(h.verify("same password here", *a));
  EXPECT_TRUE(h.verify("same password here", *b));
}

TEST(PasswordHasher, VerifiesHashesMadeWithOtherParameters) {
  PasswordHasher old_params(PasswordParams{2, 512, 2});
  PasswordHasher current(fast());
  auto phc = old_params.hash("a long enough password");
  ASSERT_OK(phc);
  EXPECT_TRUE(phc->starts_with("$argon2id$v=19$m=512,t=2,p=2$")) << *phc;
  EXPECT_TRUE(current.verify("a long enough password", *phc));
  EXPECT_TRUE(current.needs_rehash(*phc));
  EXPECT_FALSE(old_params.needs_rehash(*phc));
  auto mine = current.hash("a long enough password");
  ASSERT_OK(mine);
  EXPECT_FALSE(current.needs_rehash(*mine));
  EXPECT_TRUE(current.needs_rehash("not a phc string"));
}

TEST(PasswordHasher, RefusesAnythingButSaneArgon2id) {
  PasswordHasher h(fast());
  auto phc = h.hash("correct horse battery staple");
  ASSERT_OK(phc);
  const std::string rest = phc->substr(std::string("$argon2id$v=19$m=256,t=1,p=1").size());  // "$salt$hash"
  EXPECT_FALSE(h.verify("correct horse battery staple", ""));
  EXPECT_FALSE(h.verify("correct horse battery staple", "garbage"));
  // Other variants and versions.
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2i$v=19$m=256,t=1,p=1" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2d$v=19$m=256,t=1,p=1" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=16$m=256,t=1,p=1" + rest));
  // Parameters beyond the bounds are refused before libargon2 sees them (no 4 GiB
  // allocation from a tampered row).
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$m=4194304,t=1,p=1" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$m=256,t=65,p=1" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$m=256,t=0,p=1" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$m=256,t=1,p=17" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$m=256,t=1,p=0" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$m=,t=1,p=1" + rest));
  EXPECT_FALSE(h.verify("correct horse battery staple", "$argon2id$v=19$t=1,m=256,p=1" + rest));
  // A changed hash byte.
  std::string tampered = *phc;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(h.verify("correct horse battery staple", tampered));
}

TEST(PasswordParamsValidation, Bounds) {
  ASSERT_OK(PasswordHasher::validate(PasswordParams{}));  // OWASP defaults
  ASSERT_OK(PasswordHasher::validate(PasswordParams{1, 8, 1}));
  ASSERT_OK(PasswordHasher::validate(PasswordParams{64, 1u << 20, 16}));
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{0, 19456, 1}), Errc::config_invalid);
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{65, 19456, 1}), Errc::config_invalid);
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{2, 19456, 0}), Errc::config_invalid);
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{2, 19456, 17}), Errc::config_invalid);
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{2, 7, 1}), Errc::config_invalid);
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{2, 31, 4}), Errc::config_invalid);  // < 8 * lanes
  EXPECT_ERRC(PasswordHasher::validate(PasswordParams{2, (1u << 20) + 1, 1}), Errc::config_invalid);
}

TEST(PasswordPolicy, LengthInCodePoints) {
  EXPECT_ERRC(check_password_policy(""), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("short"), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("elevenchars"), Errc::invalid_argument);  // 11
  ASSERT_OK(check_password_policy("twelve chars"));                              // 12
  // 11 two-byte characters are 22 bytes but 11 characters: too short; 12 are enough.
  std::string e11, e12;
  for (int i = 0; i < 11; ++i) e11 += "é";
  e12 = e11 + "é";
  EXPECT_ERRC(check_password_policy(e11), Errc::invalid_argument);
  ASSERT_OK(check_password_policy(e12));
  ASSERT_OK(check_password_policy("senha🔒🔒🔒🔒🔒🔒🔒"));  // astral-plane characters count once each
}

TEST(PasswordPolicy, MaximumBytes) {
  ASSERT_OK(check_password_policy(std::string(kMaxPasswordBytes, 'a')));
  EXPECT_ERRC(check_password_policy(std::string(kMaxPasswordBytes + 1, 'a')), Errc::invalid_argument);
}

TEST(PasswordPolicy, RefusesInvalidUtf8AndControls) {
  EXPECT_ERRC(check_password_policy("abcdefghijkl\xff"), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("abcdefghijkl\xc3"), Errc::invalid_argument);          // truncated
  EXPECT_ERRC(check_password_policy("abcdefghijkl\xc0\xaf"), Errc::invalid_argument);      // overlong '/'
  EXPECT_ERRC(check_password_policy("abcdefghijkl\xed\xa0\x80"), Errc::invalid_argument);  // surrogate
  EXPECT_ERRC(check_password_policy("abcdefghijkl\xf4\x90\x80\x80"), Errc::invalid_argument);  // > U+10FFFF
  EXPECT_ERRC(check_password_policy("abcdef\tghijkl"), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("abcdef\nghijkl"), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy(std::string("abcdef\0ghijkl", 13)), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("abcdef\x7fghijkl"), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("abcdef\xc2\x85ghijkl"), Errc::invalid_argument);  // C1 NEL
  ASSERT_OK(check_password_policy("abcdef ghijkl"));  // spaces are fine
}

TEST(PasswordPolicy, RefusesTheUsername) {
  EXPECT_ERRC(check_password_policy("alice.notary.sp", "alice.notary.sp"), Errc::invalid_argument);
  EXPECT_ERRC(check_password_policy("ALICE.Notary.SP", "alice.notary.sp"), Errc::invalid_argument);
  ASSERT_OK(check_password_policy("alice.notary.sp!", "alice.notary.sp"));
  ASSERT_OK(check_password_policy("alice.notary.sp"));
}

TEST(PasswordPolicy, ErrorsNeverEchoThePassword) {
  const std::string secret = "hunter2";
  auto r = check_password_policy(secret);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
  auto u = check_password_policy("my-username-1", "my-username-1");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message.find("my-username-1"), std::string::npos) << u.error().message;
}

}  // namespace
}  // namespace cartorio::identity
