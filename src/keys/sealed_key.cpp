#include "keys/sealed_key.h"

#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

namespace cartorio::keys {

using core::Errc;

namespace {

constexpr std::string_view kBegin = "-----BEGIN CARTORIO SEALED KEY-----";
constexpr std::string_view kEnd = "-----END CARTORIO SEALED KEY-----";

// Length-prefixed, so no (label, algorithm) pair can be re-split into another that matches.
std::string aad_for(std::string_view label, std::string_view algorithm) {
  return "cartorio:sealed-key:v1:" + std::to_string(label.size()) + ":" + std::string(label) + ":" +
         std::string(algorithm);
}

// A sealed file is attacker-reachable input: bound the work and memory one attempt may cost
// (128 * r * N bytes; the defaults use 64 MiB).
bool sane_kdf(const crypto::ScryptParams& p) {
  const bool pow2 = p.n >= (1u << 14) && p.n <= (1u << 20) && (p.n & (p.n - 1)) == 0;
  return pow2 && p.r >= 1 && p.r <= 16 && p.p >= 1 && p.p <= 4 && 128ull * p.r * p.n <= (256ull << 20);
}

}  // namespace

core::Result<std::string> seal_private_key(const EVP_PKEY* key, std::string_view passphrase,
                                           std::string_view label) {
  if (passphrase.size() < 12) return {Errc::invalid_argument, "passphrase must be at least 12 characters"};
  auto alg = crypto::key_algorithm_of(key);
  if (!alg) return {Errc::unsupported_key_type, "cannot seal a key of this type"};
  const std::string algorithm(crypto::key_algorithm_name(*alg));
  crypto::ScryptParams params;  // N = 2^16, r = 8: 64 MiB and ~0.2 s per guess
  params.n = 1u << 16;
  const crypto::Bytes salt = crypto::random_bytes(16);
  CARTORIO_TRY(auto kek, crypto::scrypt_derive(passphrase, salt, params));
  CARTORIO_TRY(auto der, crypto::private_key_to_der(key));
  const std::string aad = aad_for(label, algorithm);
  CARTORIO_TRY(auto sealed, crypto::aead_seal(kek, der.view(), crypto::as_bytes(aad)));

  nlohmann::ordered_json j;
  j["v"] = 1;
  j["label"] = std::string(label);
  j["algorithm"] = algorithm;
  j["kdf"] = {{"name", "scrypt"}, {"n", params.n}, {"r", params.r}, {"p", params.p},
              {"salt", crypto::to_base64(salt)}};
  j["sealed"] = crypto::to_base64(sealed);
  std::string b64 = crypto::to_base64(crypto::as_bytes(j.dump()));
  std::string out(kBegin);
  out += "\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += kEnd;
  out += "\n";
  return out;
}

core::Result<crypto::PKey> unseal_private_key(std::string_view armored, std::string_view passphrase,
                                              SealedKeyInfo* info) {
  auto b = armored.find(kBegin), e = armored.find(kEnd);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b)
    return {Errc::malformed_input, "not a Cartorio sealed key (missing BEGIN/END lines)"};
  auto body = armored.substr(b + kBegin.size(), e - b - kBegin.size());
  auto raw = crypto::from_base64(body);
  if (!raw) return {Errc::malformed_input, "sealed key: body is not base64"};
  nlohmann::json j = nlohmann::json::parse(raw->begin(), raw->end(), nullptr, false);
  try {
    if (j.is_discarded() || !j.is_object() || j.at("v").get<int>() != 1 || !j.at("kdf").is_object() ||
        j["kdf"].at("name").get<std::string>() != "scrypt")
      return {Errc::malformed_input, "sealed key: unsupported or damaged header"};
    const std::string label = j.at("label").get<std::string>();
    const std::string algorithm = j.at("algorithm").get<std::string>();
    if (!crypto::parse_key_algorithm(algorithm)) return {Errc::malformed_input, "sealed key: unknown algorithm"};
    crypto::ScryptParams params;
    params.n = j["kdf"].at("n").get<std::uint64_t>();
    params.r = j["kdf"].at("r").get<std::uint32_t>();
    params.p = j["kdf"].at("p").get<std::uint32_t>();
    if (!sane_kdf(params)) return {Errc::malformed_input, "sealed key: KDF parameters out of range"};
    auto salt = crypto::from_base64(j["kdf"].at("salt").get<std::string>());
    auto sealed = crypto::from_base64(j.at("sealed").get<std::string>());
    if (!salt || !sealed) return {Errc::malformed_input, "sealed key: bad base64 field"};
    CARTORIO_TRY(auto kek, crypto::scrypt_derive(passphrase, *salt, params));
    const std::string aad = aad_for(label, algorithm);
    auto der = crypto::aead_open(kek, *sealed, crypto::as_bytes(aad));
    if (!der) return {Errc::wrong_passphrase, "sealed key: wrong passphrase or damaged file"};
    CARTORIO_TRY(auto key, crypto::private_key_from_der(der->view()));
    if (info) *info = {label, algorithm};
    return key;
  } catch (const nlohmann::json::exception&) {
    return {Errc::malformed_input, "sealed key: missing or mistyped header field"};
  }
}

}  // namespace cartorio::keys
