// TimestampRequest: one RFC 3161 TimeStampReq as the clients send it, and the one check of
// the TSA's reply against it (shared by LocalTimestampClient and HttpTimestampClient).
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"

#include <string>

namespace cartorio::tsa {

class TimestampRequest {
 public:
  // version 1, messageImprint (md, digest; hash parameters absent, RFC 5754), a random
  // positive 64-bit nonce, certReq true (the token then carries the TSA certificate, which
  // PAdES validation needs), no policy. Errc::invalid_argument unless md is SHA-256, SHA-384
  // or SHA-512 and the digest has its length.
  static core::Result<TimestampRequest> create(const EVP_MD* md, crypto::ByteView digest);

  // The DER TimeStampReq (the body of application/timestamp-query).
  const std::string& der() const { return m_der; }

  // The TimeStampToken (DER ContentInfo) of `reply_der` when it is a TimeStampResp that
  // answers this request: status granted or grantedWithMods, a token present, TSTInfo
  // version 1, the same message imprint (algorithm and digest) and the same nonce.
  // Errc::tsa_error otherwise (message: the TSA's status, failure codes and text when it
  // refused). A rejection with systemFailure or timeNotAvailable, and the status waiting,
  // are Errc::tsa_unavailable: the TSA is there but cannot serve now, a retry may succeed.
  // The token's signature is not checked here (no trust anchors): the validator does that.
  core::Result<std::string> check_reply(crypto::ByteView reply_der) const;

 private:
  TimestampRequest(crypto::TsReq req, std::string der) : m_req(std::move(req)), m_der(std::move(der)) {}
  crypto::TsReq m_req;
  std::string m_der;
};

// "badAlg, badDataFormat" for a PKIFailureInfo; "" when absent.
std::string failure_names(const ASN1_BIT_STRING* failure_info);

}  // namespace cartorio::tsa
