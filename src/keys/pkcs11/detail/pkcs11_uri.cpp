#include "keys/pkcs11/detail/pkcs11_uri.h"

namespace cartorio::keys::detail {

using core::Errc;

namespace {

constexpr std::string_view kScheme = "pkcs11:";
constexpr char kHex[] = "0123456789abcdef";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void encode(std::string& out, crypto::ByteView bytes, bool encode_all) {
  for (std::uint8_t c : bytes) {
    if (!encode_all && unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

core::Result<crypto::Bytes> decode(std::string_view s) {
  crypto::Bytes out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(static_cast<std::uint8_t>(s[i]));
      continue;
    }
    if (i + 2 >= s.size()) return {Errc::malformed_input, "truncated percent escape in PKCS#11 URI"};
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return {Errc::malformed_input, "bad percent escape in PKCS#11 URI"};
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::string format_pkcs11_uri(std::string_view token, crypto::ByteView id, std::string_view object) {
  std::string out(kScheme);
  out += "token=";
  encode(out, crypto::as_bytes(token), false);
  out += ";id=";
  encode(out, id, true);
  out += ";object=";
  encode(out, crypto::as_bytes(object), false);
  return out;
}

core::Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view uri) {
  if (uri.substr(0, kScheme.size()) != kScheme) return {Errc::malformed_input, "not a PKCS#11 URI"};
  std::string_view path = uri.substr(kScheme.size());
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  Pkcs11Uri out;
  while (!path.empty()) {
    auto semi = path.find(';');
    std::string_view attr = path.substr(0, semi);
    path = semi == std::string_view::npos ? std::string_view{} : path.substr(semi + 1);
    if (attr.empty()) continue;
    auto eq = attr.find('=');
    if (eq == std::string_view::npos) return {Errc::malformed_input, "PKCS#11 URI attribute without '='"};
    std::string_view name = attr.substr(0, eq);
    CARTORIO_TRY(crypto::Bytes value, decode(attr.substr(eq + 1)));
    if (name == "token") out.token = crypto::to_string(value);
    else if (name == "object") out.object = crypto::to_string(value);
    else if (name == "id") out.id = std::move(value);
  }
  return out;
}

}  // namespace cartorio::keys::detail
