// Errors as values: a stable numeric code, a stable string name, and a human message.
//
// Codes are grouped by area and never reused once retired: scripts and API clients
// match on them (the API maps each to an RFC 9457 problem type, the CLI to an exit code).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cartorio::core {

enum class Errc : int {
  // 1xx: bad input from the caller
  invalid_argument = 100,
  malformed_input = 101,
  malformed_csr = 110,
  csr_bad_signature = 111,
  weak_key = 112,
  unsupported_key_type = 113,
  invalid_san = 114,
  profile_violation = 115,
  unknown_profile = 116,
  invalid_serial = 117,
  invalid_reason = 118,
  invalid_cpf = 119,  // a CPF with a bad format, wrong check digits or all digits equal
  not_a_pdf = 130,
  pdf_malformed = 131,
  pdf_encrypted = 132,
  pdf_too_large = 133,
  pdf_unsupported = 134,
  link_invalid = 140,
  link_expired = 141,
  backup_invalid = 150,    // not a backup, or truncated or altered: nothing was restored
  backup_wrong_key = 151,  // the backup was sealed under another backup key
  // 2xx: authentication and authorisation
  unauthenticated = 200,
  permission_denied = 201,
  wrong_passphrase = 202,
  // 3xx: keys
  key_not_found = 300,
  key_backend = 301,
  not_supported = 302,
  key_sealed = 303,
  // 4xx: store
  not_found = 400,
  already_exists = 401,
  conflict = 402,
  store_unavailable = 403,
  store_error = 404,
  migration_failed = 405,
  // 5xx: PKI state
  ca_offline = 500,
  ca_not_found = 501,
  already_revoked = 502,
  not_initialized = 503,
  already_initialized = 504,
  audit_tampered = 505,  // the audit or transparency log no longer matches its signed heads
  // 6xx: configuration
  config_invalid = 600,
  // 7xx: services this one depends on
  tsa_error = 700,        // the time-stamp authority refused or answered wrongly
  tsa_unavailable = 701,  // ... or could not be reached
  // 9xx: the system itself
  internal = 900,
  io_error = 901,
  crypto_error = 902,
  timed_out = 903,  // an operation (e.g. a scheduled job) ran past its time limit
};

// Stable dotted name, e.g. "csr.bad_signature"; used in JSON output and problem types.
std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::internal;
  std::string message;

  Error() = default;
  Error(Errc c, std::string msg) : code(c), message(std::move(msg)) {}

  // "csr.bad_signature: the CSR signature does not verify"
  std::string to_string() const;
};

// Result<T>: either a T or an Error. Deliberately small: has_value/value/error and
// boolean conversion. value() on an error is a programming bug and aborts.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : m_v(std::in_place_index<1>, std::move(e)) {}      // NOLINT
  Result(Errc c, std::string msg) : m_v(std::in_place_index<1>, Error{c, std::move(msg)}) {}

  bool has_value() const noexcept { return m_v.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { check(); return std::get<0>(m_v); }
  const T& value() const& { check(); return std::get<0>(m_v); }
  T&& value() && { check(); return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(m_v); }
  Error&& error() && { return std::get<1>(std::move(m_v)); }

 private:
  void check() const;
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : m_err(std::move(e)), m_ok(false) {}  // NOLINT
  Result(Errc c, std::string msg) : m_err{c, std::move(msg)}, m_ok(false) {}

  bool has_value() const noexcept { return m_ok; }
  explicit operator bool() const noexcept { return m_ok; }
  const Error& error() const& { return m_err; }
  Error&& error() && { return std::move(m_err); }

 private:
  Error m_err;
  bool m_ok = true;
};

[[noreturn]] void die_on_bad_access(const Error& e);

template <class T>
void Result<T>::check() const {
  if (m_v.index() != 0) die_on_bad_access(std::get<1>(m_v));
}

inline Result<void> ok() { return {}; }

}  // namespace cartorio::core

// Propagate an error: `CARTORIO_TRY(auto x, expr);` or `CARTORIO_TRY_VOID(expr);`.
#define CARTORIO_CONCAT_(a, b) a##b
#define CARTORIO_CONCAT(a, b) CARTORIO_CONCAT_(a, b)
// tmp and decl are declarators, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CARTORIO_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                       \
  if (!tmp) return std::move(tmp).error(); \
  decl = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
#define CARTORIO_TRY(decl, expr) CARTORIO_TRY_IMPL(CARTORIO_CONCAT(try_tmp_, __LINE__), decl, expr)
#define CARTORIO_TRY_VOID(expr)                                   \
  do {                                                            \
    auto try_void_tmp_ = (expr);                                  \
    if (!try_void_tmp_) return std::move(try_void_tmp_).error();  \
  } while (0)
