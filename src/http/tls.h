// TLS settings of the HTTP server: its identity (certificate chain + private key, in
// memory) and optional client-certificate authentication (mTLS).
//
// Only OpenSSL's typedefs come in (through crypto/ossl.h); no Asio, no Beast.
#pragma once

#include "core/error.h"
#include "crypto/ossl.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::http {

// What the server presents. The key never has to touch the disk: the caller generates it
// in memory and has the TLS CA issue the certificate.
//
// Copies share the underlying OpenSSL objects (reference counts are bumped), so
// ServerOptions stays a copyable value. Treat the objects as immutable once handed over.
struct TlsIdentity {
  crypto::X509Ptr certificate;         // the leaf
  std::vector<crypto::X509Ptr> chain;  // intermediates, the leaf's issuer first (root optional)
  crypto::PKey private_key;            // must match certificate's public key

  TlsIdentity() = default;
  TlsIdentity(crypto::X509Ptr leaf, std::vector<crypto::X509Ptr> intermediates, crypto::PKey key);
  TlsIdentity(const TlsIdentity& other);
  TlsIdentity& operator=(const TlsIdentity& other);
  TlsIdentity(TlsIdentity&&) noexcept = default;
  TlsIdentity& operator=(TlsIdentity&&) noexcept = default;
  ~TlsIdentity() = default;

  // `chain_pem`: the leaf first, then its intermediates (what the CA's issuance returns).
  // Errc::malformed_input when it holds no certificate.
  static core::Result<TlsIdentity> from_pem(std::string_view chain_pem, crypto::PKey key);
};

// Client certificates (mTLS). With `optional` a client may connect without one; a
// certificate that is presented must still verify, or the handshake fails.
enum class ClientAuth { none, optional, required };

struct TlsOptions {
  TlsIdentity identity;
  ClientAuth client_auth = ClientAuth::none;
  // PEM bundle of the CA certificates client certificates must chain to. Every
  // certificate in it is a trust anchor, intermediates included (so an operator can pin
  // the TLS CA instead of the root). Required unless client_auth is none.
  std::string client_trust_anchors_pem;
  // The TLS handshake, from accept to Finished: bounds clients that connect and stall.
  std::chrono::milliseconds handshake_timeout{10'000};
};

}  // namespace cartorio::http
