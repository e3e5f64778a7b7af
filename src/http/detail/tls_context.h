// The server's OpenSSL side, kept apart from Asio/Beast: building an SSL_CTX from
// TlsOptions, and reading what a handshake established.
#pragma once

#include "core/error.h"
#include "http/request.h"
#include "http/tls.h"

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>

namespace cartorio::http::detail {

struct SslCtxDeleter {
  void operator()(SSL_CTX* p) const noexcept;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A server context with the project's protocol policy (TLS 1.2/1.3, ECDHE + AEAD, no
// compression, no renegotiation, server cipher order), `identity` and, unless
// client_auth is none, client-certificate verification against the trust anchors.
// Errc::invalid_argument: missing/mismatched/too-weak identity, client_auth without
// anchors; Errc::malformed_input: unreadable anchors; Errc::crypto_error: OpenSSL failed.
core::Result<SslCtxPtr> make_server_context(const TlsOptions& options, const TlsIdentity& identity);

// The client certificate of an established connection, when the client sent one and it
// verified; nullopt otherwise.
std::optional<ClientCertificate> verified_client_certificate(const SSL* ssl);

// The parts of a certificate handlers authorise on.
ClientCertificate describe_certificate(const X509* cert);

// Why a client certificate was refused ("certificate has expired"), or "" when the
// handshake did not fail on it. Never carries secrets: safe to log.
std::string client_verify_failure(const SSL* ssl);

}  // namespace cartorio::http::detail
