// A fresh SoftHSM2 token per test: its own softhsm2.conf and token directory in a temp dir,
// SOFTHSM2_CONF pointing at it (set before the module is loaded, which reads it in
// C_Initialize), and an initialised token. Tests never skip when SoftHSM2 is missing:
// configure fails instead (tests/keys/CMakeLists.txt).
#pragma once

#include "keys/pkcs11/pkcs11_key_store.h"
#include "support/test_support.h"

#include <string>

namespace cartorio::keys::testing {

class SoftHsmToken {
 public:
  explicit SoftHsmToken(std::string label = "cartorio-test");
  // Empty when the token is ready, else what went wrong (assert on it in SetUp).
  const std::string& error() const { return m_error; }
  const std::string& label() const { return m_label; }
  static std::string module_path();
  static std::string user_pin() { return "246810"; }
  static std::string so_pin() { return "13579111"; }
  Pkcs11KeyStoreOptions options() const;
  std::string conf_path() const { return (m_dir / "softhsm2.conf").string(); }

 private:
  cartorio::testing::TempDir m_dir;
  std::string m_label;
  std::string m_error;
};

}  // namespace cartorio::keys::testing
