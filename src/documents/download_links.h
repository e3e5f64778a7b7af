// Signed, expiring download links for signed documents (flow 1, step 10): the link itself
// is the permission, so whoever holds it may fetch the document's content until it expires,
// without a token. A link is
//
//   /api/v1/documents/{id}/content?expires=<unix seconds>&sig=<base64url HMAC-SHA256>
//
// with the MAC, under the installation's link key (documents.link_key_file), over
//
//   "cartorio.download-link.v1\n" + id + "\n" + expires
//
// The prefix names the purpose and the format's version: a MAC made for something else
// under the same key never passes as a link, and a later format can change the rest.
// Every instance holding the same key honours every other instance's links.
//
// Thread-safety: const after construction; share one between threads.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/secret_bytes.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace cartorio::documents {

class DownloadLinks {
 public:
  static constexpr std::size_t kKeySize = 32;

  // Errc::invalid_argument when the key is not kKeySize bytes. The clock must outlive the
  // object.
  static core::Result<DownloadLinks> create(crypto::SecretBytes key, const core::Clock& clock);

  // The path and query of a link to the document's content, valid for `lifetime` from
  // now. `document_id` is a document id (documents/document_id.h), URL-safe as is.
  std::string make(const std::string& document_id, std::chrono::seconds lifetime) const;

  // Checks the query values a request for the document's content carried. A link is good
  // while now < expires. Errc::link_invalid when the signature is missing, garbled or does
  // not match this id and expiry under this key, or expires is not a canonical unsigned
  // decimal; Errc::link_expired only for a link this installation did sign, once expired.
  // Signatures compare in constant time.
  core::Result<void> check(const std::string& document_id, std::string_view expires, std::string_view sig) const;

 private:
  DownloadLinks(crypto::SecretBytes key, const core::Clock& clock) : m_key(std::move(key)), m_clock(&clock) {}

  crypto::SecretBytes m_key;
  const core::Clock* m_clock;  // not owned; a pointer so the object can move
};

}  // namespace cartorio::documents
