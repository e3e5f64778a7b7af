// multipart/form-data request bodies (RFC 7578): what browsers send for a file upload.
// Parts are views into the body (no copies of a large PDF).
#pragma once

#include "core/error.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::http {

struct FormPart {
  std::string name;                     // Content-Disposition: form-data; name="..."
  std::optional<std::string> filename;  // ...; filename="..." (file parts)
  std::string content_type;             // the part's Content-Type, "text/plain" when absent
  std::string_view data;                // into the body given to parse_multipart
};

// The boundary parameter of a multipart/form-data Content-Type; nullopt for another type
// or a missing/invalid boundary (RFC 2046 5.1.1: 1..70 characters).
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Splits `body`. Errc::malformed_input for a body that does not follow the boundary
// structure, a part without a form-data name, more than `max_parts` parts, or part headers
// over 8 KiB. `body` must outlive the parts.
core::Result<std::vector<FormPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                    std::size_t max_parts = 32);

}  // namespace cartorio::http
