#include "acme/jws.h"

#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <bit>

namespace cartorio::acme {
namespace {

using core::Errc;
using core::Error;
using nlohmann::json;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
// OpenSSL refuses larger public exponents for moduli above 3072 bits anyway, and a huge
// exponent makes every verification as slow as a private-key operation.
constexpr std::size_t kMaxRsaExponentBytes = 8;

}  // namespace

std::string excerpt(std::string_view s) {
  constexpr std::size_t kMax = 24;
  std::string out;
  for (char c : s.substr(0, kMax)) out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  if (s.size() > kMax) out += "...";
  return out;
}

namespace {

Error malformed(std::string msg) { return {Errc::malformed_input, std::move(msg)}; }

// The string value of member `name`, or nullptr when it is absent or not a string.
const std::string* string_member(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

// A required string member holding strict base64url.
core::Result<crypto::Bytes> base64url_member(const json& obj, const char* name, std::string_view where) {
  const std::string* text = string_member(obj, name);
  if (!text) return malformed(std::string(where) + ": \"" + name + "\" is missing or not a string");
  auto bytes = crypto::from_base64url(*text);
  if (!bytes)
    return malformed(std::string(where) + ": \"" + name + "\" is not base64url (no padding, URL-safe alphabet)");
  return std::move(*bytes);
}

Jwk finish_jwk(crypto::PKey key, std::string canonical) {
  Jwk jwk;
  jwk.key = std::move(key);
  jwk.thumbprint = crypto::to_base64url(crypto::sha256(crypto::as_bytes(canonical)));
  jwk.canonical_json = std::move(canonical);
  return jwk;
}

core::Result<crypto::PKey> key_from_params(const char* type, crypto::ParamBld& bld) {
  crypto::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  crypto::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return Error(Errc::malformed_input,
                 std::string("JWK: not a valid ") + type + " public key: " + crypto::openssl_errors());
  return crypto::PKey(raw);
}

core::Result<Jwk> parse_rsa_jwk(const json& j) {
  CARTORIO_TRY(auto n, base64url_member(j, "n", "RSA JWK"));
  CARTORIO_TRY(auto e, base64url_member(j, "e", "RSA JWK"));
  // RFC 7518 6.3.1: the minimum number of octets; a leading zero would give the same key a
  // second JWK and thumbprint.
  if (n.empty() || n.front() == 0 || e.empty() || e.front() == 0)
    return malformed("RSA JWK: n and e must be minimal big-endian integers (no leading zero octet)");
  const int bits = static_cast<int>(n.size() * 8) - std::countl_zero(n.front());
  if (bits < kMinRsaBits)
    return Error(Errc::weak_key, "RSA JWK: a " + std::to_string(bits) + "-bit modulus is too small (at least 2048)");
  if (bits > kMaxRsaBits)
    return Error(Errc::unsupported_key_type,
                 "RSA JWK: a " + std::to_string(bits) + "-bit modulus is too large (at most 8192)");
  if ((n.back() & 1) == 0) return Error(Errc::weak_key, "RSA JWK: the modulus is even");
  if (e.size() > kMaxRsaExponentBytes)
    return Error(Errc::unsupported_key_type, "RSA JWK: the exponent is longer than 64 bits");
  if ((e.back() & 1) == 0 || (e.size() == 1 && e.front() == 1))
    return Error(Errc::weak_key, "RSA JWK: the exponent must be odd and greater than 1");

  crypto::Bignum bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  crypto::Bignum bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  crypto::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return Error(Errc::crypto_error, "RSA JWK: cannot build the key: " + crypto::openssl_errors());
  CARTORIO_TRY(auto key, key_from_params("RSA", bld));
  // Members in lexicographic order (RFC 7638 3.2); base64url needs no JSON escaping.
  std::string canonical = R"({"e":")" + crypto::to_base64url(e) + R"(","kty":"RSA","n":")" +
                          crypto::to_base64url(n) + R"("})";
  return finish_jwk(std::move(key), std::move(canonical));
}

struct Curve {
  std::string_view crv;       // JWK name
  const char* group;          // OpenSSL group name
  std::size_t size;           // field size in bytes
};
constexpr std::array<Curve, 2> kCurves{{{"P-256", "P-256", 32}, {"P-384", "P-384", 48}}};

core::Result<Jwk> parse_ec_jwk(const json& j) {
  const std::string* crv = string_member(j, "crv");
  if (!crv) return malformed("EC JWK: \"crv\" is missing or not a string");
  const Curve* curve = nullptr;
  for (const auto& c : kCurves)
    if (c.crv == *crv) curve = &c;
  if (!curve)
    return Error(Errc::unsupported_key_type, "EC JWK: curve \"" + excerpt(*crv) + "\" is not supported (P-256, P-384)");
  CARTORIO_TRY(auto x, base64url_member(j, "x", "EC JWK"));
  CARTORIO_TRY(auto y, base64url_member(j, "y", "EC JWK"));
  // RFC 7518 6.2.1.2/3: exactly the field size, so the encoding (and the thumbprint) is unique.
  if (x.size() != curve->size || y.size() != curve->size)
    return malformed("EC JWK: x and y must be exactly " + std::to_string(curve->size) + " bytes for " +
                     std::string(curve->crv));

  crypto::Bytes point;
  point.reserve(1 + 2 * curve->size);
  point.push_back(0x04);  // uncompressed SEC 1 point
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  crypto::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return Error(Errc::crypto_error, "EC JWK: cannot build the key: " + crypto::openssl_errors());
  auto key = key_from_params("EC", bld);
  if (!key) return malformed("EC JWK: the point is not on the curve " + std::string(curve->crv));
  // Decoding already refuses points off the curve; the full check (not infinity, right order)
  // costs one scalar multiplication and does not depend on how OpenSSL decodes.
  crypto::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    (void)crypto::openssl_errors();
    return malformed("EC JWK: the point is not a valid public key on " + std::string(curve->crv));
  }
  std::string canonical = R"({"crv":")" + std::string(curve->crv) + R"(","kty":"EC","x":")" +
                          crypto::to_base64url(x) + R"(","y":")" + crypto::to_base64url(y) + R"("})";
  return finish_jwk(std::move(*key), std::move(canonical));
}

// A big number as its minimal big-endian bytes, or left-padded to `pad` bytes.
core::Result<crypto::Bytes> bn_param(const EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* raw = nullptr;
  const int ok = EVP_PKEY_get_bn_param(key, name, &raw);
  crypto::Bignum bn(raw);
  if (ok != 1) return Error(Errc::crypto_error, std::string("cannot read ") + name + ": " + crypto::openssl_errors());
  crypto::Bytes out(static_cast<std::size_t>(pad > 0 ? pad : BN_num_bytes(bn.get())));
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0)
    return Error(Errc::unsupported_key_type, std::string(name) + " is larger than the curve size");
  return out;
}

}  // namespace

core::Result<Jwk> parse_jwk(const json& j) {
  if (!j.is_object()) return malformed("JWK is not a JSON object");
  const std::string* kty = string_member(j, "kty");
  if (!kty) return malformed("JWK: \"kty\" is missing or not a string");
  if (*kty != "RSA" && *kty != "EC")
    return Error(Errc::unsupported_key_type, "JWK: key type \"" + excerpt(*kty) + "\" is not supported (RSA, EC)");
  // An account key is public; a client that sends its private key has a bug we must not hide.
  for (const char* name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
    if (j.contains(name)) return malformed(std::string("JWK carries the private member \"") + name + "\"");
  return *kty == "RSA" ? parse_rsa_jwk(j) : parse_ec_jwk(j);
}

core::Result<Jwk> parse_jwk_text(std::string_view json_text) {
  if (json_text.size() > kMaxJwsBytes) return malformed("JWK larger than 64 KiB");
  const json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return malformed("JWK is not valid JSON");
  return parse_jwk(j);
}

core::Result<Jwk> jwk_from_public_key(EVP_PKEY* key) {
  if (!key) return Error(Errc::invalid_argument, "no key");
  json j;
  if (EVP_PKEY_is_a(key, "RSA")) {
    CARTORIO_TRY(auto n, bn_param(key, OSSL_PKEY_PARAM_RSA_N));
    CARTORIO_TRY(auto e, bn_param(key, OSSL_PKEY_PARAM_RSA_E));
    j = {{"kty", "RSA"}, {"n", crypto::to_base64url(n)}, {"e", crypto::to_base64url(e)}};
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const auto desc = crypto::describe_key(key);  // normalises the group name to "P-256" / "P-384"
    const Curve* curve = nullptr;
    for (const auto& c : kCurves)
      if (c.crv == desc.curve) curve = &c;
    if (!curve)
      return Error(Errc::unsupported_key_type, "EC key on curve \"" + excerpt(desc.curve) + "\" (P-256, P-384)");
    const int size = static_cast<int>(curve->size);
    CARTORIO_TRY(auto x, bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size));
    CARTORIO_TRY(auto y, bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size));
    j = {{"kty", "EC"}, {"crv", curve->crv}, {"x", crypto::to_base64url(x)}, {"y", crypto::to_base64url(y)}};
  } else {
    return Error(Errc::unsupported_key_type, "key is neither RSA nor EC");
  }
  return parse_jwk(j);
}

bool json_depth_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

namespace {
// A flattened JWS is one flat object; a protected header holds at most a JWK object.
constexpr int kMaxJsonDepth = 4;
}  // namespace

core::Result<JwsMessage> parse_jws(std::string_view body, const JwsParseOptions& options) {
  if (body.size() > kMaxJwsBytes) return malformed("JWS larger than 64 KiB");
  if (!json_depth_within(body, kMaxJsonDepth)) return malformed("request body nests too deeply");
  const json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return malformed("request body is not valid JSON");
  if (!doc.is_object()) return malformed("request body is not a JSON object (flattened JWS)");
  if (doc.contains("signatures"))
    return malformed("general JWS serialization is not supported: use the flattened form");
  if (doc.contains("header")) return malformed("JWS has an unprotected header (RFC 8555 6.2 forbids it)");
  for (const auto& item : doc.items())
    if (item.key() != "protected" && item.key() != "payload" && item.key() != "signature")
      return malformed("JWS has an unexpected member \"" + excerpt(item.key()) + "\"");

  JwsMessage msg;
  const std::string* protected_b64 = string_member(doc, "protected");
  const std::string* payload_b64 = string_member(doc, "payload");
  if (!protected_b64 || protected_b64->empty())
    return malformed("JWS: \"protected\" is missing, empty or not a string");
  if (!payload_b64) return malformed("JWS: \"payload\" is missing or not a string");
  CARTORIO_TRY(auto header_bytes, base64url_member(doc, "protected", "JWS"));
  CARTORIO_TRY(auto payload, base64url_member(doc, "payload", "JWS"));
  CARTORIO_TRY(msg.signature, base64url_member(doc, "signature", "JWS"));
  if (msg.signature.empty()) return malformed("JWS: the signature is empty");
  msg.protected_b64 = *protected_b64;
  msg.payload_b64 = *payload_b64;
  msg.payload = crypto::to_string(payload);

  if (!json_depth_within(crypto::to_string(header_bytes), kMaxJsonDepth))
    return malformed("JWS protected header nests too deeply");
  const json header = json::parse(header_bytes.begin(), header_bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return malformed("JWS protected header is not a JSON object");

  const std::string* alg = string_member(header, "alg");
  if (!alg) return malformed("JWS protected header: \"alg\" is missing or not a string");
  const bool hmac = *alg == "HS256";
  if (*alg == "none") return Error(Errc::not_supported, "JWS alg \"none\" is not allowed");
  if (hmac && !options.allow_hmac)
    return Error(Errc::not_supported, "JWS alg HS256 is only allowed for external account binding");
  if (!hmac && *alg != "RS256" && *alg != "ES256" && *alg != "ES384")
    return Error(Errc::not_supported, "JWS alg \"" + excerpt(*alg) + "\" is not supported (RS256, ES256, ES384)");
  msg.alg = *alg;

  // RFC 7515 4.1.11: an extension we do not understand must be refused; we understand none.
  if (header.contains("crit")) return malformed("JWS protected header: \"crit\" is not supported");
  // RFC 7797: b64=false changes the signing input; only the default (true) is accepted.
  if (auto it = header.find("b64"); it != header.end() && *it != json(true))
    return malformed("JWS protected header: \"b64\": false (unencoded payload) is not supported");

  const std::string* url = string_member(header, "url");
  if (!url || url->empty()) return malformed("JWS protected header: \"url\" is missing, empty or not a string");
  msg.url = *url;

  if (options.require_nonce) {
    const std::string* nonce = string_member(header, "nonce");
    if (!nonce || nonce->empty()) return malformed("JWS protected header: \"nonce\" is missing, empty or not a string");
    if (!crypto::from_base64url(*nonce)) return malformed("JWS protected header: \"nonce\" is not base64url");
    msg.nonce = *nonce;
  } else if (options.forbid_nonce && header.contains("nonce")) {
    return malformed("JWS protected header: an inner JWS must not carry a \"nonce\"");
  }

  const bool has_kid = header.contains("kid");
  const bool has_jwk = header.contains("jwk");
  if (has_kid == has_jwk) return malformed("JWS protected header: exactly one of \"kid\" and \"jwk\" is required");
  if (has_kid) {
    const std::string* kid = string_member(header, "kid");
    if (!kid || kid->empty()) return malformed("JWS protected header: \"kid\" is empty or not a string");
    msg.kid = *kid;
  } else {
    if (hmac) return malformed("JWS protected header: an HS256 JWS names its key with \"kid\", not \"jwk\"");
    CARTORIO_TRY(msg.jwk, parse_jwk(header.at("jwk")));
  }
  return msg;
}

core::Result<void> verify_jws(const JwsMessage& msg, const Jwk& key) {
  const auto desc = crypto::describe_key(key.key.get());
  const EVP_MD* md = nullptr;
  std::size_t ec_size = 0;  // R and S size; 0 for RSA
  bool matches = false;
  if (msg.alg == "RS256") {
    md = EVP_sha256();
    matches = desc.type == crypto::KeyDescription::Type::rsa;
  } else if (msg.alg == "ES256") {
    md = EVP_sha256();
    ec_size = 32;
    matches = desc.type == crypto::KeyDescription::Type::ec && desc.curve == "P-256";
  } else if (msg.alg == "ES384") {
    md = EVP_sha384();
    ec_size = 48;
    matches = desc.type == crypto::KeyDescription::Type::ec && desc.curve == "P-384";
  } else {
    return Error(Errc::not_supported, "JWS alg \"" + excerpt(msg.alg) + "\" is not a public-key algorithm we verify");
  }
  if (!matches) return Error(Errc::not_supported, "JWS alg " + msg.alg + " does not match the key type");

  // Fixed sizes: RFC 7518 3.3 (the modulus length) and 3.4 (R || S); shorter or DER-encoded
  // forms would be other encodings of the same signature.
  crypto::Bytes der;
  crypto::ByteView signature = msg.signature;
  if (ec_size != 0) {
    if (msg.signature.size() != 2 * ec_size) return Error(Errc::unauthenticated, "JWS signature has the wrong length");
    CARTORIO_TRY(der, crypto::ecdsa_raw_to_der(msg.signature));
    signature = der;
  } else if (msg.signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.key.get()))) {
    return Error(Errc::unauthenticated, "JWS signature has the wrong length");
  }

  const std::string input = msg.protected_b64 + "." + msg.payload_b64;
  crypto::MdCtx ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.key.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                   reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  (void)crypto::openssl_errors();  // a refused signature leaves errors on the queue
  if (!ok) return Error(Errc::unauthenticated, "JWS signature does not verify");
  return core::ok();
}

core::Result<void> verify_jws_hmac(const JwsMessage& msg, crypto::ByteView hmac_key) {
  if (msg.alg != "HS256") return Error(Errc::not_supported, "JWS alg \"" + excerpt(msg.alg) + "\" is not HS256");
  if (hmac_key.empty()) return Error(Errc::invalid_argument, "empty MAC key");
  const std::string input = msg.protected_b64 + "." + msg.payload_b64;
  const auto mac = crypto::hmac_sha256(hmac_key, crypto::as_bytes(input));
  if (!crypto::constant_time_equal(mac, msg.signature)) return Error(Errc::unauthenticated, "JWS MAC does not verify");
  return core::ok();
}

std::string key_authorization(std::string_view token, const Jwk& account_key) {
  std::string out(token);
  out += '.';
  out += account_key.thumbprint;
  return out;
}

}  // namespace cartorio::acme
