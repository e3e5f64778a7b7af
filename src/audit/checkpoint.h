// Signed tree heads, as checkpoints (the C2SP tlog-checkpoint body): the text
//
//   <origin>\n<tree size>\n<base64 root hash>\n<timestamp in ms since the epoch>\n
//
// signed with the audit key (ECDSA P-256, SHA-256, DER signature). The origin names the
// installation and the log ("notary.example/audit", ".../transparency"), so a head of one
// log is never taken for the other's. Published as JSON:
//   {"origin", "tree_size", "root_hash" (hex), "timestamp" (ms), "key_id" (hex SHA-256 of the
//    key's SubjectPublicKeyInfo DER), "signature" (base64), "body" (the signed text)}
#pragma once

#include "audit/merkle.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <cstdint>
#include <string>

namespace cartorio::audit {

struct Checkpoint {
  std::string origin;
  std::uint64_t tree_size = 0;
  Hash root{};
  std::int64_t timestamp_ms = 0;
  std::string key_id;
  crypto::Bytes signature;

  std::string body() const;
  std::string to_json() const;
};

// Errc::invalid_argument for text that is not a checkpoint as to_json writes it.
core::Result<Checkpoint> parse_checkpoint(std::string_view json);

// Hex SHA-256 of the public key's SubjectPublicKeyInfo DER.
core::Result<std::string> key_id_of(EVP_PKEY* key);

core::Result<void> sign_checkpoint(Checkpoint& c, EVP_PKEY* private_key);
// Whether the signature over body() is `public_key`'s and key_id names that key.
bool checkpoint_signature_valid(const Checkpoint& c, EVP_PKEY* public_key);

}  // namespace cartorio::audit
