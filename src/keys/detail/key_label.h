// The rule both backends apply to CreateKeyRequest::label, so a label valid on one backend is
// valid on the other (labels travel in URIs, file contents, CKA_LABEL and audit events).
#pragma once

#include "core/error.h"

#include <string_view>

namespace cartorio::keys::detail {

inline constexpr std::size_t kMaxKeyLabelLength = 128;

// Errc::invalid_argument unless 1..128 bytes of printable ASCII or UTF-8 (no control chars).
core::Result<void> validate_key_label(std::string_view label);

}  // namespace cartorio::keys::detail
