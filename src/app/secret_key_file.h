// Installation-wide secret keys kept as files in the data dir (identity.data_key_file,
// documents.link_key_file, pii.index_key_file): 32 random bytes as 64 hex digits, mode 0600, made by `init`
// and copied to every instance, which must all hold the same bytes.
#pragma once

#include "core/error.h"
#include "crypto/secret_bytes.h"

#include <string>

namespace cartorio::app {

struct SecretKeyFile {
  std::string path;        // resolved (Config::path)
  std::string config_key;  // "identity.data_key_file": named in messages
  std::string name;        // "identity data key": named in messages
  // Appended to the advice for an installation older than the file, e.g. " before any
  // user enrols MFA".
  std::string older_installation_note;
};

// Reads the key. With `create` (only `init`), a missing file is made; the file is
// published with link(2), which never replaces an existing one, so two processes creating
// it at once agree on one key. Without it a missing file is Errc::not_initialized: an
// instance that made its own key would disagree with the others. Errc::config_invalid for
// a file of the wrong form or readable by group or others; Errc::io_error.
core::Result<crypto::SecretBytes> read_secret_key_file(const SecretKeyFile& file, bool create);

}  // namespace cartorio::app
