#include "documents/download_links.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <charconv>
#include <cstdint>

namespace cartorio::documents {

using core::Errc;
using core::Error;

namespace {

constexpr std::string_view kPurpose = "cartorio.download-link.v1";

// The id cannot break the framing: expires, the last field, holds digits only.
crypto::Bytes link_mac(const crypto::SecretBytes& key, std::string_view document_id, std::string_view expires) {
  std::string canonical;
  canonical.reserve(kPurpose.size() + document_id.size() + expires.size() + 2);
  canonical.append(kPurpose).append("\n").append(document_id).append("\n").append(expires);
  return crypto::hmac_sha256(key.view(), crypto::as_bytes(canonical));
}

// Only the canonical decimal form ("0123" and "+123" are refused), so one expiry has one
// signed spelling.
bool parse_expires(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text.front() == '0')) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Error invalid(std::string why) { return Error(Errc::link_invalid, "download link: " + std::move(why)); }

}  // namespace

core::Result<DownloadLinks> DownloadLinks::create(crypto::SecretBytes key, const core::Clock& clock) {
  if (key.size() != kKeySize)
    return Error(Errc::invalid_argument,
                 "download link key must be " + std::to_string(kKeySize) + " bytes, not " + std::to_string(key.size()));
  return DownloadLinks(std::move(key), clock);
}

std::string DownloadLinks::make(const std::string& document_id, std::chrono::seconds lifetime) const {
  const std::string expires = std::to_string(core::to_unix(m_clock->now()) + lifetime.count());
  return "/api/v1/documents/" + document_id + "/content?expires=" + expires +
         "&sig=" + crypto::to_base64url(link_mac(m_key, document_id, expires));
}

core::Result<void> DownloadLinks::check(const std::string& document_id, std::string_view expires,
                                        std::string_view sig) const {
  std::int64_t expires_at = 0;
  if (!parse_expires(expires, expires_at)) return invalid("expires is not a Unix time");
  auto presented = crypto::from_base64url(sig);
  if (!presented || presented->size() != 32) return invalid("the signature is missing or malformed");
  if (!crypto::constant_time_equal(*presented, link_mac(m_key, document_id, expires)))
    return invalid("the signature does not match");
  // Expiry is told apart only for links this installation signed: nothing is said about
  // forged ones.
  if (core::to_unix(m_clock->now()) >= expires_at)
    return Error(Errc::link_expired, "download link: expired at " + std::string(expires));
  return core::ok();
}

}  // namespace cartorio::documents
