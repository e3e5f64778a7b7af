// Signatures that never finished. DocumentService::sign issues the per-document certificate
// (step 3), stores the signed PDF (5), then records the document (6); a failure in between
// abandons the certificate at once, but a process killed there (kill -9, power loss) leaves
// a valid document-signing certificate no document names, and perhaps the signed PDF with
// no record. Nothing points at either: no link was handed out, no record lists them.
//
// clean_unfinished_signatures finds such certificates once they are older than `grace`
// (longer than any signing takes, TSA retries included, so a signature still in progress
// on another instance is never touched), erases the object its document would have had,
// then revokes the certificate as cessationOfOperation through `revoke` (which records the
// audit event), in that order, so a run cut short is finished by the next one. The
// `documents.unfinished` job runs it (docs/documents.md).
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "objectstore/object_store.h"
#include "store/store.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace cartorio::documents {

struct UnfinishedSignatures {
  std::vector<std::string> revoked;  // serials, oldest first
  std::size_t objects_erased = 0;    // signed PDFs stored without their record
};

struct UnfinishedSignatureDeps {
  store::CertificateRepository* certificates = nullptr;
  objectstore::ObjectStore* objects = nullptr;
  const core::Clock* clock = nullptr;
  // Revokes one certificate as cessationOfOperation and audits it (app::revoke_certificate).
  std::function<core::Result<void>(const std::string& serial)> revoke;
};

inline constexpr std::chrono::seconds kUnfinishedSigningGrace = std::chrono::minutes(15);

// At most `limit` certificates per run (the rest wait for the next). Store and object store
// errors stop the run; what was done before them stays done.
core::Result<UnfinishedSignatures> clean_unfinished_signatures(const UnfinishedSignatureDeps& deps,
                                                               std::chrono::seconds grace = kUnfinishedSigningGrace,
                                                               int limit = 1000);

// The document id a per-document certificate was issued for: its SAN URI ends in
// "/verify/<id>" (DocumentService puts the verification URL there). Empty when none does.
std::string document_id_of(const store::CertificateRecord& certificate);

}  // namespace cartorio::documents
