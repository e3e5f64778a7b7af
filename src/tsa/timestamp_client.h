// TimestampClient: where document signatures get their RFC 3161 time-stamp tokens — the
// installation's own TSA in process, or an external TSA over HTTP (tsa.url).
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <string>

namespace cartorio::tsa {

class TimestampClient {
 public:
  virtual ~TimestampClient() = default;

  // A TimeStampToken (RFC 3161 2.4.2: the CMS ContentInfo, DER) over `digest`, the hash of
  // the time-stamped data made with `md` (SHA-256, SHA-384 or SHA-512). The reply is
  // checked before it is returned: status granted, the same message imprint, the nonce
  // this call sent. Errc::tsa_error when the TSA refuses or answers wrongly,
  // Errc::tsa_unavailable when it cannot be reached.
  virtual core::Result<std::string> timestamp(const EVP_MD* md, crypto::ByteView digest) = 0;
};

}  // namespace cartorio::tsa
