#include "app/backup_layout.h"

namespace cartorio::app {

std::vector<KeyPath> backup_key_paths(const core::Config& c, bool with_master_key) {
  const core::Config d;  // the defaults `init` writes
  std::vector<KeyPath> out = {
      {"keys.software_dir", c.keys.software_dir, d.keys.software_dir, true},
      {"keys.data_keys_dir", c.keys.data_keys_dir, d.keys.data_keys_dir, true},
      {"identity.data_key_file", c.identity.data_key_file, d.identity.data_key_file, false},
      {"documents.link_key_file", c.documents.link_key_file, d.documents.link_key_file, false},
      {"pii.index_key_file", c.pii.index_key_file, d.pii.index_key_file, false},
  };
  if (with_master_key && c.keys.master_passphrase.empty())
    out.push_back({"keys.master_key_file", c.keys.master_key_file, d.keys.master_key_file, false});
  return out;
}

bool path_within(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  const std::string prefix = dir.size() > 1 && dir.back() == '/' ? dir : dir + "/";
  return path.rfind(prefix, 0) == 0;
}

}  // namespace cartorio::app
