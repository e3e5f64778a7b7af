// The public transparency log (docs/audit.md), no login, on both listeners:
//   GET /transparency/tree-head                 latest signed tree head
//   GET /transparency/key                       the audit public key (PEM) heads are signed with
//   GET /transparency/proofs/consistency        ?first=M&second=N
//   GET /transparency/documents/{id}            was this document signed by us? when, with
//   GET /transparency/documents?sha256=HEX      which certificate, is it revoked? + inclusion proof
//   GET /transparency/certificates/{serial}     an issued certificate + inclusion proof
//   GET /verify/{id}                            the same for people (HTML): where the QR code
//                                               on a visible signature stamp leads
// Answers hold digests, serials, times and levels only: no names, owners or titles.
// `services` must outlive the router.
#pragma once

#include "api/secured_router.h"
#include "audit/tree_head_publisher.h"
#include "http/router.h"
#include "store/store.h"

#include <string>

namespace cartorio::api {

struct TransparencyServices {
  store::Store* store = nullptr;
  audit::TreeHeadPublisher* heads = nullptr;  // of the transparency log
  std::string public_key_pem;                 // the audit key's
};

core::Result<void> add_transparency_routes(http::Router& router, const TransparencyServices& services);
core::Result<void> add_transparency_routes(SecuredRouter& router, const TransparencyServices& services);

}  // namespace cartorio::api
