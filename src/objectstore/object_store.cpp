#include "objectstore/object_store.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <cstdio>

namespace cartorio::objectstore {

using core::Errc;

namespace {

std::string shown(std::string_view s) { return quoted_for_message(s); }

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/';
}


core::Error bad_key(std::string_view key, const std::string& why) {
  return {Errc::invalid_argument, "object key " + shown(key) + " " + why};
}

core::Result<void> check_segments(std::string_view key) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = key.find('/', start);
    const std::string_view seg = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (seg.empty()) return bad_key(key, "has an empty segment (\"//\")");
    if (seg == "." || seg == "..") return bad_key(key, "has a \".\" or \"..\" segment");
    if (seg.size() > kMaxSegmentBytes)
      return bad_key(key, "has a segment longer than " + std::to_string(kMaxSegmentBytes) + " bytes");
    if (slash == std::string_view::npos) return core::ok();
    start = slash + 1;
  }
}

core::Result<void> check_charset(std::string_view what, std::string_view s) {
  for (char c : s)
    if (!is_key_char(c))
      return core::Error(Errc::invalid_argument, std::string(what) + " " + shown(s) +
                                                     " has a character outside [A-Za-z0-9._-/]");
  return core::ok();
}

bool is_metadata_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool is_printable(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

core::Result<void> check_metadata(const Metadata& metadata) {
  std::size_t total = 0;
  for (const auto& [name, value] : metadata) {
    if (name.empty() || name.size() > kMaxMetadataNameBytes)
      return core::Error(Errc::invalid_argument, "metadata name " + shown(name) + " must be 1.." +
                                                     std::to_string(kMaxMetadataNameBytes) + " bytes");
    for (char c : name)
      if (!is_metadata_name_char(c))
        return core::Error(Errc::invalid_argument,
                           "metadata name " + shown(name) + " has a character outside [a-z0-9-]");
    if (!is_printable(value))
      return core::Error(Errc::invalid_argument, "metadata value for " + shown(name) + " is not printable ASCII");
    total += name.size() + value.size();
  }
  if (total > kMaxMetadataBytes)
    return core::Error(Errc::invalid_argument, "metadata is " + std::to_string(total) + " bytes, the limit is " +
                                                   std::to_string(kMaxMetadataBytes));
  return core::ok();
}

core::Result<void> check_content_type(std::string_view type) {
  if (type.size() > kMaxContentTypeBytes || !is_printable(type))
    return core::Error(Errc::invalid_argument, "content type " + shown(type) + " must be printable ASCII of at most " +
                                                   std::to_string(kMaxContentTypeBytes) + " bytes");
  return core::ok();
}

}  // namespace

core::Result<void> check_key(std::string_view key) {
  if (key.empty()) return core::Error(Errc::invalid_argument, "object key is empty");
  if (key.size() > kMaxKeyBytes)
    return bad_key(key, "is " + std::to_string(key.size()) + " bytes, the limit is " + std::to_string(kMaxKeyBytes));
  CARTORIO_TRY_VOID(check_charset("object key", key));
  if (key.front() == '/') return bad_key(key, "starts with '/' (keys are relative)");
  if (key.back() == '/') return bad_key(key, "ends with '/'");
  return check_segments(key);
}

std::string quoted_for_message(std::string_view s) {
  constexpr std::size_t kShown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kShown) out += "...";
  return out + "\"";
}

core::Result<void> check_version_id(std::string_view version_id) {
  if (version_id.empty() || version_id.size() > kMaxVersionIdBytes)
    return core::Error(Errc::invalid_argument, "version id " + shown(version_id) + " must have 1.." +
                                                   std::to_string(kMaxVersionIdBytes) + " characters");
  for (char c : version_id)
    if (c == '/' || !is_key_char(c))
      return core::Error(Errc::invalid_argument,
                         "version id " + shown(version_id) + " has a character outside [A-Za-z0-9._-]");
  return core::ok();
}

core::Result<void> check_prefix(std::string_view prefix) {
  if (prefix.size() > kMaxKeyBytes)
    return core::Error(Errc::invalid_argument, "list prefix is longer than " + std::to_string(kMaxKeyBytes) + " bytes");
  return check_charset("list prefix", prefix);
}

core::Result<void> check_list_args(std::string_view prefix, std::size_t limit, std::string_view start_after) {
  CARTORIO_TRY_VOID(check_prefix(prefix));
  if (limit < 1 || limit > kMaxListLimit)
    return core::Error(Errc::invalid_argument, "list limit must be 1.." + std::to_string(kMaxListLimit) + " (got " +
                                                   std::to_string(limit) + ")");
  if (start_after.size() > kMaxKeyBytes)
    return core::Error(Errc::invalid_argument,
                       "list start_after is longer than " + std::to_string(kMaxKeyBytes) + " bytes");
  return core::ok();
}

core::Result<PutOptions> check_put(std::string_view key, std::uint64_t size, const PutOptions& options,
                                   std::uint64_t max_object_bytes) {
  CARTORIO_TRY_VOID(check_key(key));
  if (size > max_object_bytes)
    return core::Error(Errc::invalid_argument, "object " + shown(key) + " is " + std::to_string(size) +
                                                   " bytes, the limit is " + std::to_string(max_object_bytes));
  CARTORIO_TRY_VOID(check_content_type(options.content_type));
  CARTORIO_TRY_VOID(check_metadata(options.metadata));
  if (!options.sha256_hex.empty() &&
      (options.sha256_hex.size() != 64 ||
       options.sha256_hex.find_first_not_of("0123456789abcdef") != std::string::npos))
    return core::Error(Errc::invalid_argument, "sha256_hex must be 64 lowercase hex digits");
  PutOptions checked = options;
  if (checked.content_type.empty()) checked.content_type = std::string(kDefaultContentType);
  return checked;
}

std::string etag_of(std::string_view data) { return crypto::to_hex(crypto::sha256(crypto::as_bytes(data))); }

}  // namespace cartorio::objectstore
