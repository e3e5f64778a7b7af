// FieldCipher: personal data (CPF, names, e-mail, phone) encrypted one field at a time under
// the installation's data keys (keys::DataKeyRing), as compact text tokens that fit a TEXT
// column:
//
//   pii1.<data key id>.<base64url(nonce(12) || AES-256-GCM ciphertext || tag(16))>
//
// The associated data binds a token to where it belongs — length-prefixed fields
// (4-byte big-endian length, then the bytes):
//
//   "cartorio/pii-field/v1", data key id, table, column, row id
//
// so a token copied into another row, column or table, or given another key id, does not
// open. The row id is therefore the row's stable identity, known before the insert (a
// generated id, not one the database assigns afterwards), and never changes; it is not
// itself personal data (it appears in error messages).
//
// Rotation: seal() always uses the ring's active key; open() finds the token's key by id,
// active or retired, so old rows keep opening while pii::reencrypt moves them to the active
// key (reseal, needs_rotation). Equal plaintexts give different tokens (random nonce): use
// pii::BlindIndex to look a value up.
//
// Plaintexts are returned as std::string: they are shown to users and rendered into
// responses, so copies cannot be avoided. They are personal data all the same: never log
// them, never put them in error messages (no message of this class contains one). Tokens are
// safe to log but pointless to.
//
// Errors: Errc::invalid_argument for an empty context field or a plaintext over
// kMaxFieldBytes; Errc::store_error for a token that is not one, is damaged, was moved, or
// names a data key the ring does not have (what is stored is wrong, as for
// objectstore::EncryptedObjectStore); key ring errors (Errc::key_backend, Errc::io_error) pass
// through.
//
// Thread-safety: as safe as the ring (every DataKeyRing is); the cipher has no state of its
// own. The ring is borrowed and must outlive the cipher.
#pragma once

#include "core/error.h"
#include "keys/data_key_ring.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cartorio::pii {

// Where a field lives; every member must be non-empty.
struct FieldContext {
  std::string_view table;   // "users"
  std::string_view column;  // "cpf"
  std::string_view row_id;  // the row's primary key, e.g. "usr_01HX..."
};

inline constexpr std::string_view kFieldTokenPrefix = "pii1.";
// Personal fields are short; the bound keeps a token within what a TEXT column and a log
// line comfortably hold.
inline constexpr std::size_t kMaxFieldBytes = 16 * 1024;

class FieldCipher {
 public:
  explicit FieldCipher(keys::DataKeyRing& ring) : m_ring(&ring) {}

  // A new token for `plaintext` (may be empty) under the active data key.
  core::Result<std::string> seal(const FieldContext& ctx, std::string_view plaintext) const;
  // The plaintext `token` was sealed with, if it was sealed for exactly `ctx`.
  core::Result<std::string> open(const FieldContext& ctx, std::string_view token) const;

  // For the re-encryption pass: nullopt when `token` is already under the active key, else a
  // new token for the same plaintext and context under it (the plaintext is wiped after use).
  core::Result<std::optional<std::string>> reseal(const FieldContext& ctx, std::string_view token) const;
  // Whether `token` is under a key other than the active one (asks the ring once).
  core::Result<bool> needs_rotation(std::string_view token) const;
  // The id of the key seal() uses now; a batch compares key_id_of(token) with it to skip
  // current tokens without asking the ring per token.
  core::Result<std::string> active_key_id() const;
  // The data key id a token names, without opening it. Errc::store_error when `token` is not
  // a well-formed token.
  static core::Result<std::string> key_id_of(std::string_view token);

 private:
  keys::DataKeyRing* m_ring;  // not owned; a pointer so the cipher can be copied and moved
};

}  // namespace cartorio::pii
