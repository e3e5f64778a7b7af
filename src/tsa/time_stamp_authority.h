// TimeStampAuthority: the installation's own RFC 3161 time-stamp authority (POST /tsa, and
// documents time-stamped in process through LocalTimestampClient).
//
// It signs a TSTInfo (RFC 3161 2.4.2) over the message imprint of a request with the "tsa"
// identity of the hierarchy (issued by the Document Signing CA, EKU timeStamping critical):
//   - policy: tsa.policy_oid; a request naming another policy is rejected (unacceptedPolicy);
//   - message imprints: SHA-256, SHA-384, SHA-512 only (anything else: badAlg; a digest of
//     the wrong length: badDataFormat); request extensions: unacceptedExtension;
//   - genTime: the injected Clock, whole seconds; accuracy: tsa.accuracy_seconds;
//   - serialNumber: 128 random bits, so serials are unique without shared state;
//   - nonce echoed; tsa field = the TSA certificate's subject;
//   - signed attributes carry ESSCertIDv2 (SHA-256) of the TSA certificate (RFC 5816);
//   - with certReq the token carries the TSA certificate, the Document Signing CA and the root.
// Every input yields a DER TimeStampResp: garbage, trailing bytes or a bad version are a
// rejection with badDataFormat/badRequest, never an error. When the key cannot be used the
// answer is a rejection with systemFailure.
//
// The key is taken from the KeyStore (KeyUse "sign-timestamp") only once a request has
// passed every check, so rejected requests cost no key use (and no audit event).
//
// Thread-safe: each call builds its own TS_RESP_CTX; the object holds immutable
// certificates and references to thread-safe services (KeyStore, Clock).
#pragma once

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "keys/key_store.h"
#include "pki/hierarchy.h"

#include <cstddef>
#include <memory>
#include <string>

namespace cartorio::tsa {

// The largest request answered; longer input is a rejection (badDataFormat). Real requests
// are a few hundred bytes; POST /tsa refuses longer bodies with 413 before parsing them.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

struct TsaOptions {
  std::string policy_oid = core::Config::Tsa{}.policy_oid;  // dotted form
  int accuracy_seconds = 1;
  std::string actor = "server";  // recorded with each key use unless the caller names another
};

// tsa.policy_oid and tsa.accuracy_seconds of a loaded config.
TsaOptions tsa_options(const core::Config& config, std::string actor = "server");

class TimeStampAuthority {
 public:
  // Errc::ca_not_found when the hierarchy has no "tsa" identity (or it has no key);
  // Errc::config_invalid for a policy OID that is not in dotted form or an accuracy outside
  // 1..3600 s; Errc::profile_violation when the TSA certificate is not fit to time-stamp.
  static core::Result<std::unique_ptr<TimeStampAuthority>> create(const pki::Hierarchy& hierarchy,
                                                                  keys::KeyStore& keys, const core::Clock& clock,
                                                                  TsaOptions options = {});

  // The DER TimeStampResp answering `request_der` (a DER TimeStampReq), granted or a
  // rejection. Errc::internal only when no TimeStampResp at all can be produced (out of
  // memory, encoding failure). `actor` is recorded with the key use (default: options.actor).
  core::Result<std::string> respond(crypto::ByteView request_der) const;
  core::Result<std::string> respond(crypto::ByteView request_der, const std::string& actor) const;

  // The TSA certificate, and the CA certificates above it (Document Signing CA, root).
  X509* certificate() const { return m_cert.get(); }
  const crypto::X509Stack& chain() const { return m_chain; }
  const std::string& policy_oid() const { return m_options.policy_oid; }

  TimeStampAuthority(crypto::X509Ptr cert, crypto::X509Stack chain, crypto::Asn1Object policy, keys::KeyRef key,
                     keys::KeyStore& keys, const core::Clock& clock, TsaOptions options);
  ~TimeStampAuthority();

 private:
  struct Request;  // per-call state the OpenSSL callbacks see
  static ASN1_INTEGER* serial_callback(::TS_resp_ctx* ctx, void* data);
  static int time_callback(::TS_resp_ctx* ctx, void* data, long* sec, long* usec);
  core::Result<std::string> run(crypto::ByteView request_der, Request& state) const;

  crypto::X509Ptr m_cert;
  crypto::X509Stack m_chain;
  crypto::Asn1Object m_policy;
  keys::KeyRef m_key;
  keys::KeyStore& m_keys;
  const core::Clock& m_clock;
  TsaOptions m_options;
  const EVP_MD* m_signer_md;
};

}  // namespace cartorio::tsa
