// CPF parsing: the two accepted spellings, the mod-11 check digits, the repeated-digit
// numbers, and messages that never repeat the number.
#include "pii/cpf.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cartorio::pii {
namespace {

using core::Errc;

// The check digits written from the textbook formula (10·Σ mod 11, 10 → 0), independently
// of the implementation's "11 − r" form.
std::string with_check_digits(const std::string& base9) {
  std::string d = base9;
  for (int round = 0; round < 2; ++round) {
    int sum = 0;
    const int n = static_cast<int>(d.size());
    for (int i = 0; i < n; ++i) sum += (d[static_cast<std::size_t>(i)] - '0') * (n + 1 - i);
    d.push_back(static_cast<char>('0' + (sum * 10) % 11 % 10));
  }
  return d;
}

std::string punctuated(const std::string& d) {
  return d.substr(0, 3) + "." + d.substr(3, 3) + "." + d.substr(6, 3) + "-" + d.substr(9, 2);
}

std::vector<std::string> generated_valid() {
  std::vector<std::string> out;
  for (std::string base : {"123456789", "111444777", "000000001", "987654321", "390533447"})
    out.push_back(with_check_digits(base));
  std::mt19937 rng(20240611);  // fixed: the same cases every run
  std::uniform_int_distribution<int> digit(0, 9);
  while (out.size() < 40) {
    std::string base;
    for (int i = 0; i < 9; ++i) base.push_back(static_cast<char>('0' + digit(rng)));
    std::string d = with_check_digits(base);
    if (d.find_first_not_of(d[0]) != std::string::npos) out.push_back(d);
  }
  return out;
}

TEST(Cpf, TheTextbookExamplesHaveTheirKnownCheckDigits) {
  // Guards the test's own generator against the published examples.
  EXPECT_EQ(with_check_digits("529982247"), "52998224725");
  EXPECT_EQ(with_check_digits("123456789"), "12345678909");
  EXPECT_EQ(with_check_digits("111444777"), "11144477735");
}

TEST(Cpf, AcceptsBothSpellingsOfValidNumbers) {
  std::vector<std::string> valid = generated_valid();
  valid.push_back("52998224725");
  for (const auto& d : valid) {
    for (const std::string& text : {d, punctuated(d)}) {
      auto cpf = parse_cpf(text);
      ASSERT_TRUE(cpf) << text << ": " << cpf.error().to_string();
      EXPECT_EQ(cpf->digits(), d);
      EXPECT_EQ(cpf->formatted(), punctuated(d));
    }
  }
}

TEST(Cpf, FormsAndMask) {
  auto cpf = parse_cpf("529.982.247-25");
  ASSERT_OK(cpf);
  EXPECT_EQ(cpf->digits(), "52998224725");
  EXPECT_EQ(cpf->formatted(), "529.982.247-25");
  EXPECT_EQ(cpf->masked(), "***.982.247-**");
  auto same = parse_cpf("52998224725");
  ASSERT_OK(same);
  EXPECT_EQ(*cpf, *same);
  auto other = parse_cpf("123.456.789-09");
  ASSERT_OK(other);
  EXPECT_NE(*cpf, *other);
}

// The repeated-digit numbers pass the mod-11 check: they need their own rule.
TEST(Cpf, RefusesEveryRepeatedDigitNumber) {
  for (char c = '0'; c <= '9'; ++c) {
    const std::string d(11, c);
    ASSERT_EQ(with_check_digits(d.substr(0, 9)), d);
    for (const std::string& text : {d, punctuated(d)}) {
      auto cpf = parse_cpf(text);
      ASSERT_FALSE(cpf) << text;
      EXPECT_EQ(cpf.error().code, Errc::invalid_cpf);
      EXPECT_NE(cpf.error().message.find("all digits equal"), std::string::npos) << cpf.error().message;
    }
  }
}

TEST(Cpf, RefusesWrongCheckDigits) {
  for (const auto& d : generated_valid()) {
    for (std::size_t pos : {9u, 10u}) {
      std::string wrong = d;
      wrong[pos] = static_cast<char>('0' + (wrong[pos] - '0' + 1) % 10);
      for (const std::string& text : {wrong, punctuated(wrong)}) {
        auto cpf = parse_cpf(text);
        ASSERT_FALSE(cpf) << text;
        EXPECT_EQ(cpf.error().code, Errc::invalid_cpf);
        EXPECT_NE(cpf.error().message.find("check digits"), std::string::npos) << cpf.error().message;
      }
    }
  }
  // A changed base digit breaks the check too.
  EXPECT_ERRC(parse_cpf("529.982.248-25"), Errc::invalid_cpf);
}

struct BadForm {
  const char* text;
  const char* why;
};

TEST(Cpf, RefusesEveryOtherSpelling) {
  const BadForm cases[] = {
      {"", "empty"},
      {"5299822472", "10 digits"},
      {"529982247250", "12 digits"},
      {"529.982.247-2", "punctuated, 10 digits"},
      {"529.982.247-250", "punctuated, 12 digits"},
      {" 52998224725", "leading space"},
      {"52998224725 ", "trailing space"},
      {"52998224725\n", "trailing newline"},
      {"529 982 247 25", "spaces as separators"},
      {"529982.247-25", "partial punctuation"},
      {"529.982.24725", "partial punctuation"},
      {"529.98224725", "partial punctuation"},
      {"529-982-247.25", "separators swapped"},
      {"529.982.247/25", "other separator"},
      {"529,982,247-25", "other separator"},
      {"5299822472a", "a letter"},
      {"52998224725a", "trailing letter"},
      {"CPF52998224725", "leading junk"},
      {"+52998224725", "sign"},
      {"529.982.247-2\xd9\xa5", "non-ASCII digit"},
  };
  for (const auto& c : cases) {
    auto cpf = parse_cpf(c.text);
    ASSERT_FALSE(cpf) << c.why;
    EXPECT_EQ(cpf.error().code, Errc::invalid_cpf) << c.why;
  }
  // Embedded NULs (a C string's end is not the input's end).
  EXPECT_ERRC(parse_cpf(std::string_view("52998224725\0", 12)), Errc::invalid_cpf);
  EXPECT_ERRC(parse_cpf(std::string_view("529.982.247-25\0", 15)), Errc::invalid_cpf);
}

// Personal data stays out of messages: neither the input nor its digits appear, whatever
// was wrong with it.
TEST(Cpf, MessagesNeverRepeatTheNumber) {
  const std::string inputs[] = {
      "529.982.247-26", "52998224726", "529.982.247-35", "11111111111", "222.222.222-22",
      "5299822472",     "529982247250", "529982.247-25", " 52998224725", "5299822472x", "529.982.247/25",
  };
  for (const auto& text : inputs) {
    auto cpf = parse_cpf(text);
    ASSERT_FALSE(cpf) << text;
    const std::string msg = cpf.error().to_string();
    std::string digits;
    for (char c : text)
      if (c >= '0' && c <= '9') digits.push_back(c);
    EXPECT_EQ(msg.find(text), std::string::npos) << msg;
    EXPECT_EQ(msg.find(digits), std::string::npos) << msg;
    // Not even a run of four of its digits (a partial echo).
    for (std::size_t i = 0; i + 4 <= digits.size(); ++i)
      EXPECT_EQ(msg.find(digits.substr(i, 4)), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("input.invalid_cpf: CPF ", 0), 0u) << msg;
  }
}

}  // namespace
}  // namespace cartorio::pii
