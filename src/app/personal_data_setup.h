// Personal data of an installation (docs/personal-data.md): the field cipher over the
// runtime's data-key ring, and the blind index keyed from pii.index_key_file. `init` creates
// the key file; every other process reads it.
#pragma once

#include "app/runtime.h"
#include "core/config.h"
#include "crypto/secret_bytes.h"
#include "pii/blind_index.h"
#include "pii/field_cipher.h"

namespace cartorio::app {

// Reads pii.index_key_file (32 bytes, hex; mode 0600; app/secret_key_file.h). With `create`
// (only `init`), a missing file is made. Without it a missing file is Errc::not_initialized:
// an instance with its own key would compute digests no other instance finds.
// Errc::config_invalid for a file of the wrong form or readable by group or others.
core::Result<crypto::SecretBytes> load_pii_index_key(const core::Config& config, bool create = false);

// The blind index derived from that file (pii::BlindIndex::derive).
core::Result<pii::BlindIndex> open_blind_index(const core::Config& config);

// Personal fields are sealed under the same data-key ring as objects (keys.data_keys_dir):
// `cartorio objects rotate-data-key` rotates both. The runtime must outlive the cipher.
inline pii::FieldCipher open_field_cipher(const Runtime& rt) { return pii::FieldCipher(*rt.data_keys); }

}  // namespace cartorio::app
