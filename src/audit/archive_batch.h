// One batch of the audit archive (docs/audit.md, "Archive (audit-logs bucket)"): audit
// events leave the database as JSON Lines objects, one per batch, each ending in a signed
// trailer line that chains it to the batch before it.
//
//   audit-logs/archive/batches/<first id, 20 digits>.jsonl
//     {"id":1,"time":...,"actor":...,"action":...,"target":...,"result":...,"source":...,
//      "request_id":...,"details":"<the stored JSON text, verbatim>"}     one line per event
//     ...
//     {"trailer":{"format":"cartorio-audit-batch/v1","origin":...,"first":1,"last":1000,
//      "count":1000,"events_sha256":...,"previous_sha256":...,"time":...,"key_id":...,
//      "signature":...}}
//
// The key names the batch's first id only: put-if-absent on it lets exactly one shipper
// write the batch that follows a given one, whatever size each would have cut (a name
// with the last id too would let two shippers holding different views both win).
//
// events_sha256 is the SHA-256 of the bytes before the trailer line (every event line with
// its '\n'); previous_sha256 the SHA-256 of the whole previous batch object, empty for the
// first batch. The signature (the audit key, ECDSA P-256 over SHA-256, DER, base64) covers
// body(): the format and every trailer field but key_id and signature, one per line.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "store/store.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::audit {

inline constexpr std::string_view kArchiveBatchFormat = "cartorio-audit-batch/v1";
inline constexpr std::string_view kArchiveBatchPrefix = "audit-logs/archive/batches/";
inline constexpr std::string_view kArchiveCursorKey = "audit-logs/archive/cursor.json";
inline constexpr std::string_view kArchiveContentType = "application/jsonl";
// KeyUse::purpose of a batch signature: these key.use events never make a batch due on
// their own (each batch would otherwise need the next one, forever).
inline constexpr std::string_view kBatchSigningPurpose = "sign-audit-batch";

// "audit-logs/archive/batches/<first, zero-padded to 20 digits>.jsonl"; keys sort by id.
std::string archive_batch_key(std::int64_t first_id);
// Whether `key` is a batch key as archive_batch_key makes them.
bool is_archive_batch_key(std::string_view key);

struct BatchTrailer {
  std::string origin;  // "<host of pki.public_base_url>/audit-archive"
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::int64_t count = 0;
  std::string events_sha256;    // hex
  std::string previous_sha256;  // hex of the previous batch object; empty for the first
  std::int64_t time = 0;        // when it was signed, Unix seconds
  std::string key_id;           // hex SHA-256 of the signing key's SubjectPublicKeyInfo DER
  crypto::Bytes signature;

  std::string body() const;  // what the signature covers
};

// The event's line, without its '\n'. Text that is not valid UTF-8 is replaced (U+FFFD), the
// same way on every call, so the verifier compares the lines it makes from the store byte
// for byte with the archived ones.
std::string archive_event_line(const store::AuditEvent& e);

// The whole object: the event lines, then the trailer signed with `private_key` (its key_id
// and signature are filled in). Errc::invalid_argument for no events.
core::Result<std::string> make_archive_batch(const std::vector<store::AuditEvent>& events, BatchTrailer& trailer,
                                             EVP_PKEY* private_key);

struct ParsedBatch {
  std::vector<std::string> lines;  // the event lines as stored, without '\n'
  std::vector<store::AuditEvent> events;
  BatchTrailer trailer;
  std::string events_sha256;  // recomputed over the stored bytes
  std::string sha256;         // of the whole object: the next batch's previous_sha256
};

// Errc::malformed_input, naming the line, for anything make_archive_batch would not write
// (signature and digests are the verifier's business: a parsed batch is not a valid one).
core::Result<ParsedBatch> parse_archive_batch(std::string_view data);

// Whether the signature over body() is `public_key`'s and key_id names that key.
bool batch_signature_valid(const BatchTrailer& t, EVP_PKEY* public_key);

// The SHA-256 of `data`, lowercase hex.
std::string sha256_hex(std::string_view data);

}  // namespace cartorio::audit
