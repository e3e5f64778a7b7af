#include "softhsm_token.h"

#include <cstdlib>
#include <filesystem>

namespace cartorio::keys::testing {

using cartorio::testing::run;
using cartorio::testing::shell_quote;

std::string SoftHsmToken::module_path() { return CARTORIO_SOFTHSM2_MODULE; }

SoftHsmToken::SoftHsmToken(std::string label) : m_label(std::move(label)) {
  const auto tokens = m_dir / "tokens";
  std::filesystem::create_directories(tokens);
  cartorio::testing::write_file(m_dir / "softhsm2.conf", "directories.tokendir = " + tokens.string() +
                                                             "\n"
                                                             "objectstore.backend = file\n"
                                                             "log.level = ERROR\n"
                                                             "slots.removable = false\n");
  ::setenv("SOFTHSM2_CONF", conf_path().c_str(), 1);
  auto r = run("SOFTHSM2_CONF=" + shell_quote(conf_path()) + " " CARTORIO_SOFTHSM2_UTIL " --init-token --free --label " +
               shell_quote(m_label) + " --so-pin " + so_pin() + " --pin " + user_pin());
  if (r.exit_code != 0) m_error = "softhsm2-util --init-token failed: " + r.out + r.err;
}

Pkcs11KeyStoreOptions SoftHsmToken::options() const {
  Pkcs11KeyStoreOptions o;
  o.module_path = module_path();
  o.token_label = m_label;
  o.pin = crypto::SecretBytes(std::string_view(user_pin()));
  return o;
}

}  // namespace cartorio::keys::testing
