// ResponseSource: where OCSP responses come from, behind one method (Boulder's former
// ocsp/responder Source). Layers wrap each other and are stacked by the caller:
//   live (OcspResponder: store status + KeyStore signature), pre-signed (PresignedSource:
//   files signed offline with the root key), and later cached (cache/) around either.
//
// A source never fails as a C++ call: whatever goes wrong becomes an OCSPResponse with an
// error status (malformedRequest, internalError, tryLater, unauthorized), because that is what
// a relying party understands. The metadata beside the DER lets HTTP layers and caches decide
// how long the answer may be reused without parsing it again.
#pragma once

#include "core/clock.h"
#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <optional>
#include <string>

namespace cartorio::ocsp {

// OCSPResponseStatus (RFC 6960 4.2.1); values are the wire values.
enum class ResponseStatus : int {
  successful = 0,
  malformed_request = 1,
  internal_error = 2,
  try_later = 3,
  sig_required = 5,
  unauthorized = 6,
};

struct OcspResult {
  crypto::Bytes der;  // a complete DER OCSPResponse, whatever the status
  ResponseStatus status = ResponseStatus::internal_error;
  // For successful responses: thisUpdate and the earliest nextUpdate of the single responses.
  std::optional<core::TimePoint> this_update;
  std::optional<core::TimePoint> next_update;
  // False when the response echoes a nonce: it answers one request only and must not be
  // served to anyone else.
  bool cacheable = false;
  // entity_tag(der) when a cache computed it once for many answers; empty otherwise.
  std::string etag;
};

// The HTTP entity tag of an answer (RFC 5019 6.2): the quoted SHA-256 of its DER.
inline std::string entity_tag(crypto::ByteView der) { return "\"" + crypto::to_hex(crypto::sha256(der)) + "\""; }

// One source answers for one CA. Thread-safe: called from many server threads at once.
class ResponseSource {
 public:
  virtual ~ResponseSource() = default;
  // `request_der` is an OCSPRequest as received (untrusted bytes).
  virtual OcspResult respond(crypto::ByteView request_der) = 0;
};

}  // namespace cartorio::ocsp
