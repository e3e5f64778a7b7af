#include "objectstore/s3/s3_object_store.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"
#include "objectstore/s3/s3_xml.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

namespace cartorio::objectstore {
using core::Errc;
using s3::S3Query;
using s3::S3Request;
using s3::S3Response;

namespace {

constexpr std::string_view kShaMeta = "x-amz-meta-sha256";
constexpr std::string_view kUserMetaPrefix = "x-amz-meta-u-";
using Headers = std::vector<std::pair<std::string, std::string>>;

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Content-MD5 (base64): AWS requires it on PutBucketVersioning.
std::string content_md5(std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(body.data(), body.size(), md, &n, EVP_md5(), nullptr);
  return crypto::to_base64(crypto::ByteView(md, n));
}

bool valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  if (b.front() == '-' || b.front() == '.' || b.back() == '-' || b.back() == '.') return false;
  return std::all_of(b.begin(), b.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; });
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Headers object_headers(const PutOptions& o, const std::string& sha) {
  Headers h{{"Content-Type", o.content_type}, {std::string(kShaMeta), sha}};
  for (const auto& [name, value] : o.metadata) h.emplace_back(std::string(kUserMetaPrefix) + name, value);
  return h;
}

std::string version_query(std::string_view version_id) { return S3Query().add("versionId", version_id).str(); }

}  // namespace

core::Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::open(S3ObjectStoreOptions o) {
  auto bad = [](const std::string& why) { return core::Error(Errc::config_invalid, "S3 object store: " + why); };
  const auto& c = o.client;
  if (!c.endpoint.starts_with("http://") && !c.endpoint.starts_with("https://"))
    return bad("endpoint must start with http:// or https://, got \"" + c.endpoint + "\"");
  if (c.endpoint.find_first_of("?#", 8) != std::string::npos || c.endpoint.ends_with("/"))
    return bad("endpoint must be scheme://host[:port] without a path, query or trailing '/'");
  if (c.region.empty() || c.access_key.empty() || c.secret_key.empty())
    return bad("region, access key and secret key are required");
  if (!valid_bucket(o.bucket)) return bad("bucket \"" + o.bucket + "\" is not a DNS-style name of 3..63 [a-z0-9.-]");
  if (!o.key_prefix.empty() &&
      (!o.key_prefix.ends_with("/") || !check_key(std::string_view(o.key_prefix).substr(0, o.key_prefix.size() - 1))))
    return bad("key prefix \"" + o.key_prefix + "\" must be key characters ending in '/'");
  if (o.max_object_bytes == 0 || o.part_size == 0 || o.multipart_threshold < o.part_size)
    return bad("sizes must be positive, with multipart_threshold >= part_size");
  if (c.max_attempts < 1) return bad("max_attempts must be at least 1");
  auto store = std::make_unique<S3ObjectStore>(PassKey{}, std::move(o));
  CARTORIO_TRY_VOID(store->ensure_bucket());
  return store;
}

S3ObjectStore::S3ObjectStore(PassKey, S3ObjectStoreOptions options)
    : m_options(std::move(options)), m_client(m_options.client) {}

std::string S3ObjectStore::object_path(std::string_view key) const {
  // Keys are [A-Za-z0-9._-/] (check_key): nothing to percent-encode, and SigV4 signs the
  // path as written.
  return "/" + m_options.bucket + "/" + m_options.key_prefix + std::string(key);
}

core::Result<void> S3ObjectStore::ensure_bucket() {
  const std::string bucket = "/" + m_options.bucket;
  CARTORIO_TRY(auto head, m_client.perform({.method = "HEAD", .path = bucket}));
  if (head.status == 404) {
    if (!m_options.create_bucket)
      return core::Error(Errc::config_invalid, "S3 bucket \"" + m_options.bucket + "\" does not exist");
    CARTORIO_TRY(auto made, m_client.perform({.method = "PUT", .path = bucket}));
    // 409 BucketAlreadyOwnedByYou: another instance made it first.
    if (made.status != 200 && made.status != 409) return s3::s3_error(made, "CreateBucket " + m_options.bucket);
  } else if (head.status != 200) {
    return s3::s3_error(head, "HeadBucket " + m_options.bucket);
  }
  const std::string versioning = S3Query().add("versioning").str();
  CARTORIO_TRY(auto state, m_client.perform({.method = "GET", .path = bucket, .query = versioning}));
  if (state.status != 200) return s3::s3_error(state, "GetBucketVersioning");
  if (s3::versioning_enabled(state.body)) return core::ok();
  CARTORIO_TRY(auto set, m_client.perform({.method = "PUT",
                                            .path = bucket,
                                            .query = versioning,
                                            .headers = {{"Content-MD5", content_md5(s3::kEnableVersioningBody)},
                                                        {"Content-Type", "application/xml"}},
                                            .body = s3::kEnableVersioningBody}));
  if (set.status != 200) return s3::s3_error(set, "PutBucketVersioning");
  return core::ok();
}

core::Result<ObjectInfo> S3ObjectStore::info_from(std::string_view key, const S3Response& r) const {
  ObjectInfo info;
  info.key = std::string(key);
  info.etag = r.header(std::string(kShaMeta));
  if (!is_hex64(info.etag))
    return core::Error(Errc::store_error, "S3 object \"" + info.key + "\" has no SHA-256 metadata: not written by this store");
  auto size = to_u64(r.header("content-length"));
  auto modified = s3::parse_http_date(r.header("last-modified"));
  if (!size || !modified) return core::Error(Errc::store_error, "S3 object \"" + info.key + "\": bad Content-Length or Last-Modified");
  info.size = *size;
  info.last_modified = *modified;
  info.content_type = r.header("content-type");
  if (info.content_type.empty()) info.content_type = std::string(kDefaultContentType);
  info.version_id = r.header("x-amz-version-id");
  if (info.version_id.empty()) info.version_id = "null";
  for (const auto& [name, value] : r.headers)
    if (name.starts_with(kUserMetaPrefix)) info.metadata[name.substr(kUserMetaPrefix.size())] = value;
  return info;
}

core::Result<s3::S3Response> S3ObjectStore::read_current(const S3Request& request, std::string_view key) {
  // Swift replaces a versioned object by moving a symlink: a read at that instant gets 404
  // though the key was never absent. A 404 counts only when the listing agrees.
  for (int attempt = 0;; ++attempt) {
    CARTORIO_TRY(auto r, m_client.perform(request));
    if (r.status != 404 || !request.query.empty() || attempt == 4) return r;
    CARTORIO_TRY(auto page, versions_page(key, 1, {}));
    if (page.entries.empty() || page.entries.front().delete_marker) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
  }
}

core::Result<ObjectInfo> S3ObjectStore::head_version(std::string_view key, std::string_view version_id) {
  S3Request req{.method = "HEAD", .path = object_path(key)};
  if (!version_id.empty()) req.query = version_query(version_id);
  CARTORIO_TRY(auto r, read_current(req, key));
  if (r.status != 200) return s3::s3_error(r, "HeadObject " + std::string(key));
  return info_from(key, r);
}

core::Result<ObjectInfo> S3ObjectStore::head(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  return head_version(key, {});
}

core::Result<ObjectInfo> S3ObjectStore::write(std::string_view key, std::string_view data, const PutOptions& checked,
                                              const std::string& sha, bool if_none_match,
                                              bool& precondition_failed) {
  Headers headers = object_headers(checked, sha);
  S3Response r;
  if (data.size() > m_options.multipart_threshold) {
    CARTORIO_TRY(r, put_multipart(key, data, std::move(headers)));
  } else {
    if (if_none_match) headers.emplace_back("If-None-Match", "*");
    CARTORIO_TRY(r, m_client.perform({.method = "PUT",
                                      .path = object_path(key),
                                      .headers = std::move(headers),
                                      .body = data,
                                      .body_sha256_hex = sha}));
    if (if_none_match && (r.status == 412 || r.status == 501)) {
      precondition_failed = r.status == 412;
      if (r.status == 501) m_conditional_put = false;
      return core::Error(Errc::already_exists, "conditional put not applied");
    }
    if (r.status != 200) return s3::s3_error(r, "PutObject " + std::string(key));
  }
  return head_version(key, r.header("x-amz-version-id"));
}

core::Result<S3Response> S3ObjectStore::put_multipart(std::string_view key, std::string_view data, Headers headers) {
  const std::string path = object_path(key);
  CARTORIO_TRY(auto init, m_client.perform({.method = "POST",
                                             .path = path,
                                             .query = S3Query().add("uploads").str(),
                                             .headers = std::move(headers)}));
  if (init.status != 200) return s3::s3_error(init, "CreateMultipartUpload " + std::string(key));
  CARTORIO_TRY(const std::string upload_id, s3::parse_upload_id(init.body));
  auto abort = [&](core::Error e) -> core::Error {
    (void)m_client.perform({.method = "DELETE", .path = path, .query = S3Query().add("uploadId", upload_id).str()});
    return e;
  };
  std::vector<std::string> etags;
  for (std::uint64_t off = 0; off < data.size(); off += m_options.part_size) {
    const auto part = data.substr(off, m_options.part_size);
    auto r = m_client.perform({.method = "PUT",
                               .path = path,
                               .query = S3Query()
                                            .add("partNumber", std::to_string(etags.size() + 1))
                                            .add("uploadId", upload_id)
                                            .str(),
                               .body = part});
    if (!r) return abort(r.error());
    if (r->status != 200 || r->header("etag").empty()) return abort(s3::s3_error(*r, "UploadPart " + std::string(key)));
    etags.push_back(r->header("etag"));
  }
  const std::string body = s3::complete_multipart_body(etags);
  auto done = m_client.perform({.method = "POST",
                                .path = path,
                                .query = S3Query().add("uploadId", upload_id).str(),
                                .headers = {{"Content-Type", "application/xml"}},
                                .body = body});
  if (!done) return abort(done.error());
  // CompleteMultipartUpload can fail after its 200 status line: the error is in the body.
  if (done->status != 200 || s3::parse_error(done->body))
    return abort(s3::s3_error(*done, "CompleteMultipartUpload " + std::string(key)));
  return std::move(*done);
}

core::Result<ObjectInfo> S3ObjectStore::put(std::string_view key, std::string_view data, const PutOptions& options) {
  CARTORIO_TRY(const auto checked, check_put(key, data.size(), options, m_options.max_object_bytes));
  const std::string sha = checked.sha256_hex.empty() ? etag_of(data) : checked.sha256_hex;
  bool unused = false;
  return write(key, data, checked, sha, false, unused);
}

core::Result<bool> S3ObjectStore::put_if_absent(std::string_view key, std::string_view data,
                                                const PutOptions& options) {
  CARTORIO_TRY(const auto checked, check_put(key, data.size(), options, m_options.max_object_bytes));
  const std::string sha = checked.sha256_hex.empty() ? etag_of(data) : checked.sha256_hex;
  if (auto existing = head_version(key, {}); existing) {
    return false;
  } else if (existing.error().code != Errc::not_found) {
    return existing.error();
  }
  if (m_conditional_put && data.size() <= m_options.multipart_threshold) {
    bool precondition_failed = false;
    auto r = write(key, data, checked, sha, true, precondition_failed);
    if (r) return true;
    if (precondition_failed) return false;
    if (m_conditional_put) return r.error();  // a real failure, not "501: no conditional PUT"
  }
  bool unused = false;
  CARTORIO_TRY(auto mine, write(key, data, checked, sha, false, unused));
  return won_by_versions(key, mine.version_id);
}

// The versions protocol of put_if_absent (see the header): among the versions above the
// newest delete marker, the oldest one's writer was first after the key became absent.
core::Result<bool> S3ObjectStore::won_by_versions(std::string_view key, const std::string& my_version) {
  std::string oldest_live;
  std::string after;
  for (bool more = true; more;) {
    CARTORIO_TRY(auto page, versions_page(key, kMaxListLimit, after));
    bool hit_marker = false;
    for (const auto& v : page.entries) {
      if (v.delete_marker) {
        hit_marker = true;
        break;
      }
      oldest_live = v.version_id;
    }
    more = !hit_marker && page.truncated;
    after = page.next_after_version;
  }
  if (oldest_live == my_version) return true;
  CARTORIO_TRY_VOID(erase_version(key, my_version));
  return false;
}

// Version-specific requests go only to ids the key's listing shows: servers disagree on
// what a marker's or an unknown id's GET/HEAD answers (AWS 405 and 404, Swift 404 for a
// marker and 500 for an id it cannot parse).
core::Result<std::optional<VersionEntry>> S3ObjectStore::find_version(std::string_view key, std::string_view version_id) {
  std::string after;
  for (;;) {
    CARTORIO_TRY(auto page, versions_page(key, kMaxListLimit, after));
    for (auto& v : page.entries)
      if (v.version_id == version_id) return std::optional<VersionEntry>(std::move(v));
    if (!page.truncated) return std::optional<VersionEntry>();
    after = page.next_after_version;
  }
}

core::Result<Object> S3ObjectStore::get_version(std::string_view key, std::string_view version_id) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_version_id(version_id));
  CARTORIO_TRY(const auto found, find_version(key, version_id));
  if (!found || found->delete_marker)
    return core::Error(Errc::not_found, "no version " + std::string(version_id) + " of \"" + std::string(key) + "\"");
  return fetch(key, version_query(version_id));
}

core::Result<Object> S3ObjectStore::get(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  return fetch(key, {});
}

core::Result<Object> S3ObjectStore::fetch(std::string_view key, const std::string& query) {
  CARTORIO_TRY(auto r, read_current({.method = "GET", .path = object_path(key), .query = query}, key));
  if (r.status != 200) return s3::s3_error(r, "GetObject " + std::string(key));
  r.headers["content-length"] = std::to_string(r.body.size());
  CARTORIO_TRY(auto info, info_from(key, r));
  if (etag_of(r.body) != info.etag)
    return core::Error(Errc::store_error, "S3 object \"" + std::string(key) + "\" does not match its SHA-256");
  return Object{std::move(r.body), std::move(info)};
}

core::Result<bool> S3ObjectStore::erase(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  if (auto existing = head_version(key, {}); !existing) {
    if (existing.error().code == Errc::not_found) return false;
    return existing.error();
  }
  CARTORIO_TRY(auto r, m_client.perform({.method = "DELETE", .path = object_path(key)}));
  if (r.status != 204 && r.status != 200) return s3::s3_error(r, "DeleteObject " + std::string(key));
  return true;
}

core::Result<bool> S3ObjectStore::erase_version(std::string_view key, std::string_view version_id) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_version_id(version_id));
  CARTORIO_TRY(const auto found, find_version(key, version_id));
  if (!found) return false;
  CARTORIO_TRY(auto r, m_client.perform({.method = "DELETE", .path = object_path(key), .query = version_query(version_id)}));
  if (r.status != 204 && r.status != 200) {
    // Swift (2.30) answers 404 NoSuchBucket when removing the last delete marker of a key
    // that has keys below it ("a/k" beside "a/k/x"), yet removes it: believe the listing.
    CARTORIO_TRY(const auto still, find_version(key, version_id));
    if (still) return s3::s3_error(r, "DeleteObject " + std::string(key));
  }
  return true;
}

core::Result<ListPage> S3ObjectStore::list(std::string_view prefix, std::size_t limit, std::string_view start_after) {
  CARTORIO_TRY_VOID(check_list_args(prefix, limit, start_after));
  const std::string& ns = m_options.key_prefix;
  ListPage page;
  std::string after = start_after.empty() ? std::string() : ns + std::string(start_after);
  for (;;) {
    S3Query q;
    q.add("list-type", "2").add("max-keys", std::to_string(limit - page.entries.size())).add("prefix", ns + std::string(prefix));
    if (!after.empty()) q.add("start-after", after);
    CARTORIO_TRY(auto r, m_client.perform({.method = "GET", .path = "/" + m_options.bucket, .query = q.str()}));
    if (r.status != 200) return s3::s3_error(r, "ListObjectsV2");
    CARTORIO_TRY(auto result, s3::parse_list_objects_v2(r.body));
    for (auto& o : result.objects) {
      after = o.key;
      std::string key = o.key.substr(ns.size());
      if (!o.key.starts_with(ns) || !check_key(key)) continue;  // not ours: foreign keys are ignored
      page.entries.push_back({std::move(key), o.size, o.last_modified});
    }
    if (!result.truncated || result.objects.empty()) return page;
    if (page.entries.size() == limit) {
      page.truncated = true;
      page.next_start_after = page.entries.back().key;
      return page;
    }
  }
}

core::Result<VersionPage> S3ObjectStore::list_versions(std::string_view key, std::size_t limit,
                                                       std::string_view after_version) {
  CARTORIO_TRY_VOID(check_key(key));
  if (limit == 0 || limit > kMaxListLimit)
    return core::Error(Errc::invalid_argument, "list limit must be 1.." + std::to_string(kMaxListLimit));
  if (!after_version.empty()) {
    CARTORIO_TRY_VOID(check_version_id(after_version));
    CARTORIO_TRY(const auto found, find_version(key, after_version));
    if (!found)
      return core::Error(Errc::not_found, "no version " + std::string(after_version) + " of \"" + std::string(key) + "\"");
  }
  return versions_page(key, limit, after_version);
}

core::Result<VersionPage> S3ObjectStore::versions_page(std::string_view key, std::size_t limit,
                                                       std::string_view after_version) {
  const std::string full = m_options.key_prefix + std::string(key);
  std::string key_marker = after_version.empty() ? std::string() : full;
  std::string version_marker(after_version);
  VersionPage page;
  for (;;) {
    // One more than asked for, to tell a full last page from a truncated one.
    S3Query q;
    q.add("versions").add("prefix", full).add("max-keys", std::to_string(limit + 1 - page.entries.size()));
    if (!key_marker.empty()) q.add("key-marker", key_marker).add("version-id-marker", version_marker);
    CARTORIO_TRY(auto r, m_client.perform({.method = "GET", .path = "/" + m_options.bucket, .query = q.str()}));
    if (r.status != 200) return s3::s3_error(r, "ListObjectVersions");
    CARTORIO_TRY(auto result, s3::parse_list_versions(r.body));
    bool other_key = false;
    for (auto& v : result.versions) {
      // The key's own versions come first: a prefix sorts before every longer key.
      if (v.key != full) {
        other_key = true;
        break;
      }
      if (page.entries.size() == limit) {
        page.truncated = true;
        page.next_after_version = page.entries.back().version_id;
        return page;
      }
      page.entries.push_back({std::move(v.version_id), v.size, v.last_modified, v.is_latest, v.delete_marker});
    }
    if (other_key || !result.truncated || result.versions.empty()) return page;
    key_marker = result.next_key_marker;
    version_marker = result.next_version_id_marker;
    if (key_marker.empty()) return core::Error(Errc::store_error, "S3 ListObjectVersions: truncated without NextKeyMarker");
  }
}

core::Result<ListPage> S3ObjectStore::list_versioned_keys(std::string_view prefix, std::size_t limit,
                                                          std::string_view start_after) {
  CARTORIO_TRY_VOID(check_list_args(prefix, limit, start_after));
  const std::string& ns = m_options.key_prefix;
  ListPage page;
  std::string key_marker = start_after.empty() ? std::string() : ns + std::string(start_after);
  std::string version_marker;
  std::string last_full;  // the S3 key of the last entry taken, to skip its older versions
  for (;;) {
    S3Query q;
    q.add("versions").add("prefix", ns + std::string(prefix)).add("max-keys", std::to_string(kMaxListLimit));
    if (!key_marker.empty()) {
      q.add("key-marker", key_marker);
      if (!version_marker.empty()) q.add("version-id-marker", version_marker);
    }
    CARTORIO_TRY(auto r, m_client.perform({.method = "GET", .path = "/" + m_options.bucket, .query = q.str()}));
    if (r.status != 200) return s3::s3_error(r, "ListObjectVersions");
    CARTORIO_TRY(auto result, s3::parse_list_versions(r.body));
    for (auto& v : result.versions) {
      if (v.key == last_full) continue;  // an older version of a key already taken
      last_full = v.key;
      std::string key = v.key.substr(ns.size());
      if (!v.key.starts_with(ns) || !check_key(key)) continue;
      if (page.entries.size() == limit) {
        page.truncated = true;
        page.next_start_after = page.entries.back().key;
        return page;
      }
      page.entries.push_back({std::move(key), v.delete_marker ? 0 : v.size, v.last_modified});
    }
    if (!result.truncated || result.versions.empty()) return page;
    key_marker = result.next_key_marker;
    version_marker = result.next_version_id_marker;
    if (key_marker.empty()) return core::Error(Errc::store_error, "S3 ListObjectVersions: truncated without NextKeyMarker");
  }
}

core::Result<void> S3ObjectStore::check() {
  auto r = m_client.perform({.method = "HEAD", .path = "/" + m_options.bucket});
  if (!r) return core::Error(Errc::store_unavailable, r.error().message);
  if (r->status != 200) return core::Error(Errc::store_unavailable, s3::s3_error(*r, "HeadBucket " + m_options.bucket).message);
  return core::ok();
}

}  // namespace cartorio::objectstore
