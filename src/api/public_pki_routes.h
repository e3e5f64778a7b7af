// The public, unauthenticated PKI resources relying parties fetch over plain HTTP
// (RFC 5280 4.2.1.13 / 4.2.2.1): CA certificates (caIssuers) and CRLs (distribution points).
// Signed objects: their integrity does not depend on the transport.
#pragma once

#include "cache/cache.h"
#include "http/router.h"
#include "keys/key_store.h"
#include "objectstore/object_store.h"
#include "store/store.h"

#include <string>

namespace cartorio::api {

// GET /ca/{root|tls|document}.crt  (DER, application/pkix-cert)
// GET /crl/{root|tls|document}.crl (DER, application/pkix-crl; the last published CRL)
core::Result<void> add_public_pki_routes(http::Router& router, store::Store& store, objectstore::ObjectStore& objects);

// GET /healthz: the process answers. GET /readyz: the store and the key store answer and
// the cache is usable: 200 "ready"; 200 "degraded" while a Redis cache is down and its
// in-process fallback serves; 503 "unavailable" when something needed does not answer.
core::Result<void> add_health_routes(http::Router& router, store::Store& store, keys::KeyStore& keys,
                                     cache::Cache& cache);

}  // namespace cartorio::api
