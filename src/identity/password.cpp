#include "identity/password.h"

#include "crypto/primitives.h"

#include <argon2.h>

#include <charconv>
#include <optional>
#include <vector>

namespace cartorio::identity {
namespace {

using core::Errc;
using core::Error;

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::uint32_t kMaxMemoryKib = 1u << 20;  // 1 GiB: refuse stored hashes above it
constexpr std::uint32_t kMaxTimeCost = 64;
constexpr std::uint32_t kMaxLanes = 16;

// Decodes one UTF-8 sequence at s[i]; advances i. nullopt on invalid (overlong,
// surrogate, out of range, truncated) input.
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if ((b0 & 0xe0) == 0xc0) {
    len = 2;
    cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3;
    cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return std::nullopt;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  i += static_cast<std::size_t>(len);
  return cp;
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct PhcParams {
  std::uint32_t m = 0, t = 0, p = 0;
};

// "$argon2id$v=19$m=19456,t=2,p=1$..." -> {m, t, p}; nullopt for anything else.
std::optional<PhcParams> parse_phc(std::string_view phc) {
  constexpr std::string_view kHead = "$argon2id$v=19$";
  if (!phc.starts_with(kHead)) return std::nullopt;
  phc.remove_prefix(kHead.size());
  PhcParams out;
  for (auto [name, field] : {std::pair{"m=", &out.m}, std::pair{"t=", &out.t}, std::pair{"p=", &out.p}}) {
    if (!phc.starts_with(name)) return std::nullopt;
    phc.remove_prefix(2);
    auto [end, ec] = std::from_chars(phc.data(), phc.data() + phc.size(), *field);
    if (ec != std::errc() || end == phc.data()) return std::nullopt;
    phc.remove_prefix(static_cast<std::size_t>(end - phc.data()));
    const char sep = field == &out.p ? '$' : ',';
    if (phc.empty() || phc.front() != sep) return std::nullopt;
    phc.remove_prefix(1);
  }
  return out;
}

}  // namespace

core::Result<void> check_password_policy(std::string_view password, std::string_view username) {
  if (password.size() > kMaxPasswordBytes)
    return Error(Errc::invalid_argument, "the password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  std::size_t chars = 0;
  for (std::size_t i = 0; i < password.size();) {
    auto cp = next_code_point(password, i);
    if (!cp) return Error(Errc::invalid_argument, "the password is not valid UTF-8");
    if (*cp < 0x20 || *cp == 0x7f || (*cp >= 0x80 && *cp < 0xa0))
      return Error(Errc::invalid_argument, "the password contains a control character");
    ++chars;
  }
  if (chars < kMinPasswordChars)
    return Error(Errc::invalid_argument,
                 "the password must have at least " + std::to_string(kMinPasswordChars) + " characters");
  if (!username.empty() && equals_ignoring_ascii_case(password, username))
    return Error(Errc::invalid_argument, "the password must not be the username");
  return core::ok();
}

core::Result<void> PasswordHasher::validate(const PasswordParams& p) {
  if (p.t_cost < 1 || p.t_cost > kMaxTimeCost)
    return Error(Errc::config_invalid, "argon2 t_cost must be 1.." + std::to_string(kMaxTimeCost));
  if (p.parallelism < 1 || p.parallelism > kMaxLanes)
    return Error(Errc::config_invalid, "argon2 parallelism must be 1.." + std::to_string(kMaxLanes));
  if (p.m_cost_kib < 8 * p.parallelism || p.m_cost_kib > kMaxMemoryKib)
    return Error(Errc::config_invalid, "argon2 m_cost_kib must be 8*parallelism.." + std::to_string(kMaxMemoryKib));
  return core::ok();
}

core::Result<std::string> PasswordHasher::hash(std::string_view password) const {
  const crypto::Bytes salt = crypto::random_bytes(kSaltBytes);
  const std::size_t len =
      argon2_encodedlen(m_params.t_cost, m_params.m_cost_kib, m_params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(len + 1, '\0');
  const int rc = argon2id_hash_encoded(m_params.t_cost, m_params.m_cost_kib, m_params.parallelism, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashBytes, encoded.data(),
                                       encoded.size());
  if (rc != ARGON2_OK) return Error(Errc::crypto_error, std::string("argon2id: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

bool PasswordHasher::verify(std::string_view password, std::string_view phc) const {
  auto p = parse_phc(phc);
  if (!p || p->m > kMaxMemoryKib || p->t < 1 || p->t > kMaxTimeCost || p->p < 1 || p->p > kMaxLanes) return false;
  const std::string encoded(phc);  // NUL-terminated for the C API
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool PasswordHasher::needs_rehash(std::string_view phc) const {
  auto p = parse_phc(phc);
  return !p || p->m != m_params.m_cost_kib || p->t != m_params.t_cost || p->p != m_params.parallelism;
}

void PasswordHasher::dummy_verify(std::string_view password) const {
  std::call_once(m_dummy_once, [this] {
    auto h = hash("cartorio dummy password for unknown users");
    m_dummy_hash = h ? std::move(h).value() : std::string();
  });
  (void)verify(password, m_dummy_hash);
}

}  // namespace cartorio::identity
