// Length-prefixed framing for MAC and AEAD inputs: each field as a 4-byte big-endian length,
// then its bytes. Labels, ids, object keys and row ids are caller-influenced, so plain
// concatenation could let two different tuples produce the same bytes. Sealed keys, object
// envelopes and personal-data tokens all bind their context this way: the layout is part of
// what is stored and must not change.
#pragma once

#include "crypto/bytes.h"

#include <initializer_list>
#include <string_view>

namespace cartorio::crypto {

Bytes length_prefixed(std::initializer_list<ByteView> fields);
Bytes length_prefixed(std::initializer_list<std::string_view> fields);

}  // namespace cartorio::crypto
