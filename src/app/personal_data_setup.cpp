#include "app/personal_data_setup.h"

#include "app/secret_key_file.h"

namespace cartorio::app {

core::Result<crypto::SecretBytes> load_pii_index_key(const core::Config& config, bool create) {
  return read_secret_key_file({config.path(config.pii.index_key_file), "pii.index_key_file",
                               "personal-data index key", " before any document names its signatory"},
                              create);
}

core::Result<pii::BlindIndex> open_blind_index(const core::Config& config) {
  CARTORIO_TRY(const auto secret, load_pii_index_key(config));
  return pii::BlindIndex::derive(secret);
}

}  // namespace cartorio::app
