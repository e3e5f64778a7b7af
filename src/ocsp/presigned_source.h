// PresignedSource: answers from responses signed in advance (the root's, whose key is
// offline), stored as files by write_presigned (root_presigner.h). Read per request, so a
// new ceremony's files are served without a restart.
//
// What it cannot do without the key, it says with an unsigned error status:
//   - a serial with no pre-signed response -> unauthorized (RFC 5019 2.2.3: a responder
//     without an authoritative pre-produced response for the certificate);
//   - a pre-signed response past its nextUpdate -> tryLater (the operator must run
//     `cartorio ocsp presign-root`; serving a stale answer would mislead);
//   - more than one CertID -> malformedRequest (RFC 5019 2.1.1: one Request per OCSPRequest;
//     responses signed one by one cannot be combined);
//   - a nonce in the request is not echoed (RFC 5019 allows ignoring it).
#pragma once

#include "core/clock.h"
#include "crypto/ossl.h"
#include "ocsp/response_source.h"

#include <string>

namespace cartorio::ocsp {

class PresignedSource final : public ResponseSource {
 public:
  // `issuer` is the certificate the responses speak for (the root); `dir` where they are.
  PresignedSource(crypto::X509Ptr issuer, std::string dir, const core::Clock& clock);

  OcspResult respond(crypto::ByteView request_der) override;

 private:
  crypto::X509Ptr m_issuer;
  std::string m_dir;
  const core::Clock& m_clock;
};

}  // namespace cartorio::ocsp
