#include "app/documents_setup.h"

#include "app/secret_key_file.h"

namespace cartorio::app {

core::Result<crypto::SecretBytes> load_download_links_key(const core::Config& config, bool create) {
  return read_secret_key_file({config.path(config.documents.link_key_file), "documents.link_key_file",
                               "download link key", ", then copy it to every instance"},
                              create);
}

core::Result<documents::DownloadLinks> open_download_links(const Runtime& rt) {
  CARTORIO_TRY(auto key, load_download_links_key(rt.config));
  return documents::DownloadLinks::create(std::move(key), *rt.clock);
}

}  // namespace cartorio::app
