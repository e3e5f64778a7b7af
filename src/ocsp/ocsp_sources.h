// The default stacks of sources, one per CA: live-signed for "tls" and "document" (behind
// a CachedSource when a cache is given), pre-signed files for "root" (read from disk,
// nothing to sign: never cached). The map is the seam where the composition root stacks
// layers.
#pragma once

#include "core/clock.h"
#include "cache/cache.h"
#include "core/error.h"
#include "keys/key_store.h"
#include "ocsp/cached_source.h"
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
                                             const std::string& root_presigned_dir, const ResponderOptions& options = {});

struct CachedSources {
  SourceMap sources;                                            // what the routes serve
  std::map<std::string, std::shared_ptr<CachedSource>> cached;  // "tls", "document": refresh(), stats()
};

// The default stack with the online CAs' live responders behind `cache`.
core::Result<CachedSources> make_cached_sources(const pki::Hierarchy& hierarchy,
                                                store::CertificateRepository& certificates, keys::KeyStore& keys,
                                                const core::Clock& clock, const std::string& root_presigned_dir,
                                                const ResponderOptions& options, cache::Cache& cache,
                                                CachedSourceOptions cache_options);

// Asks `source` about one certificate, as a relying party would (SHA-1 CertID, no nonce):
// the DER of a successful response. Errc::store_unavailable for any other status.
core::Result<crypto::Bytes> ask_about(ResponseSource& source, const X509* cert, const X509* issuer);

}  // namespace cartorio::ocsp
