// What only the S3 backend can show: its XML and date parsing and query signing rules (no
// server: S3Xml.*), and against the fixture's real server (S3ObjectStore.*, fixture `s3`):
// credentials checked, retries giving up on a dead endpoint, multipart uploads, objects
// this store did not write, and the versioning it switches on.
#include "objectstore/s3/s3_object_store.h"
#include "objectstore/s3/s3_xml.h"

#include "object_store_backends.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

namespace {

using cartorio::core::Errc;
using namespace cartorio::objectstore;
using cartorio::objectstore_test::S3Fixture;
using cartorio::objectstore_test::unique_prefix;

TEST(S3Xml, ListObjectsV2_ReadsKeysSizesAndTimes) {
  auto r = s3::parse_list_objects_v2(
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Name>b</Name><IsTruncated>true</IsTruncated>)"
      R"(<Contents><Key>a/b</Key><LastModified>2026-12-02T04:45:07.123Z</LastModified><Size>42</Size></Contents>)"
      R"(<Contents><Key>c</Key><LastModified>2026-12-02T04:45:08Z</LastModified><Size>0</Size></Contents>)"
      R"(</ListBucketResult>)");
  ASSERT_OK(r);
  EXPECT_TRUE(r->truncated);
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].key, "a/b");
  EXPECT_EQ(r->objects[0].size, 42u);
  EXPECT_EQ(cartorio::core::to_unix(r->objects[0].last_modified), 1796186707);
  EXPECT_EQ(cartorio::core::to_unix(r->objects[1].last_modified), 1796186708);
}

TEST(S3Xml, ListVersions_KeepsVersionsAndMarkersInOrder) {
  auto r = s3::parse_list_versions(
      R"(<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker>)"
      R"(<NextVersionIdMarker>1.1</NextVersionIdMarker>)"
      R"(<DeleteMarker><Key>k</Key><VersionId>3.3</VersionId><IsLatest>true</IsLatest>)"
      R"(<LastModified>2026-01-01T00:00:03.000Z</LastModified></DeleteMarker>)"
      R"(<Version><Key>k</Key><VersionId>2.2</VersionId><IsLatest>false</IsLatest>)"
      R"(<LastModified>2026-01-01T00:00:02.000Z</LastModified><Size>5</Size></Version>)"
      R"(<Version><Key>k</Key><VersionId>1.1</VersionId><IsLatest>false</IsLatest>)"
      R"(<LastModified>2026-01-01T00:00:01.000Z</LastModified><Size>7</Size></Version>)"
      R"(</ListVersionsResult>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->versions.size(), 3u);
  EXPECT_TRUE(r->versions[0].delete_marker);
  EXPECT_TRUE(r->versions[0].is_latest);
  EXPECT_EQ(r->versions[1].version_id, "2.2");
  EXPECT_EQ(r->versions[2].size, 7u);
  EXPECT_EQ(r->next_key_marker, "k");
  EXPECT_EQ(r->next_version_id_marker, "1.1");
}

TEST(S3Xml, RefusesWhatItCannotRead) {
  EXPECT_ERRC(s3::parse_list_objects_v2("<not xml"), Errc::store_error);
  EXPECT_ERRC(s3::parse_list_objects_v2("<Other/>"), Errc::store_error);
  EXPECT_ERRC(s3::parse_list_objects_v2("<ListBucketResult><Contents><Key>a</Key><Size>x</Size>"
                                        "<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>"),
              Errc::store_error);
  EXPECT_ERRC(s3::parse_list_versions("<ListVersionsResult><Version><Key>a</Key></Version></ListVersionsResult>"),
              Errc::store_error);
  EXPECT_ERRC(s3::parse_upload_id("<InitiateMultipartUploadResult/>"), Errc::store_error);
}

TEST(S3Xml, Errors_AndVersioningState) {
  auto e = s3::parse_error("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "gone");
  EXPECT_FALSE(s3::parse_error("<ListBucketResult/>"));
  EXPECT_TRUE(s3::versioning_enabled(std::string(s3::kEnableVersioningBody)));
  EXPECT_FALSE(s3::versioning_enabled("<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"));
  EXPECT_FALSE(s3::versioning_enabled("<VersioningConfiguration/>"));
}

TEST(S3Xml, Dates) {
  auto t = s3::parse_http_date("Wed, 02 Dec 2026 04:45:07 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(cartorio::core::to_unix(*t), 1796186707);
  EXPECT_FALSE(s3::parse_http_date("Wed, 02 Foo 2026 04:45:07 GMT"));
  EXPECT_FALSE(s3::parse_http_date("2026-12-02T04:45:07Z"));
  EXPECT_FALSE(s3::parse_iso8601("2026-13-02T04:45:07Z"));
  EXPECT_FALSE(s3::parse_iso8601("2026-12-02 04:45:07Z"));
  EXPECT_FALSE(s3::parse_iso8601("2026-12-02T04:45:07.x1Z"));
}

TEST(S3Xml, CompleteMultipartBody_NumbersPartsInOrder) {
  EXPECT_EQ(s3::complete_multipart_body({"\"e1\"", "\"e2\""}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part></CompleteMultipartUpload>");
}

TEST(S3Xml, Query_IsSortedAndPercentEncoded_AsSigV4Signs) {
  EXPECT_EQ(s3::S3Query().add("prefix", "a/b c+ü").add("list-type", "2").add("versions").str(),
            "?list-type=2&prefix=a%2Fb%20c%2B%C3%BC&versions=");
  EXPECT_EQ(s3::S3Query().str(), "");
  EXPECT_EQ(s3::percent_encode("AZaz09-_.~"), "AZaz09-_.~");
}

TEST(S3Options, Open_RefusesBadOptions_WithoutCallingTheServer) {
  S3ObjectStoreOptions o;
  o.client = {.endpoint = "http://127.0.0.1:1", .access_key = "a", .secret_key = "s"};
  o.bucket = "ok-bucket";
  auto with = [&](auto change) {
    auto copy = o;
    change(copy);
    return S3ObjectStore::open(std::move(copy));
  };
  EXPECT_ERRC(with([](auto& c) { c.bucket = "B"; }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.bucket = "under_score"; }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.client.endpoint = "ftp://x"; }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.client.endpoint = "http://x/path/"; }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.client.secret_key.clear(); }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.key_prefix = "no-slash"; }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.key_prefix = "../x/"; }), Errc::config_invalid);
  EXPECT_ERRC(with([](auto& c) { c.multipart_threshold = 1; c.part_size = 2; }), Errc::config_invalid);
}

// A loopback port with nothing listening: bound, never listened on, then closed.
int dead_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(S3Options, Open_OnADeadEndpoint_IsUnavailable_AfterItsRetries) {
  S3ObjectStoreOptions o;
  o.client = {.endpoint = "http://127.0.0.1:" + std::to_string(dead_port()),
              .access_key = "a",
              .secret_key = "s",
              .max_attempts = 3,
              .initial_backoff = std::chrono::milliseconds(1)};
  o.bucket = "ok-bucket";
  auto r = S3ObjectStore::open(std::move(o));
  EXPECT_ERRC(r, Errc::store_unavailable);
}

class S3ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = S3Fixture::from_env();
    ASSERT_OK(f);
    m_fixture = *f;
  }
  std::unique_ptr<S3ObjectStore> open(S3ObjectStoreOptions o) {
    auto s = S3ObjectStore::open(std::move(o));
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
  }
  s3::S3Response raw(const s3::S3Request& r) {
    s3::S3Client client(m_fixture.options("x", "").client);
    auto out = client.perform(r);
    EXPECT_TRUE(out) << out.error().to_string();
    return out ? *out : s3::S3Response{};
  }
  S3Fixture m_fixture;
};

TEST_F(S3ObjectStoreTest, WrongSecret_IsRefusedByTheServer) {
  auto o = m_fixture.options("cartorio-s3-tests", unique_prefix("secret"));
  o.client.secret_key = "not-the-secret";
  auto r = S3ObjectStore::open(std::move(o));
  EXPECT_ERRC(r, Errc::store_unavailable);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("403"), std::string::npos) << r.error().message;
}

TEST_F(S3ObjectStoreTest, Open_CreatesTheBucket_WithVersioningOn) {
  const std::string bucket = "cartorio-made-" + std::to_string(std::random_device{}() % 100000000);
  auto store = open(m_fixture.options(bucket, ""));
  ASSERT_TRUE(store);
  auto state = raw({.method = "GET", .path = "/" + bucket, .query = s3::S3Query().add("versioning").str()});
  EXPECT_EQ(state.status, 200);
  EXPECT_TRUE(s3::versioning_enabled(state.body)) << state.body;
  ASSERT_OK(store->check());
  EXPECT_EQ(store->backend_name(), "s3");
  auto again = open(m_fixture.options(bucket, ""));  // a second instance finds it ready
  EXPECT_TRUE(again);
}

TEST_F(S3ObjectStoreTest, Open_WithoutCreate_RefusesAMissingBucket) {
  auto o = m_fixture.options("cartorio-absent-bucket", "");
  o.create_bucket = false;
  EXPECT_ERRC(S3ObjectStore::open(std::move(o)), Errc::config_invalid);
}

TEST_F(S3ObjectStoreTest, LargeObjects_GoUpInParts_AndRoundTrip) {
  auto o = m_fixture.options("cartorio-s3-tests", unique_prefix("multipart"));
  o.part_size = 64 * 1024;  // the fixture allows small parts (min_segment_size = 1)
  o.multipart_threshold = 128 * 1024;
  auto store = open(std::move(o));
  ASSERT_TRUE(store);
  std::string data(300 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) >> 3);
  PutOptions p;
  p.content_type = "application/pdf";
  p.metadata = {{"document-id", "d1"}};
  auto put = store->put("docs/big.pdf", data, p);
  ASSERT_OK(put);
  EXPECT_EQ(put->etag, etag_of(data));
  EXPECT_EQ(put->size, data.size());
  auto got = store->get("docs/big.pdf");
  ASSERT_OK(got);
  EXPECT_EQ(got->data, data);
  EXPECT_EQ(got->info.content_type, "application/pdf");
  EXPECT_EQ(got->info.metadata, p.metadata);
  EXPECT_EQ(got->info.version_id, put->version_id);
  // put_if_absent above the threshold takes the versions protocol, and still has one winner.
  auto again = store->put_if_absent("docs/big.pdf", data);
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  auto first = store->put_if_absent("docs/other.pdf", data);
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
}

TEST_F(S3ObjectStoreTest, ObjectsItDidNotWrite_OrAltered_AreStoreErrors) {
  const std::string prefix = unique_prefix("foreign");
  auto store = open(m_fixture.options("cartorio-s3-tests", prefix));
  ASSERT_TRUE(store);
  const std::string path = "/cartorio-s3-tests/" + prefix;
  // No SHA-256 metadata: another program's object.
  EXPECT_EQ(raw({.method = "PUT", .path = path + "foreign", .body = "hello"}).status, 200);
  EXPECT_ERRC(store->get("foreign"), Errc::store_error);
  EXPECT_ERRC(store->head("foreign"), Errc::store_error);
  // A SHA-256 that is not the bytes': altered behind the store's back.
  EXPECT_EQ(raw({.method = "PUT",
                 .path = path + "altered",
                 .headers = {{"x-amz-meta-sha256", etag_of("original")}},
                 .body = "altered"})
                .status,
            200);
  ASSERT_OK(store->head("altered"));
  EXPECT_ERRC(store->get("altered"), Errc::store_error);
  // Keys in the bucket the contract cannot name are not listed.
  EXPECT_EQ(raw({.method = "PUT", .path = path + "bad%20key", .body = "x"}).status, 200);
  auto page = store->list();
  ASSERT_OK(page);
  std::vector<std::string> keys;
  for (const auto& e : page->entries) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"altered", "foreign"}));
}

TEST_F(S3ObjectStoreTest, CallerMetadata_CannotShadowTheStoresOwn) {
  auto store = open(m_fixture.options("cartorio-s3-tests", unique_prefix("meta")));
  ASSERT_TRUE(store);
  PutOptions p;
  p.metadata = {{"sha256", std::string(64, '0')}};
  ASSERT_OK(store->put("k", "v", p));
  auto got = store->get("k");
  ASSERT_OK(got);
  EXPECT_EQ(got->info.etag, etag_of("v"));
  EXPECT_EQ(got->info.metadata, p.metadata);
}

}  // namespace
