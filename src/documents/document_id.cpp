#include "documents/document_id.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <algorithm>

namespace cartorio::documents {

std::string new_document_id() {
  // 17 bytes give 28 base32 characters; the first 26 are each uniformly random.
  std::string chars = crypto::to_base32(crypto::random_bytes(17)).substr(0, kDocumentIdRandomChars);
  for (char& c : chars)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return std::string(kDocumentIdPrefix) + chars;
}

bool is_document_id(std::string_view s) {
  if (s.size() != kDocumentIdPrefix.size() + kDocumentIdRandomChars || !s.starts_with(kDocumentIdPrefix)) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(kDocumentIdPrefix.size()), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); });
}

}  // namespace cartorio::documents
