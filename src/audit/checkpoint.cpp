#include "audit/checkpoint.h"

#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

namespace cartorio::audit {

using core::Errc;
using core::Error;

std::string Checkpoint::body() const {
  return origin + "\n" + std::to_string(tree_size) + "\n" + crypto::to_base64(crypto::ByteView(root)) + "\n" +
         std::to_string(timestamp_ms) + "\n";
}

std::string Checkpoint::to_json() const {
  return nlohmann::json{{"origin", origin},
                        {"tree_size", tree_size},
                        {"root_hash", to_hex(root)},
                        {"timestamp", timestamp_ms},
                        {"key_id", key_id},
                        {"signature", crypto::to_base64(signature)},
                        {"body", body()}}
      .dump();
}

core::Result<Checkpoint> parse_checkpoint(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  const auto bad = [](const std::string& why) { return Error(Errc::invalid_argument, "checkpoint: " + why); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Checkpoint c;
  try {
    c.origin = j.at("origin").get<std::string>();
    c.tree_size = j.at("tree_size").get<std::uint64_t>();
    c.timestamp_ms = j.at("timestamp").get<std::int64_t>();
    c.key_id = j.at("key_id").get<std::string>();
    auto root = hash_from_hex(j.at("root_hash").get<std::string>());
    if (!root) return bad("root_hash is not 64 hex digits");
    c.root = *root;
    auto sig = crypto::from_base64(j.at("signature").get<std::string>());
    if (!sig) return bad("signature is not base64");
    c.signature = std::move(*sig);
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("missing or mistyped field: ") + e.what());
  }
  if (c.origin.empty() || c.origin.find('\n') != std::string::npos) return bad("origin is empty or multi-line");
  return c;
}

core::Result<std::string> key_id_of(EVP_PKEY* key) {
  CARTORIO_TRY(auto spki, crypto::public_key_to_der(key));
  return crypto::to_hex(crypto::sha256(spki));
}

core::Result<void> sign_checkpoint(Checkpoint& c, EVP_PKEY* private_key) {
  CARTORIO_TRY(c.key_id, key_id_of(private_key));
  CARTORIO_TRY(c.signature, crypto::sign_message(private_key, crypto::as_bytes(c.body())));
  return core::ok();
}

bool checkpoint_signature_valid(const Checkpoint& c, EVP_PKEY* public_key) {
  auto id = key_id_of(public_key);
  return id && *id == c.key_id && crypto::verify_message(public_key, crypto::as_bytes(c.body()), c.signature);
}

}  // namespace cartorio::audit
