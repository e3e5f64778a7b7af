#include "pii/blind_index.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "pii/cpf.h"
#include "crypto/framing.h"

namespace cartorio::pii {

using core::Errc;
using core::Error;

namespace {

constexpr std::string_view kIndexTag = "cartorio/pii-index/v1";
constexpr std::string_view kIndexKeyTag = "cartorio/pii-index-key/v1";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

core::Result<BlindIndex> BlindIndex::create(crypto::SecretBytes key) {
  if (key.size() != kKeySize)
    return Error(Errc::invalid_argument, "the blind index key must be " + std::to_string(kKeySize) + " bytes, not " +
                                             std::to_string(key.size()));
  return BlindIndex(std::move(key));
}

core::Result<BlindIndex> BlindIndex::derive(const crypto::SecretBytes& installation_secret) {
  if (installation_secret.size() < kKeySize)
    return Error(Errc::invalid_argument,
                 "the blind index secret must be at least " + std::to_string(kKeySize) + " bytes");
  crypto::Bytes derived = crypto::hmac_sha256(installation_secret.view(), crypto::as_bytes(kIndexKeyTag));
  crypto::SecretBytes key(derived);
  std::fill(derived.begin(), derived.end(), std::uint8_t{0});
  return BlindIndex(std::move(key));
}

std::string BlindIndex::index(std::string_view domain, std::string_view normalized_value) const {
  return crypto::to_base64url(
      crypto::hmac_sha256(m_key.view(), crypto::length_prefixed({kIndexTag, domain, normalized_value})));
}

core::Result<std::string> normalize_cpf(std::string_view text) {
  CARTORIO_TRY(Cpf cpf, parse_cpf(text));
  return std::string(cpf.digits());
}

std::string normalize_email(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace cartorio::pii
