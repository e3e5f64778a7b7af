// The S3 ObjectStore: one bucket (or a key prefix in it) on an S3-compatible server, over
// S3Client (libcurl, AWS Signature V4, path-style URLs). docs/objectstore.md ("S3 backend").
//
// Mapping of the contract:
// - Key k is the S3 key <prefix>k in <bucket>. The bucket is created on open() when missing
//   and bucket versioning is switched on (the contract keeps every version).
// - The contract's ETag (SHA-256) is x-amz-meta-sha256; caller metadata name n travels as
//   x-amz-meta-u-n, so no caller name can shadow it. S3's own MD5 ETag is not used. get()
//   checks the bytes against it (Errc::store_error on a mismatch, or for an object
//   without it: one this backend did not write).
// - put(): one PUT up to multipart_threshold, a multipart upload above it (parts of
//   part_size; aborted on failure, so no half object ever shows). Then a HEAD of the new
//   version for its server-side Last-Modified, so put() and head() report the same info.
// - put_if_absent(): PUT with If-None-Match: * where the server supports it (AWS since
//   2024). Servers that answer 501 (Swift's s3api) get a protocol over versions instead:
//   PUT, list the key's versions, and the oldest version written since the key was last
//   absent wins; a loser deletes its own version. Exactly one caller gets true, but for
//   the few milliseconds before a loser's cleanup a reader may see the loser's bytes.
// - erase(): HEAD, then DELETE (a delete marker) when there was an object.
// - check(): HEAD of the bucket (no write: /readyz is polled, and a write would add a
//   version each time).
//
// Errors: unreachable server, 403 (credentials, clock skew) and 5xx after retries ->
// Errc::store_unavailable; a response this backend cannot read -> Errc::store_error.
//
// Thread-safety: all calls may run concurrently (S3Client pools its handles).
#pragma once

#include "objectstore/object_store.h"
#include "objectstore/s3/s3_client.h"

#include <atomic>
#include <memory>
#include <optional>

namespace cartorio::objectstore {

struct S3ObjectStoreOptions {
  s3::S3ClientOptions client;
  std::string bucket;      // DNS-style, 3..63 characters of [a-z0-9.-]
  std::string key_prefix;  // empty, or key characters ending in '/': the store's namespace
  std::uint64_t max_object_bytes = kDefaultMaxObjectBytes;
  std::uint64_t multipart_threshold = 64ull * 1024 * 1024;
  std::uint64_t part_size = 16ull * 1024 * 1024;  // S3 wants >= 5 MiB but for the last part
  bool create_bucket = true;  // create it and enable versioning when missing
};

class S3ObjectStore final : public ObjectStore {
  struct PassKey {};

 public:
  // Checks the options, reaches the bucket (creating it when asked) and makes sure
  // versioning is on. Errc::config_invalid for bad options, Errc::store_unavailable when the
  // server cannot be reached or refuses the credentials.
  static core::Result<std::unique_ptr<S3ObjectStore>> open(S3ObjectStoreOptions options);
  S3ObjectStore(PassKey, S3ObjectStoreOptions options);

  core::Result<ObjectInfo> put(std::string_view key, std::string_view data, const PutOptions& options = {}) override;
  core::Result<bool> put_if_absent(std::string_view key, std::string_view data,
                                   const PutOptions& options = {}) override;
  core::Result<Object> get(std::string_view key) override;
  core::Result<ObjectInfo> head(std::string_view key) override;
  core::Result<bool> erase(std::string_view key) override;
  core::Result<ListPage> list(std::string_view prefix = {}, std::size_t limit = kMaxListLimit,
                              std::string_view start_after = {}) override;
  core::Result<VersionPage> list_versions(std::string_view key, std::size_t limit = kMaxListLimit,
                                          std::string_view after_version = {}) override;
  core::Result<Object> get_version(std::string_view key, std::string_view version_id) override;
  core::Result<bool> erase_version(std::string_view key, std::string_view version_id) override;
  core::Result<ListPage> list_versioned_keys(std::string_view prefix = {}, std::size_t limit = kMaxListLimit,
                                             std::string_view start_after = {}) override;
  core::Result<void> check() override;
  std::string backend_name() const override { return "s3"; }

  const S3ObjectStoreOptions& options() const { return m_options; }

 private:
  std::string object_path(std::string_view key) const;
  core::Result<void> ensure_bucket();
  core::Result<ObjectInfo> write(std::string_view key, std::string_view data, const PutOptions& checked,
                                 const std::string& sha, bool if_none_match, bool& precondition_failed);
  core::Result<s3::S3Response> put_multipart(std::string_view key, std::string_view data,
                                             std::vector<std::pair<std::string, std::string>> headers);
  core::Result<ObjectInfo> head_version(std::string_view key, std::string_view version_id);
  // A GET or HEAD of the current object, retried (briefly) when it answers 404 while the
  // key's listing shows an object: a replacement in progress on Swift.
  core::Result<s3::S3Response> read_current(const s3::S3Request& request, std::string_view key);
  // GET of the key (query: "" or ?versionId=...), its bytes checked against its SHA-256.
  core::Result<Object> fetch(std::string_view key, const std::string& query);
  core::Result<ObjectInfo> info_from(std::string_view key, const s3::S3Response& r) const;
  core::Result<bool> won_by_versions(std::string_view key, const std::string& my_version);
  // list_versions without checking after_version (a version id the listing gave).
  core::Result<VersionPage> versions_page(std::string_view key, std::size_t limit, std::string_view after_version);
  // The key's version (or delete marker) of that id, if the listing has it.
  core::Result<std::optional<VersionEntry>> find_version(std::string_view key, std::string_view version_id);

  S3ObjectStoreOptions m_options;
  s3::S3Client m_client;
  std::atomic<bool> m_conditional_put = true;  // until the server answers 501 once
};

}  // namespace cartorio::objectstore
