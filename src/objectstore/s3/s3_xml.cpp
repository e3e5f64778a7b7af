#include "objectstore/s3/s3_xml.h"

#include <pugixml.hpp>

#include <charconv>
#include <cstring>
#include <ctime>

namespace cartorio::objectstore::s3 {
using core::Errc;

namespace {

core::Result<pugi::xml_document> load(std::string_view body, std::string_view what) {
  pugi::xml_document doc;
  // No DOCTYPE processing exists in pugixml: entity expansion attacks cannot apply.
  const auto r = doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) return core::Error(Errc::store_error, "S3 " + std::string(what) + ": malformed XML (" + r.description() + ")");
  return doc;
}

std::string text_of(const pugi::xml_node& n, const char* child) { return n.child(child).text().as_string(); }

core::Result<std::uint64_t> number(const pugi::xml_node& n, const char* child, std::string_view what) {
  const std::string s = text_of(n, child);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return core::Error(Errc::store_error, "S3 " + std::string(what) + ": bad <" + child + ">");
  return v;
}

core::Result<core::TimePoint> time_of(const pugi::xml_node& n, std::string_view what) {
  auto t = parse_iso8601(text_of(n, "LastModified"));
  if (!t) return core::Error(Errc::store_error, "S3 " + std::string(what) + ": bad <LastModified>");
  return *t;
}

bool is_true(const pugi::xml_node& n, const char* child) { return text_of(n, child) == "true"; }

std::optional<int> digits(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<core::TimePoint> from_fields(int year, int month, int day, int hour, int min, int sec) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return core::from_unix(static_cast<long long>(timegm(&tm)));
}

}  // namespace

std::optional<S3ErrorBody> parse_error(std::string_view body) {
  auto doc = load(body, "error");
  if (!doc) return std::nullopt;
  auto e = doc->child("Error");
  if (!e) return std::nullopt;
  return S3ErrorBody{text_of(e, "Code"), text_of(e, "Message")};
}

core::Result<ListObjectsResult> parse_list_objects_v2(std::string_view body) {
  constexpr std::string_view what = "ListObjectsV2";
  CARTORIO_TRY(auto doc, load(body, what));
  auto root = doc.child("ListBucketResult");
  if (!root) return core::Error(Errc::store_error, "S3 ListObjectsV2: no <ListBucketResult>");
  ListObjectsResult out;
  out.truncated = is_true(root, "IsTruncated");
  for (auto c : root.children("Contents")) {
    ListedObject o;
    o.key = text_of(c, "Key");
    if (o.key.empty()) return core::Error(Errc::store_error, "S3 ListObjectsV2: an entry without <Key>");
    CARTORIO_TRY(o.size, number(c, "Size", what));
    CARTORIO_TRY(o.last_modified, time_of(c, what));
    out.objects.push_back(std::move(o));
  }
  return out;
}

core::Result<ListVersionsResult> parse_list_versions(std::string_view body) {
  constexpr std::string_view what = "ListObjectVersions";
  CARTORIO_TRY(auto doc, load(body, what));
  auto root = doc.child("ListVersionsResult");
  if (!root) return core::Error(Errc::store_error, "S3 ListObjectVersions: no <ListVersionsResult>");
  ListVersionsResult out;
  out.truncated = is_true(root, "IsTruncated");
  out.next_key_marker = text_of(root, "NextKeyMarker");
  out.next_version_id_marker = text_of(root, "NextVersionIdMarker");
  // Versions and delete markers are siblings interleaved in list order: walk them together.
  for (auto c : root.children()) {
    const bool marker = std::strcmp(c.name(), "DeleteMarker") == 0;
    if (!marker && std::strcmp(c.name(), "Version") != 0) continue;
    ListedVersion v;
    v.key = text_of(c, "Key");
    v.version_id = text_of(c, "VersionId");
    if (v.key.empty() || v.version_id.empty())
      return core::Error(Errc::store_error, "S3 ListObjectVersions: an entry without <Key> or <VersionId>");
    v.delete_marker = marker;
    v.is_latest = is_true(c, "IsLatest");
    if (!marker) {
      CARTORIO_TRY(v.size, number(c, "Size", what));
    }
    CARTORIO_TRY(v.last_modified, time_of(c, what));
    out.versions.push_back(std::move(v));
  }
  return out;
}

core::Result<std::string> parse_upload_id(std::string_view body) {
  CARTORIO_TRY(auto doc, load(body, "CreateMultipartUpload"));
  std::string id = text_of(doc.child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) return core::Error(Errc::store_error, "S3 CreateMultipartUpload: no <UploadId>");
  return id;
}

std::string complete_multipart_body(const std::vector<std::string>& part_etags) {
  pugi::xml_document doc;
  auto root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (std::size_t i = 0; i < part_etags.size(); ++i) {
    const unsigned long long number = i + 1;  // S3 numbers parts from 1
    auto part = root.append_child("Part");
    part.append_child("PartNumber").text().set(number);
    part.append_child("ETag").text().set(part_etags[i].c_str());
  }
  struct Writer : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
  } w;
  doc.save(w, "", pugi::format_raw | pugi::format_no_declaration);
  return w.out;
}

bool versioning_enabled(std::string_view body) {
  auto doc = load(body, "GetBucketVersioning");
  return doc && text_of(doc->child("VersioningConfiguration"), "Status") == "Enabled";
}

std::optional<core::TimePoint> parse_iso8601(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t.back() != 'Z')
    return std::nullopt;
  auto y = digits(t.substr(0, 4)), mo = digits(t.substr(5, 2)), d = digits(t.substr(8, 2));
  auto h = digits(t.substr(11, 2)), mi = digits(t.substr(14, 2)), s = digits(t.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  const auto frac = t.substr(19, t.size() - 20);
  if (!frac.empty() && (frac[0] != '.' || !digits(frac.substr(1)))) return std::nullopt;
  return from_fields(*y, *mo, *d, *h, *mi, *s);
}

std::optional<core::TimePoint> parse_http_date(std::string_view t) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (t.size() != 29 || t.substr(3, 2) != ", " || t.substr(25) != " GMT") return std::nullopt;
  auto d = digits(t.substr(5, 2)), y = digits(t.substr(12, 4));
  auto h = digits(t.substr(17, 2)), mi = digits(t.substr(20, 2)), s = digits(t.substr(23, 2));
  int month = 0;
  for (int i = 0; i < 12; ++i)
    if (t.substr(8, 3) == kMonths[i]) month = i + 1;
  if (!d || !y || !h || !mi || !s || month == 0 || t[7] != ' ' || t[11] != ' ' || t[16] != ' ') return std::nullopt;
  return from_fields(*y, month, *d, *h, *mi, *s);
}

}  // namespace cartorio::objectstore::s3
