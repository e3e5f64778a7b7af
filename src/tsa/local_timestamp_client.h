// LocalTimestampClient: time-stamps from the installation's own TimeStampAuthority, in
// process (tsa.url empty). The same request and the same reply checks as over HTTP, so a
// token from here is exactly what POST /tsa would have answered.
//
// Thread-safe (the authority is). The authority must outlive the client.
#pragma once

#include "tsa/time_stamp_authority.h"
#include "tsa/timestamp_client.h"

#include <string>

namespace cartorio::tsa {

class LocalTimestampClient final : public TimestampClient {
 public:
  // `actor` is recorded with the TSA's key use ("documents", "user:alice", ...).
  explicit LocalTimestampClient(const TimeStampAuthority& authority, std::string actor = "documents")
      : m_authority(authority), m_actor(std::move(actor)) {}

  // Errc::invalid_argument for a digest other than SHA-256/384/512 of the right length;
  // otherwise as TimestampClient says (a key store that cannot sign: tsa_unavailable).
  core::Result<std::string> timestamp(const EVP_MD* md, crypto::ByteView digest) override;

 private:
  const TimeStampAuthority& m_authority;
  std::string m_actor;
};

}  // namespace cartorio::tsa
