// ObjectStore: named blobs (the S3 role): signed PDFs, certificates, CRLs, backups, audit
// and access logs. One contract, several backends: the filesystem (objectstore/fs/
// filesystem_object_store.h, the embedded default) and, next, an S3-compatible server.
// docs/objectstore.md has the details; tests/objectstore/ holds the one conformance suite
// every backend passes.
//
// Keys (check_key, shared so every backend rejects the same input with the same message):
// 1..kMaxKeyBytes bytes of [A-Za-z0-9._-/], '/'-separated segments of 1..kMaxSegmentBytes
// bytes; no leading or trailing '/', no empty segment ("a//b"), no "." or ".." segment.
// So a key is never an absolute path and never climbs out of its namespace. A key and a
// "directory" of the same name coexist ("a" and "a/b" are two objects), as in S3.
//
// Objects are immutable blobs replaced as a whole: put() is atomic (a reader sees the old
// or the new object, never a mix) and durable when it returns. There is no append and no
// partial read.
//
// Versions (as S3's bucket versioning): a write never destroys what it replaces. put() over
// an existing key keeps the old object as a noncurrent version; erase() keeps it too and
// leaves a delete marker on top. Versions are listed newest first, read by id, and removed
// for good only by erase_version() (retention and lifecycle rules, never a user's action).
// Version ids are opaque (1..kMaxVersionIdBytes of [A-Za-z0-9._-]), unique per key; put()
// returns the one it made.
//
// ETag: the lowercase hex SHA-256 of the bytes (64 characters), without the quotes HTTP
// puts around entity tags; the same bytes have the same ETag in every backend (S3's own
// MD5 ETag is not used). It doubles as the integrity check: backends verify it on get().
//
// Time: last_modified is when the put happened, to whole seconds (what S3 and HTTP dates
// carry), by the backend's clock: the injected core::Clock for the filesystem, the
// server's clock for S3.
//
// Thread-safety: an ObjectStore is safe to share between threads; each call is atomic on
// its own. Several processes may share one backend (one directory, one bucket).
//
// Errors: every call can return Errc::invalid_argument for a bad key, prefix, option or an
// object larger than the backend's max_object_bytes (nothing is changed); get/head return
// Errc::not_found for an absent key; Errc::store_error when the stored data is damaged or
// not laid out as the backend wrote it (bad header, digest mismatch, a symbolic link where
// the backend expects its own files); Errc::io_error when the OS fails a call (disk full,
// permissions); Errc::store_unavailable when the backend cannot be reached.
#pragma once

#include "core/clock.h"
#include "core/error.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::objectstore {

inline constexpr std::size_t kMaxKeyBytes = 1024;
// The filesystem backend turns a segment into a file name (NAME_MAX is 255 and it adds a
// suffix), so every backend keeps segments this short, keeping the backends interchangeable.
inline constexpr std::size_t kMaxSegmentBytes = 250;
inline constexpr std::uint64_t kDefaultMaxObjectBytes = 256ull * 1024 * 1024;
inline constexpr std::size_t kMaxListLimit = 1000;  // as S3's ListObjectsV2 max-keys
inline constexpr std::string_view kDefaultContentType = "application/octet-stream";
inline constexpr std::size_t kMaxContentTypeBytes = 256;
// User metadata (S3's x-amz-meta-*): names of 1..kMaxMetadataNameBytes in [a-z0-9-]
// (HTTP header names are case-insensitive, so only lowercase), values printable ASCII,
// names and values together at most kMaxMetadataBytes (S3's limit).
inline constexpr std::size_t kMaxMetadataNameBytes = 64;
inline constexpr std::size_t kMaxMetadataBytes = 2048;
inline constexpr std::size_t kMaxVersionIdBytes = 128;

using Metadata = std::map<std::string, std::string>;

struct PutOptions {
  std::string content_type = std::string(kDefaultContentType);  // empty means the default
  Metadata metadata;
  // The caller's SHA-256 of the data (64 lowercase hex digits), when it has one already: the
  // backend takes it as the ETag instead of hashing again. A wrong one is a caller's bug the
  // object's integrity check reports on every get().
  std::string sha256_hex;
};

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;          // lowercase hex SHA-256 of the bytes, unquoted
  std::string content_type;  // never empty
  core::TimePoint last_modified;
  Metadata metadata;
  std::string version_id;  // this version's id (opaque, never empty)
};

struct Object {
  std::string data;  // binary-safe (NUL included)
  ObjectInfo info;
};

// What a listing carries per key. No etag or content type: S3 lists only its MD5 ETag,
// so those cost a head() per key in every backend alike.
struct ListEntry {
  std::string key;
  std::uint64_t size = 0;
  core::TimePoint last_modified;
};

struct ListPage {
  std::vector<ListEntry> entries;  // ascending byte order of keys
  // true when more keys follow; pass next_start_after as start_after to get them.
  bool truncated = false;
  std::string next_start_after;  // the last key of this page when truncated, else empty
};

// One version of a key, as list_versions() reports it.
struct VersionEntry {
  std::string version_id;
  std::uint64_t size = 0;  // 0 for a delete marker
  core::TimePoint last_modified;
  bool is_latest = false;      // the key's current state (an object, or a delete marker)
  bool delete_marker = false;  // erase() left this: the key read as absent from then on
};

struct VersionPage {
  std::vector<VersionEntry> entries;  // newest first
  bool truncated = false;
  std::string next_after_version;  // pass as after_version for the next page when truncated
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores (or replaces, atomically) the object; durable when it returns.
  virtual core::Result<ObjectInfo> put(std::string_view key, std::string_view data,
                                       const PutOptions& options = {}) = 0;
  // Creates the object only when the key is absent: true when this call created it, false
  // (nothing changed) when an object was already there. Of concurrent callers exactly one
  // gets true (write-once documents, first-writer-wins markers).
  virtual core::Result<bool> put_if_absent(std::string_view key, std::string_view data,
                                           const PutOptions& options = {}) = 0;
  // Errc::not_found when absent; Errc::store_error when the bytes do not match the ETag.
  virtual core::Result<Object> get(std::string_view key) = 0;
  // The object's info without its bytes. Errc::not_found when absent.
  virtual core::Result<ObjectInfo> head(std::string_view key) = 0;
  // true when an object was removed, false when there was none.
  virtual core::Result<bool> erase(std::string_view key) = 0;
  // Keys starting with `prefix` (any string of key characters, may be empty or end in
  // '/'), strictly after `start_after` (any string up to kMaxKeyBytes), in ascending byte
  // order, at most `limit` (1..kMaxListLimit) of them. A listing is not a snapshot: keys
  // put or erased while paging may or may not show up, every other key shows up once.
  virtual core::Result<ListPage> list(std::string_view prefix = {}, std::size_t limit = kMaxListLimit,
                                      std::string_view start_after = {}) = 0;
  // The key's versions and delete markers, newest first, strictly after (older than)
  // `after_version` when given, at most `limit` (1..kMaxListLimit). Empty when the key never
  // existed or every version was erased. Errc::not_found when after_version is not a
  // version of the key.
  virtual core::Result<VersionPage> list_versions(std::string_view key, std::size_t limit = kMaxListLimit,
                                                  std::string_view after_version = {}) = 0;
  // One version's bytes and info. Errc::not_found when there is no such version or it is a
  // delete marker.
  virtual core::Result<Object> get_version(std::string_view key, std::string_view version_id) = 0;
  // Removes one version (or delete marker) for good: true when it existed. Removing the
  // current one makes the newest remaining one current, as in S3 (so removing a delete
  // marker brings the object back).
  virtual core::Result<bool> erase_version(std::string_view key, std::string_view version_id) = 0;
  // Like list(), over every key that has any version or delete marker, including keys
  // erased (current state a delete marker): what lifecycle rules walk. Entries carry the
  // newest version's size and time (0 and the marker's time for a deleted key).
  virtual core::Result<ListPage> list_versioned_keys(std::string_view prefix = {}, std::size_t limit = kMaxListLimit,
                                                     std::string_view start_after = {}) = 0;
  // Reachable and writable, for /readyz.
  virtual core::Result<void> check() = 0;
  // "filesystem", "s3".
  virtual std::string backend_name() const = 0;
};

// Shared argument checks, so every backend rejects the same input with the same message.
core::Result<void> check_key(std::string_view key);
core::Result<void> check_prefix(std::string_view prefix);
core::Result<void> check_list_args(std::string_view prefix, std::size_t limit, std::string_view start_after);
core::Result<void> check_version_id(std::string_view version_id);
// Validates the options and size; returns the options with the default content type filled in.
core::Result<PutOptions> check_put(std::string_view key, std::uint64_t size, const PutOptions& options,
                                   std::uint64_t max_object_bytes);
// Keys and stored values are untrusted: quoted, escaped and cut to 80 characters before they
// go into a message, so a log line never carries control characters or a kilobyte of junk.
std::string quoted_for_message(std::string_view s);
// The ETag every backend reports: lowercase hex SHA-256 of the bytes.
std::string etag_of(std::string_view data);

}  // namespace cartorio::objectstore
