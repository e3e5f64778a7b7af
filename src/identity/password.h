// Passwords: the policy, and argon2id hashing (RFC 9106) through libargon2 in the PHC string
// format ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so the parameters travel with
// each hash and can be raised later (needs_rehash) without invalidating stored ones.
//
// Thread-safety: a PasswordHasher is immutable after construction apart from the dummy
// hash, made once under std::call_once; share it freely.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace cartorio::identity {

inline constexpr std::size_t kMinPasswordChars = 12;   // Unicode code points
inline constexpr std::size_t kMaxPasswordBytes = 256;  // UTF-8 bytes

// NIST SP 800-63B 5.1.1.2 style: length, not composition. Errc::invalid_argument (with a
// message fit for the user, never echoing the password) when the password is shorter than
// 12 characters, longer than 256 bytes, not valid UTF-8, holds control characters, or
// equals the username (ignoring ASCII case).
core::Result<void> check_password_policy(std::string_view password, std::string_view username = {});

// Defaults: OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane). Tests may use cheaper ones.
struct PasswordParams {
  std::uint32_t t_cost = 2;          // passes, >= 1
  std::uint32_t m_cost_kib = 19456;  // memory in KiB, 8 * parallelism .. 4 GiB
  std::uint32_t parallelism = 1;     // lanes, 1..16
};

class PasswordHasher {
 public:
  // Errc::config_invalid for parameters outside the ranges above.
  static core::Result<void> validate(const PasswordParams& params);

  // The parameters must have passed validate().
  explicit PasswordHasher(PasswordParams params) : m_params(params) {}
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  const PasswordParams& params() const { return m_params; }

  // A fresh 16-byte random salt each time. Errc::crypto_error when libargon2 fails
  // (e.g. cannot allocate the memory).
  core::Result<std::string> hash(std::string_view password) const;
  // Constant-time comparison (libargon2's). False for a mismatch and for anything that is
  // not an argon2id PHC string with sane parameters (at most 1 GiB, 64 passes, 16 lanes),
  // so a tampered row cannot make a login allocate unbounded memory.
  bool verify(std::string_view password, std::string_view phc) const;
  // True when `phc` was made with other parameters than this hasher's.
  bool needs_rehash(std::string_view phc) const;
  // A verification of `password` against a fixed hash of these parameters, its result
  // ignored: an unknown user costs as much time as a known one (no user enumeration).
  void dummy_verify(std::string_view password) const;

 private:
  PasswordParams m_params;
  mutable std::once_flag m_dummy_once;
  mutable std::string m_dummy_hash;
};

}  // namespace cartorio::identity
