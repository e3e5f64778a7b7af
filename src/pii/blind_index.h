// BlindIndex: a keyed, deterministic digest of a personal field, stored beside its
// FieldCipher token so an exact lookup ("the user with this CPF") is an indexed equality on
// the digest instead of decrypting every row:
//
//   index(domain, value) = base64url(HMAC-SHA256(index key,
//                            length-prefixed("cartorio/pii-index/v1", domain, value)))
//
// 43 characters. The domain (e.g. "users.cpf") separates indexes: equal values in different
// domains give unrelated digests, so one column's index cannot be joined against another's.
// Use the same domain only where matching across columns is intended.
//
// Limits (see docs/personal-data.md): equality only — no prefix, range or fuzzy search; and
// whoever reads the table sees which rows share a value and how often (frequency), though
// not the value. Without the key, guessing a CPF (10^9 candidates) cannot be checked offline;
// with it, it can: the key is as sensitive as the data keys.
//
// The index key must stay the same when data keys rotate (old rows' digests must keep
// matching), so it is not a data key. The composition root feeds derive() an installation
// secret — proposed: a dedicated key file, pii.index_key_file (32 random bytes as 64 hex
// digits, mode 0600, made by `cartorio init` and copied to every instance, read through
// app::read_secret_key_file like identity.data_key_file). Changing it means recomputing
// every digest from the decrypted fields.
//
// Values are normalised first so spellings of one value meet: normalize_cpf,
// normalize_email.
//
// Thread-safety: const after construction; share one between threads.
#pragma once

#include "core/error.h"
#include "crypto/secret_bytes.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace cartorio::pii {

class BlindIndex {
 public:
  static constexpr std::size_t kKeySize = 32;

  // Uses `key` as the HMAC key as is. Errc::invalid_argument unless it is kKeySize bytes.
  static core::Result<BlindIndex> create(crypto::SecretBytes key);
  // The index key for an installation secret (at least kKeySize bytes, else
  // Errc::invalid_argument): HMAC-SHA256(secret, "cartorio/pii-index-key/v1"), so the
  // secret itself never keys anything and may also feed other derived keys.
  static core::Result<BlindIndex> derive(const crypto::SecretBytes& installation_secret);

  // The digest of an already normalised value in an index domain.
  std::string index(std::string_view domain, std::string_view normalized_value) const;

 private:
  explicit BlindIndex(crypto::SecretBytes key) : m_key(std::move(key)) {}

  crypto::SecretBytes m_key;
};

// The 11 digits of a CPF in either accepted spelling ("529.982.247-25" and "52998224725"
// both give "52998224725"); Errc::invalid_cpf as parse_cpf.
core::Result<std::string> normalize_cpf(std::string_view text);

// ASCII whitespace trimmed and ASCII letters lower-cased: "  Ana.Souza@Example.COM "
// gives "ana.souza@example.com". The local part is folded too (no mail system in use here
// treats case there as significant). Bytes outside ASCII are kept as they are (no Unicode
// case folding); the address is not validated.
std::string normalize_email(std::string_view text);

}  // namespace cartorio::pii
