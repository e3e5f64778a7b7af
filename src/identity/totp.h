// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP with HMAC-SHA1, what every
// authenticator app implements), enrolment URIs (the Key Uri Format of Google
// Authenticator) and their QR codes (libqrencode, rendered as SVG text).
//
// Codes are compared in constant time. Replay (the same step twice) is the caller's to
// refuse: MfaRepository::use_totp_step records the last accepted step.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cartorio::identity::totp {

inline constexpr std::size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
inline constexpr int kDigits = 6;
inline constexpr std::chrono::seconds kPeriod{30};

// RFC 4226 5.3: HMAC-SHA1 of the big-endian counter, dynamic truncation, `digits` decimal
// digits (6..9), zero-padded.
std::string hotp(crypto::ByteView secret, std::uint64_t counter, int digits = kDigits);

// RFC 6238 4.2: floor(unix time / period); T0 = 0.
std::int64_t time_step(core::TimePoint t, std::chrono::seconds period = kPeriod);

// The step among now_step - window .. now_step + window whose code equals `code`, checking
// every candidate (no early exit) with a constant-time comparison; nullopt when none does
// or `code` is not `digits` decimal digits.
std::optional<std::int64_t> match(crypto::ByteView secret, std::string_view code, std::int64_t now_step,
                                  int window = 1, int digits = kDigits);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
// with issuer and account percent-encoded (RFC 3986 unreserved characters kept).
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret_base32,
                        int digits = kDigits, std::chrono::seconds period = kPeriod);

// The QR code (error correction level M, 4-module quiet zone) of `text` as a standalone SVG
// document. Errc::invalid_argument when the text is empty, holds a NUL or does not fit.
core::Result<std::string> qr_svg(std::string_view text);

}  // namespace cartorio::identity::totp
