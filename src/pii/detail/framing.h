// Length-prefixed framing for MAC and AEAD inputs: each field as a 4-byte big-endian length,
// then its bytes (the layout keys/software and the encrypted object store use). Table names,
// row ids and values are caller-influenced, so plain concatenation could let two different
// tuples produce the same bytes.
#pragma once

#include "crypto/bytes.h"

#include <initializer_list>
#include <string_view>

namespace cartorio::pii::detail {

crypto::Bytes length_prefixed(std::initializer_list<std::string_view> fields);

}  // namespace cartorio::pii::detail
