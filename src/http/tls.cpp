#include "http/tls.h"

#include "crypto/x509.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace cartorio::http {

namespace {

// Another owner of the same object: OpenSSL reference-counts certificates and keys.
crypto::X509Ptr share(const crypto::X509Ptr& cert) {
  if (cert) X509_up_ref(cert.get());
  return crypto::X509Ptr(cert.get());
}

crypto::PKey share(const crypto::PKey& key) {
  if (key) EVP_PKEY_up_ref(key.get());
  return crypto::PKey(key.get());
}

std::vector<crypto::X509Ptr> share(const std::vector<crypto::X509Ptr>& certs) {
  std::vector<crypto::X509Ptr> out;
  out.reserve(certs.size());
  for (const auto& c : certs) out.push_back(share(c));
  return out;
}

}  // namespace

TlsIdentity::TlsIdentity(crypto::X509Ptr leaf, std::vector<crypto::X509Ptr> intermediates, crypto::PKey key)
    : certificate(std::move(leaf)), chain(std::move(intermediates)), private_key(std::move(key)) {}

TlsIdentity::TlsIdentity(const TlsIdentity& other)
    : certificate(share(other.certificate)), chain(share(other.chain)), private_key(share(other.private_key)) {}

TlsIdentity& TlsIdentity::operator=(const TlsIdentity& other) {
  if (this != &other) *this = TlsIdentity(other);
  return *this;
}

core::Result<TlsIdentity> TlsIdentity::from_pem(std::string_view chain_pem, crypto::PKey key) {
  CARTORIO_TRY(auto certs, crypto::parse_certificate_chain(chain_pem));
  crypto::X509Ptr leaf = std::move(certs.front());
  certs.erase(certs.begin());
  return TlsIdentity(std::move(leaf), std::move(certs), std::move(key));
}

}  // namespace cartorio::http
