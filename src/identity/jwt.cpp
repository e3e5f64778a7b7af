#include "identity/jwt.h"

#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

namespace cartorio::identity::jwt {
namespace {

using core::Errc;
using core::Error;

bool is_p256(EVP_PKEY* key) {
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return false;
  const std::string_view name(group, len);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

}  // namespace

core::Result<std::string> sign_es256(EVP_PKEY* key, std::string_view header_json, std::string_view payload_json) {
  if (!is_p256(key)) return Error(Errc::unsupported_key_type, "ES256 needs an EC P-256 key");
  const std::string input = crypto::to_base64url(crypto::as_bytes(header_json)) + "." +
                            crypto::to_base64url(crypto::as_bytes(payload_json));
  CARTORIO_TRY(auto der, crypto::sign_message(key, crypto::as_bytes(input)));  // P-256: SHA-256
  CARTORIO_TRY(auto raw, crypto::ecdsa_der_to_raw(der, kP256CoordinateBytes));
  return input + "." + crypto::to_base64url(raw);
}

core::Result<CompactJws> split_compact(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return Error(Errc::unauthenticated, "token larger than 8 KiB");
  const auto first = token.find('.');
  if (first == std::string_view::npos) return Error(Errc::unauthenticated, "token is not a compact JWS");
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return Error(Errc::unauthenticated, "token is not a compact JWS (three parts)");
  auto header = crypto::from_base64url(token.substr(0, first));
  auto payload = crypto::from_base64url(token.substr(first + 1, second - first - 1));
  auto signature = crypto::from_base64url(token.substr(second + 1));
  if (!header || !payload || !signature || header->empty() || payload->empty())
    return Error(Errc::unauthenticated, "token part is not base64url");
  CompactJws out;
  out.signing_input = std::string(token.substr(0, second));
  out.header_json = crypto::to_string(*header);
  out.payload_json = crypto::to_string(*payload);
  out.signature = std::move(*signature);
  return out;
}

bool verify_es256(EVP_PKEY* public_key, std::string_view signing_input, crypto::ByteView raw_signature) {
  if (raw_signature.size() != 2 * kP256CoordinateBytes || !is_p256(public_key)) return false;
  auto der = crypto::ecdsa_raw_to_der(raw_signature);
  return der && crypto::verify_message(public_key, crypto::as_bytes(signing_input), *der);
}

core::Result<EcPublicJwk> p256_public_jwk(EVP_PKEY* key) {
  if (!is_p256(key)) return Error(Errc::unsupported_key_type, "JWK: the key is not EC P-256");
  BIGNUM* x_raw = nullptr;
  BIGNUM* y_raw = nullptr;
  const int okx = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x_raw);
  crypto::Bignum x(x_raw);
  const int oky = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y_raw);
  crypto::Bignum y(y_raw);
  if (okx != 1 || oky != 1) return Error(Errc::crypto_error, "JWK: cannot read the public point");
  crypto::Bytes xb(kP256CoordinateBytes), yb(kP256CoordinateBytes);
  if (BN_bn2binpad(x.get(), xb.data(), static_cast<int>(xb.size())) < 0 ||
      BN_bn2binpad(y.get(), yb.data(), static_cast<int>(yb.size())) < 0)
    return Error(Errc::crypto_error, "JWK: coordinate too long");
  return EcPublicJwk{crypto::to_base64url(xb), crypto::to_base64url(yb)};
}

std::string jwk_thumbprint(const EcPublicJwk& jwk) {
  // RFC 7638 3.2: required members only, lexicographic order, no whitespace.
  const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + jwk.x + R"(","y":")" + jwk.y + R"("})";
  const auto digest = crypto::sha256(crypto::as_bytes(canonical));
  return crypto::to_base64url(digest);
}

}  // namespace cartorio::identity::jwt
