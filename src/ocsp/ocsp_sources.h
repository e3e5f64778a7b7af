// The default stack of sources, one per CA: live-signed for "tls" and "document",
// pre-signed files for "root". A cache layer (cache/) wraps these entries when it lands:
// the map is the seam where the composition root stacks layers.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "keys/key_store.h"
#include "ocsp/ocsp_responder.h"
#include "ocsp/response_source.h"
#include "pki/hierarchy.h"
#include "store/store.h"

#include <map>
#include <memory>
#include <string>

namespace cartorio::ocsp {

// CA name -> the source answering for it. shared_ptr: HTTP handlers are copyable functions.
using SourceMap = std::map<std::string, std::shared_ptr<ResponseSource>>;

// Where DATA_DIR keeps the root's pre-signed responses: DATA_DIR/ocsp/root.
std::string presigned_root_dir(const std::string& data_dir);

core::Result<SourceMap> make_default_sources(const pki::Hierarchy& hierarchy, store::CertificateRepository& certificates,
                                             keys::KeyStore& keys, const core::Clock& clock,
                                             const std::string& root_presigned_dir, ResponderOptions options = {});

}  // namespace cartorio::ocsp
