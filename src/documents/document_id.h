// Identifiers of signed documents: "doc_" + 26 lowercase base32 characters (130 random
// bits). Made here, by the domain, not by the database, so an id is known before anything
// is stored (the object key and the download link use it) and reveals no count or order.
// Safe as is in URL paths and object keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cartorio::documents {

inline constexpr std::string_view kDocumentIdPrefix = "doc_";
inline constexpr std::size_t kDocumentIdRandomChars = 26;

std::string new_document_id();
// True for exactly the form new_document_id() makes.
bool is_document_id(std::string_view s);

}  // namespace cartorio::documents
