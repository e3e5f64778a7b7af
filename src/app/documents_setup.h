// Signed documents of an installation: the download-link key from the config. `init`
// creates the key; `serve` reads it.
#pragma once

#include "app/runtime.h"
#include "core/config.h"
#include "crypto/secret_bytes.h"
#include "documents/download_links.h"

namespace cartorio::app {

// Reads documents.link_key_file (32 bytes, hex; mode 0600; app/secret_key_file.h). With
// `create` (only `init`), a missing file is made. Without it a missing file is
// Errc::not_initialized: an instance with its own key would refuse the links the other
// instances hand out. Errc::config_invalid for a file of the wrong form or readable by
// group or others.
core::Result<crypto::SecretBytes> load_download_links_key(const core::Config& config, bool create = false);

// DownloadLinks under that key and the runtime's clock. The runtime must outlive it.
core::Result<documents::DownloadLinks> open_download_links(const Runtime& rt);

}  // namespace cartorio::app
