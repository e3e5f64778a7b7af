#include "pii/cpf.h"

namespace cartorio::pii {

using core::Errc;
using core::Error;

namespace {

constexpr std::size_t kDigits = 11;
constexpr std::size_t kFormattedSize = 14;  // "123.456.789-09"

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits of the 11-digit or the fully punctuated spelling; empty for anything else.
std::string digits_of(std::string_view text) {
  std::string out;
  if (text.size() == kDigits) {
    for (char c : text)
      if (!is_digit(c)) return {};
    return std::string(text);
  }
  if (text.size() != kFormattedSize) return {};
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = i == 3 || i == 7 ? c == '.' : i == 11 ? c == '-' : is_digit(c);
    if (!ok) return {};
    if (is_digit(c)) out.push_back(c);
  }
  return out;
}

// The standard mod-11 check digit over the first `n` digits (weights n+1 down to 2).
int check_digit(std::string_view digits, std::size_t n) {
  int sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += (digits[i] - '0') * static_cast<int>(n + 1 - i);
  const int r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

Error invalid(std::string_view why) { return Error(Errc::invalid_cpf, "CPF " + std::string(why)); }

}  // namespace

core::Result<Cpf> parse_cpf(std::string_view text) {
  if (text.empty()) return invalid("is empty");
  std::string digits = digits_of(text);
  if (digits.empty()) return invalid("must be 11 digits, written 12345678909 or 123.456.789-09");
  if (digits.find_first_not_of(digits[0]) == std::string::npos) return invalid("cannot have all digits equal");
  if (check_digit(digits, 9) != digits[9] - '0' || check_digit(digits, 10) != digits[10] - '0')
    return invalid("check digits do not match");
  return Cpf(std::move(digits));
}

std::string Cpf::formatted() const {
  const std::string_view d = m_digits;
  std::string out;
  out.reserve(kFormattedSize);
  out.append(d.substr(0, 3)).append(".").append(d.substr(3, 3)).append(".").append(d.substr(6, 3));
  out.append("-").append(d.substr(9, 2));
  return out;
}

std::string Cpf::masked() const {
  const std::string_view d = m_digits;
  std::string out = "***.";
  out.append(d.substr(3, 3)).append(".").append(d.substr(6, 3)).append("-**");
  return out;
}

}  // namespace cartorio::pii
