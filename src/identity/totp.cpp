#include "identity/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <qrencode.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace cartorio::identity::totp {
namespace {

struct QrCodeDeleter {
  void operator()(QRcode* q) const noexcept { QRcode_free(q); }
};
using QrCodePtr = std::unique_ptr<QRcode, QrCodeDeleter>;

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace

std::string hotp(crypto::ByteView secret, std::uint64_t counter, int digits) {
  if (digits < 6) digits = 6;
  if (digits > 9) digits = 9;
  std::array<std::uint8_t, 8> msg{};
  for (int i = 7; i >= 0; --i) {
    msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  static const std::uint8_t kEmpty = 0;
  if (!HMAC(EVP_sha1(), secret.empty() ? &kEmpty : secret.data(), static_cast<int>(secret.size()), msg.data(),
            msg.size(), mac.data(), &mac_len) ||
      mac_len != 20) {
    // Only when libcrypto itself is broken; a wrong code would be worse than stopping.
    std::fprintf(stderr, "fatal: HMAC-SHA1 failed\n");
    std::abort();
  }
  const std::size_t offset = mac[19] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string out = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - out.size(), '0') + out;
}

std::int64_t time_step(core::TimePoint t, std::chrono::seconds period) {
  const auto unix = core::to_unix(t);
  const auto p = static_cast<long long>(period.count());
  return unix >= 0 ? unix / p : (unix - p + 1) / p;
}

std::optional<std::int64_t> match(crypto::ByteView secret, std::string_view code, std::int64_t now_step, int window,
                                  int digits) {
  // hotp() only makes 6..9 digits (it clamps anything else): a code of another length
  // cannot be checked, and comparing it with a clamped candidate would accept a prefix
  // (digits < 6) or read past the candidate (digits > 10).
  if (digits < 6 || digits > 9) return std::nullopt;
  if (code.size() != static_cast<std::size_t>(digits) || !all_digits(code)) return std::nullopt;
  std::optional<std::int64_t> found;
  for (std::int64_t step = now_step - window; step <= now_step + window; ++step) {
    if (step < 0) continue;
    const std::string candidate = hotp(secret, static_cast<std::uint64_t>(step), digits);
    if (CRYPTO_memcmp(candidate.data(), code.data(), code.size()) == 0 && !found) found = step;
  }
  return found;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret_base32, int digits,
                        std::chrono::seconds period) {
  const std::string enc_issuer = percent_encode(issuer);
  return "otpauth://totp/" + enc_issuer + ":" + percent_encode(account) + "?secret=" + std::string(secret_base32) +
         "&issuer=" + enc_issuer + "&algorithm=SHA1&digits=" + std::to_string(digits) +
         "&period=" + std::to_string(period.count());
}

core::Result<std::string> qr_svg(std::string_view text) {
  if (text.empty() || text.find('\0') != std::string_view::npos)
    return core::Error(core::Errc::invalid_argument, "QR text is empty or holds a NUL");
  const std::string input(text);
  QrCodePtr qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return core::Error(core::Errc::invalid_argument, "the text does not fit in a QR code");
  constexpr int kQuiet = 4;
  const int width = qr->width;
  const int size = width + 2 * kQuiet;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width;) {
      if (!(qr->data[y * width + x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (qr->data[y * width + x + run] & 1)) ++run;
      path += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h" + std::to_string(run) +
              "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  const std::string n = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + n + " " + n +
         "\" width=\"" + std::to_string(size * 6) + "\" height=\"" + std::to_string(size * 6) +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + n + "\" height=\"" + n +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace cartorio::identity::totp
