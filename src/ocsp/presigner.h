// Pre-signing: fills the cache with fresh answers for every live certificate of a CA, so
// that with a schedule shorter than the cache TTL the request path never signs (the
// "worker re-signs before they age out" of the reference architecture).
//
// Cost: two signatures (SHA-1 and SHA-256 CertIDs) per unexpired certificate per run, each
// an audited key use. Revoked certificates are included until they expire: their
// "revoked" answer is as hot as a "good" one.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "ocsp/cached_source.h"
#include "store/store.h"

#include <cstdint>

namespace cartorio::ocsp {

struct PresignReport {
  std::int64_t certificates = 0;  // answers refreshed
  std::int64_t failed = 0;        // refresh() errors (logged), e.g. the cache went away
};

// Refreshes every certificate `source.ca()` issued that has not expired at `clock.now()`.
// Errc from the store when listing fails (nothing is half-done: entries refreshed before
// the failure stay valid).
core::Result<PresignReport> presign_live(CachedSource& source, store::CertificateRepository& certificates,
                                         const core::Clock& clock);

}  // namespace cartorio::ocsp
