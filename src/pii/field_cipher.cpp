#include "pii/field_cipher.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "crypto/framing.h"

namespace cartorio::pii {

using core::Errc;
using core::Error;

namespace {

constexpr std::string_view kAadTag = "cartorio/pii-field/v1";

struct ParsedToken {
  std::string_view key_id;
  crypto::Bytes sealed;
};

// Printable ASCII without spaces (DataKeyRing promises printable ids): the id sits between
// '.'-separated parts of a token and in messages, so nothing in it may break either.
bool valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > keys::kMaxDataKeyIdBytes) return false;
  for (char c : id)
    if (c <= ' ' || c > '~') return false;
  return true;
}

// The base64url part never contains '.', so the last '.' ends the key id (which may hold dots).
std::optional<ParsedToken> parse_token(std::string_view token) {
  if (!token.starts_with(kFieldTokenPrefix)) return std::nullopt;
  token.remove_prefix(kFieldTokenPrefix.size());
  const auto dot = token.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  ParsedToken out{token.substr(0, dot), {}};
  if (!valid_key_id(out.key_id)) return std::nullopt;
  auto sealed = crypto::from_base64url(token.substr(dot + 1));
  if (!sealed || sealed->size() < crypto::kAeadOverhead || sealed->size() > kMaxFieldBytes + crypto::kAeadOverhead)
    return std::nullopt;
  out.sealed = std::move(*sealed);
  return out;
}

crypto::Bytes field_aad(std::string_view key_id, const FieldContext& ctx) {
  return crypto::length_prefixed({kAadTag, key_id, ctx.table, ctx.column, ctx.row_id});
}

// Names the field (never its value) for messages.
std::string where(const FieldContext& ctx) {
  return "personal-data field " + std::string(ctx.table) + "." + std::string(ctx.column) + " of row " +
         std::string(ctx.row_id);
}

core::Result<void> check_context(const FieldContext& ctx) {
  if (ctx.table.empty() || ctx.column.empty() || ctx.row_id.empty())
    return Error(Errc::invalid_argument, "a personal-data field needs a table, a column and a row id");
  return core::ok();
}

Error damaged(const FieldContext& ctx, std::string_view why) {
  return Error(Errc::store_error, where(ctx) + " " + std::string(why));
}

core::Result<std::string> seal_under(const keys::DataKey& key, const FieldContext& ctx, std::string_view plaintext) {
  if (!valid_key_id(key.id))
    return Error(Errc::key_backend, "the data key ring returned a key id unusable in a personal-data token");
  CARTORIO_TRY(crypto::Bytes sealed, crypto::aead_seal(key.key, crypto::as_bytes(plaintext), field_aad(key.id, ctx)));
  std::string token(kFieldTokenPrefix);
  token.append(key.id).append(".").append(crypto::to_base64url(sealed));
  return token;
}

// The plaintext stays in SecretBytes so re-sealing wipes it; open() copies it out.
core::Result<crypto::SecretBytes> open_secret(keys::DataKeyRing& ring, const FieldContext& ctx,
                                              std::string_view token) {
  CARTORIO_TRY_VOID(check_context(ctx));
  auto parsed = parse_token(token);
  if (!parsed) return damaged(ctx, "is not a well-formed personal-data token");
  auto key = ring.find_data_key(parsed->key_id);
  if (!key) {
    if (key.error().code == Errc::key_not_found)
      return damaged(ctx, "is sealed under data key \"" + std::string(parsed->key_id) +
                              "\", which the key ring does not have");
    return std::move(key).error();
  }
  auto plaintext = crypto::aead_open((*key)->key, parsed->sealed, field_aad(parsed->key_id, ctx));
  if (!plaintext)
    return damaged(ctx, "does not open under data key \"" + std::string(parsed->key_id) +
                            "\" (tampered with, or copied from another row, column or table)");
  return std::move(plaintext).value();
}

}  // namespace

core::Result<std::string> FieldCipher::seal(const FieldContext& ctx, std::string_view plaintext) const {
  CARTORIO_TRY_VOID(check_context(ctx));
  if (plaintext.size() > kMaxFieldBytes)
    return Error(Errc::invalid_argument,
                 where(ctx) + " is longer than " + std::to_string(kMaxFieldBytes) + " bytes");
  CARTORIO_TRY(auto key, m_ring->active_data_key());
  return seal_under(*key, ctx, plaintext);
}

core::Result<std::string> FieldCipher::open(const FieldContext& ctx, std::string_view token) const {
  CARTORIO_TRY(crypto::SecretBytes plaintext, open_secret(*m_ring, ctx, token));
  return std::string(plaintext.str());
}

core::Result<std::optional<std::string>> FieldCipher::reseal(const FieldContext& ctx, std::string_view token) const {
  CARTORIO_TRY_VOID(check_context(ctx));
  auto parsed = parse_token(token);
  if (!parsed) return damaged(ctx, "is not a well-formed personal-data token");
  CARTORIO_TRY(auto active, m_ring->active_data_key());
  if (parsed->key_id == active->id) return std::optional<std::string>();
  CARTORIO_TRY(crypto::SecretBytes plaintext, open_secret(*m_ring, ctx, token));
  CARTORIO_TRY(std::string resealed, seal_under(*active, ctx, plaintext.str()));
  return std::optional<std::string>(std::move(resealed));
}

core::Result<bool> FieldCipher::needs_rotation(std::string_view token) const {
  CARTORIO_TRY(std::string id, key_id_of(token));
  CARTORIO_TRY(auto active, m_ring->active_data_key());
  return id != active->id;
}

core::Result<std::string> FieldCipher::active_key_id() const {
  CARTORIO_TRY(auto active, m_ring->active_data_key());
  return active->id;
}

core::Result<std::string> FieldCipher::key_id_of(std::string_view token) {
  auto parsed = parse_token(token);
  if (!parsed) return Error(Errc::store_error, "not a well-formed personal-data token");
  return std::string(parsed->key_id);
}

}  // namespace cartorio::pii
