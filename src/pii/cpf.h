// CPF (Cadastro de Pessoas Físicas), the Brazilian taxpayer number: 9 base digits and 2 check
// digits (mod 11), written "123.456.789-09" or "12345678909".
//
// parse_cpf accepts exactly those two spellings: 11 digits, or 3.3.3-2 digits with both dots
// and the dash. Anything else is refused — surrounding spaces, other separators, a partial
// punctuation such as "529982.247-25" — so one number has one accepted form per style and
// callers trim their input on purpose, not by accident. The check digits must match and
// the eleven "all digits equal" numbers (000.000.000-00 ... 999.999.999-99), which pass the
// mod-11 check, are refused too.
//
// A CPF is personal data: error messages say what is wrong, never the number; logs and
// screens show masked() ("***.456.789-**"); stored copies go through pii::FieldCipher and
// lookups through pii::BlindIndex (normalize_cpf).
#pragma once

#include "core/error.h"

#include <string>
#include <string_view>
#include <utility>

namespace cartorio::pii {

class Cpf {
 public:
  // The 11 digits, "12345678909": the canonical form to seal and to index.
  std::string_view digits() const { return m_digits; }
  // "123.456.789-09".
  std::string formatted() const;
  // "***.456.789-**": the first three and the check digits hidden, for display and logs.
  std::string masked() const;

  friend bool operator==(const Cpf&, const Cpf&) = default;

 private:
  friend core::Result<Cpf> parse_cpf(std::string_view text);
  explicit Cpf(std::string digits) : m_digits(std::move(digits)) {}

  std::string m_digits;
};

// Errc::invalid_cpf for anything but a valid CPF in one of the two spellings; the message
// names the problem (format, check digits, repeated digits) and never echoes the input.
core::Result<Cpf> parse_cpf(std::string_view text);

}  // namespace cartorio::pii
