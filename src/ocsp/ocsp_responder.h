// OcspResponder: the live source. Answers from the store's current status and signs each
// response with the CA's delegated responder identity ("ocsp-tls", "ocsp-document"; RFC 6960
// 4.2.2.2), whose certificate travels in the response. RFC 5019 profile: responder id by key
// hash, thisUpdate = now, nextUpdate = now + validity.
//
// Every signature goes through KeyStore::signer with KeyUse{"sign-ocsp", ...}, so with the
// audited key store each response is an audit event. That is deliberate for now; a cache
// layer (and pre-signing of responses for hot serials) takes the signature off the hot path.
//
// Thread-safe: holds only immutable certificates and references to thread-safe services.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "crypto/ossl.h"
#include "keys/key_store.h"
#include "ocsp/response_source.h"
#include "pki/hierarchy.h"
#include "store/store.h"

#include <chrono>
#include <memory>
#include <string>

namespace cartorio::ocsp {

struct ResponderOptions {
  // nextUpdate - thisUpdate of live responses (and the HTTP max-age derived from it).
  std::chrono::seconds validity = std::chrono::hours(1);
  std::string actor = "server";  // recorded with each key use
};

class OcspResponder final : public ResponseSource {
 public:
  // `ca` is "tls" or "document"; its certificate and its responder identity come from the
  // hierarchy. Errc::ca_not_found when either is missing, Errc::invalid_argument for "root"
  // (its key is offline: use PresignedSource).
  static core::Result<std::unique_ptr<OcspResponder>> create(const pki::Hierarchy& hierarchy, const std::string& ca,
                                                             store::CertificateRepository& certificates,
                                                             keys::KeyStore& keys, const core::Clock& clock,
                                                             ResponderOptions options = {});

  OcspResponder(std::string ca, crypto::X509Ptr ca_cert, crypto::X509Ptr responder_cert, keys::KeyRef responder_key,
                store::CertificateRepository& certificates, keys::KeyStore& keys, const core::Clock& clock,
                ResponderOptions options);

  OcspResult respond(crypto::ByteView request_der) override;

 private:
  std::string m_ca;
  crypto::X509Ptr m_ca_cert;
  crypto::X509Ptr m_responder_cert;
  keys::KeyRef m_responder_key;
  store::CertificateRepository& m_certificates;
  keys::KeyStore& m_keys;
  const core::Clock& m_clock;
  ResponderOptions m_options;
};

}  // namespace cartorio::ocsp
