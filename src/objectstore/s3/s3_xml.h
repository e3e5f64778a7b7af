// What the S3 backend reads from and writes to S3's XML bodies (ListObjectsV2,
// ListObjectVersions, multipart upload, errors, bucket versioning), and the two date forms
// S3 uses. Parsing is strict about what it needs and ignores the rest: a body without the
// elements a call relies on is Errc::store_error, never a guess.
#pragma once

#include "core/clock.h"
#include "core/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::objectstore::s3 {

struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;
};
// The <Error> of a body, if it is one.
std::optional<S3ErrorBody> parse_error(std::string_view body);

struct ListedObject {
  std::string key;  // the full S3 key (with the store's prefix)
  std::uint64_t size = 0;
  core::TimePoint last_modified;
};
struct ListObjectsResult {
  std::vector<ListedObject> objects;
  bool truncated = false;
};
core::Result<ListObjectsResult> parse_list_objects_v2(std::string_view body);

struct ListedVersion {
  std::string key;
  std::string version_id;
  std::uint64_t size = 0;
  core::TimePoint last_modified;
  bool is_latest = false;
  bool delete_marker = false;
};
struct ListVersionsResult {
  std::vector<ListedVersion> versions;  // in the body's order: by key, then newest first
  bool truncated = false;
  std::string next_key_marker;
  std::string next_version_id_marker;
};
core::Result<ListVersionsResult> parse_list_versions(std::string_view body);

core::Result<std::string> parse_upload_id(std::string_view body);  // InitiateMultipartUploadResult
// CompleteMultipartUpload with the parts' ETags (as the server returned them) in order.
std::string complete_multipart_body(const std::vector<std::string>& part_etags);
// true when a GetBucketVersioning body says Enabled.
bool versioning_enabled(std::string_view body);
inline constexpr std::string_view kEnableVersioningBody =
    "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Status>Enabled</Status></VersioningConfiguration>";

// "2026-12-02T04:45:00.000Z" (listings), to whole seconds.
std::optional<core::TimePoint> parse_iso8601(std::string_view text);
// "Wed, 02 Dec 2026 04:45:00 GMT" (Last-Modified).
std::optional<core::TimePoint> parse_http_date(std::string_view text);

}  // namespace cartorio::objectstore::s3
