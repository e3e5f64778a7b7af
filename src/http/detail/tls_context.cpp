#include "http/detail/tls_context.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

namespace cartorio::http::detail {

namespace {

using core::Errc;

// TLS 1.2: forward secrecy (ECDHE) and AEAD only; TLS 1.3 suites are all of that kind.
// ECDSA and RSA variants, so either kind of server key works.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
// Needed for session resumption once peers are verified (OpenSSL refuses to resume
// without one); any constant unique to this application will do.
constexpr unsigned char kSessionIdContext[] = "cartorio-http";
constexpr int kMaxClientChainDepth = 4;

core::Error openssl_failure(Errc code, const std::string& what) {
  std::string why = crypto::openssl_errors();
  return {code, "TLS: " + what + (why.empty() ? "" : " (" + why + ")")};
}

core::Result<void> apply_protocol_policy(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
    return openssl_failure(Errc::crypto_error, "cannot restrict protocol versions");
  // Explicit, so a permissive system openssl.cnf cannot lower it (2: >= 112-bit keys).
  SSL_CTX_set_security_level(ctx, 2);
  // No tickets: their key would live as long as the context and never rotate, which
  // undoes TLS 1.2 forward secrecy; resumption uses the server-side session cache.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_PRIORITIZE_CHACHA | SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1)
    return openssl_failure(Errc::crypto_error, "cannot set the cipher suites");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return openssl_failure(Errc::crypto_error, "cannot set the key-exchange groups");
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) != 1)
    return openssl_failure(Errc::crypto_error, "cannot set the session id context");
  return core::ok();
}

core::Result<void> install_identity(SSL_CTX* ctx, const TlsIdentity& id) {
  if (!id.certificate || !id.private_key)
    return core::Error{Errc::invalid_argument, "TLS: the identity needs a certificate and a private key"};
  // Fails on a key too weak for the security level, too.
  if (SSL_CTX_use_certificate(ctx, id.certificate.get()) != 1)
    return openssl_failure(Errc::invalid_argument, "the server certificate is not usable");
  if (SSL_CTX_use_PrivateKey(ctx, id.private_key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return openssl_failure(Errc::invalid_argument, "the private key does not match the server certificate");
  for (const auto& cert : id.chain) {
    if (!cert) return core::Error{Errc::invalid_argument, "TLS: empty certificate in the chain"};
    if (SSL_CTX_add1_chain_cert(ctx, cert.get()) != 1)
      return openssl_failure(Errc::invalid_argument, "a chain certificate is not usable");
  }
  return core::ok();
}

core::Result<void> install_client_auth(SSL_CTX* ctx, const TlsOptions& options) {
  if (options.client_auth == ClientAuth::none) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return core::ok();
  }
  if (options.client_trust_anchors_pem.empty())
    return core::Error{Errc::invalid_argument, "TLS: client certificates need client_trust_anchors_pem"};
  auto anchors = crypto::parse_certificate_chain(options.client_trust_anchors_pem);
  if (!anchors) return core::Error{Errc::malformed_input, "TLS client trust anchors: " + anchors.error().message};

  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& anchor : *anchors) {
    // The store verifies; the CA list tells clients which certificate to pick.
    if (X509_STORE_add_cert(store, anchor.get()) != 1 || SSL_CTX_add_client_CA(ctx, anchor.get()) != 1)
      return openssl_failure(Errc::invalid_argument, "a client trust anchor is not usable");
  }
  // Every anchor is trusted as such, even an intermediate; strict DER/extension checks.
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  SSL_CTX_set_verify_depth(ctx, kMaxClientChainDepth);
  // OpenSSL checks the chain with the "SSL client" purpose (clientAuth EKU when present).
  int mode = SSL_VERIFY_PEER;
  if (options.client_auth == ClientAuth::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return core::ok();
}

std::string asn1_to_string(const ASN1_STRING* s) {
  if (!s) return {};
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

std::string utf8_of(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return {};
  std::string r(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return r;
}

std::string last_common_name(const X509_NAME* name) {
  std::string cn;
  for (int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, NID_commonName, i))
    cn = utf8_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  return cn;
}

std::string ip_to_string(const ASN1_OCTET_STRING* ip) {
  char text[INET6_ADDRSTRLEN] = {};
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || !inet_ntop(family, data, text, sizeof text)) return {};
  return text;
}

void add_subject_alt_names(const X509* cert, ClientCertificate& out) {
  crypto::GeneralNames names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    switch (n->type) {
      case GEN_DNS: out.san_dns.push_back(asn1_to_string(n->d.dNSName)); break;
      case GEN_URI: out.san_uris.push_back(asn1_to_string(n->d.uniformResourceIdentifier)); break;
      case GEN_EMAIL: out.san_emails.push_back(asn1_to_string(n->d.rfc822Name)); break;
      case GEN_IPADD: out.san_ips.push_back(ip_to_string(n->d.iPAddress)); break;
      default: break;  // otherName, directoryName...: not used for service identity here
    }
  }
}

}  // namespace

void SslCtxDeleter::operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }

core::Result<SslCtxPtr> make_server_context(const TlsOptions& options, const TlsIdentity& identity) {
  ERR_clear_error();  // so the messages below name only this attempt's failures
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return openssl_failure(Errc::crypto_error, "cannot create a context");
  CARTORIO_TRY_VOID(apply_protocol_policy(ctx.get()));
  CARTORIO_TRY_VOID(install_identity(ctx.get(), identity));
  CARTORIO_TRY_VOID(install_client_auth(ctx.get(), options));
  return ctx;
}

ClientCertificate describe_certificate(const X509* cert) {
  ClientCertificate out;
  const X509_NAME* subject = X509_get_subject_name(cert);
  out.subject_cn = last_common_name(subject);
  out.subject_dn = crypto::name_to_string(subject);
  out.issuer_dn = crypto::name_to_string(X509_get_issuer_name(cert));
  out.serial = crypto::serial_hex(cert);
  out.sha256_fingerprint = crypto::to_hex(crypto::sha256(crypto::to_der(cert)));
  out.not_before = core::from_unix(crypto::asn1_time_to_unix(X509_get0_notBefore(cert)));
  out.not_after = core::from_unix(crypto::asn1_time_to_unix(X509_get0_notAfter(cert)));
  add_subject_alt_names(cert, out);
  return out;
}

std::optional<ClientCertificate> verified_client_certificate(const SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  // With SSL_VERIFY_PEER a failed verification already failed the handshake; checked
  // again so an unverified certificate can never reach a handler.
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  return describe_certificate(cert);
}

std::string client_verify_failure(const SSL* ssl) {
  long result = SSL_get_verify_result(ssl);
  return result == X509_V_OK ? std::string() : std::string(X509_verify_cert_error_string(result));
}

}  // namespace cartorio::http::detail
