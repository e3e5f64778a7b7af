#include "keys/sealed_key.h"

#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

namespace cartorio::keys {

using core::Errc;

namespace {

constexpr std::string_view kBegin = "-----BEGIN CARTORIO SEALED KEY-----";
constexpr std::string_view kEnd = "-----END CARTORIO SEALED KEY-----";

std::string aad_for(std::string_view label, std::string_view algorithm) {
  return "cartorio:sealed-key:v1:" + std::string(label) + ":" + std::string(algorithm);
}

}  // namespace

core::Result<std::string> seal_private_key(const EVP_PKEY* key, std::string_view passphrase,
                                           std::string_view label) {
  if (passphrase.size() < 12) return {Errc::invalid_argument, "passphrase must be at least 12 characters"};
  auto alg = crypto::key_algorithm_of(key);
  if (!alg) return {Errc::unsupported_key_type, "cannot seal a key of this type"};
  const std::string algorithm(crypto::key_algorithm_name(*alg));
  crypto::ScryptParams params;  // N = 2^15: ~0.1 s, 32 MiB per attempt slows guessing
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
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1 || !j.contains("kdf") ||
      !j["kdf"].is_object() || j["kdf"].value("name", "") != "scrypt")
    return {Errc::malformed_input, "sealed key: unsupported or damaged header"};
  try {
    const std::string label = j.at("label").get<std::string>();
    const std::string algorithm = j.at("algorithm").get<std::string>();
    crypto::ScryptParams params;
    params.n = j["kdf"].at("n").get<std::uint64_t>();
    params.r = j["kdf"].at("r").get<std::uint32_t>();
    params.p = j["kdf"].at("p").get<std::uint32_t>();
    if (params.n < 1024 || params.n > (1u << 22) || params.r > 32 || params.p > 16)
      return {Errc::malformed_input, "sealed key: KDF parameters out of range"};
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
