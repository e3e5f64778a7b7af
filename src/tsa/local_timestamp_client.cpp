#include "tsa/local_timestamp_client.h"

#include "tsa/timestamp_request.h"

namespace cartorio::tsa {

core::Result<std::string> LocalTimestampClient::timestamp(const EVP_MD* md, crypto::ByteView digest) {
  CARTORIO_TRY(auto request, TimestampRequest::create(md, digest));
  auto reply = m_authority.respond(crypto::as_bytes(request.der()), m_actor);
  if (!reply) return core::Error{core::Errc::tsa_error, "the own TSA failed: " + reply.error().to_string()};
  return request.check_reply(crypto::as_bytes(*reply));
}

}  // namespace cartorio::tsa
