// Shared by `cartorio init` and `cartorio ocsp presign-root`: pre-signing the root's OCSP
// responses while the offline root key is in memory.
#pragma once

#include "app/runtime.h"
#include "core/error.h"
#include "crypto/ossl.h"

#include <chrono>
#include <cstddef>

namespace cartorio::cli {

// Signs and writes DATA_DIR/ocsp/root/<serial>.der for every certificate the root issued,
// and records the root key use in the audit log. Returns how many certificates were covered.
core::Result<std::size_t> presign_root_ocsp(app::Runtime& rt, X509* root_cert, EVP_PKEY* root_key,
                                            std::chrono::seconds validity);

}  // namespace cartorio::cli
