// The backends the ObjectStore conformance suite runs on. A backend object is one empty
// namespace (a temp dir; for S3, a fresh bucket or key prefix): every test starts with no
// objects, and each open() reaches the same objects, so a reopened store sees them.
//
// To add a backend: a class with kBackendName, prepare() (fail, never skip, when its
// server is missing), open(OpenOptions) and now() (the clock that dates its puts), then
// one line in the Backends list of object_store_conformance_test.cpp.
#pragma once

#include "core/clock.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "objectstore/object_store.h"
#include "objectstore/s3/s3_object_store.h"

#include "support/test_support.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>

namespace cartorio::objectstore_test {

struct OpenOptions {
  std::uint64_t max_object_bytes = objectstore::kDefaultMaxObjectBytes;
};

class FilesystemBackend {
 public:
  static constexpr const char* kBackendName = "filesystem";
  // How far after now() a put's last_modified may be: none, the clock dates it.
  static constexpr std::chrono::seconds kLastModifiedSlack{0};
  core::Result<void> prepare() { return core::ok(); }
  core::Result<std::unique_ptr<objectstore::ObjectStore>> open(const OpenOptions& o = {}) {
    CARTORIO_TRY(auto store, objectstore::FilesystemObjectStore::open({root(), o.max_object_bytes}, m_clock));
    return std::unique_ptr<objectstore::ObjectStore>(std::move(store));
  }
  core::TimePoint now() const { return m_clock.now(); }
  std::filesystem::path root() const { return m_dir / "objects"; }

 private:
  testing::TempDir m_dir;
  core::ManualClock m_clock{core::TimePoint(std::chrono::seconds(1'700'000'000))};
};

// The S3 fixture's server (tests/fixtures/s3-start; CTest's `s3` fixture), read from
// $CARTORIO_TEST_S3_DIR.
struct S3Fixture {
  std::string endpoint, access_key, secret_key, region;

  static core::Result<S3Fixture> from_env() {
    const char* dir = std::getenv("CARTORIO_TEST_S3_DIR");
    if (!dir || !*dir)
      return core::Error(core::Errc::not_found, "CARTORIO_TEST_S3_DIR is not set: run through ctest (fixture s3)");
    auto read = [&](const char* name) {
      std::ifstream in(std::filesystem::path(dir) / name);
      std::string line;
      std::getline(in, line);
      return line;
    };
    S3Fixture f{"http://" + read("endpoint"), read("access_key"), read("secret_key"), read("region")};
    if (f.endpoint == "http://" || f.access_key.empty())
      return core::Error(core::Errc::not_found, std::string("no S3 fixture in ") + dir);
    return f;
  }

  objectstore::S3ObjectStoreOptions options(std::string bucket, std::string prefix) const {
    objectstore::S3ObjectStoreOptions o;
    o.client.endpoint = endpoint;
    o.client.access_key = access_key;
    o.client.secret_key = secret_key;
    o.client.region = region;
    o.bucket = std::move(bucket);
    o.key_prefix = std::move(prefix);
    return o;
  }
};

inline std::string unique_prefix(std::string_view what) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  return std::string(what) + "-" + std::to_string(rd()) + "-" + std::to_string(counter++) + "/";
}

// Each backend object is a bucket of its own: the whole 1024-byte key space of the
// contract (a key prefix would use some of S3's 1024 bytes).
// A bucket name nobody else uses: DNS-style, at most 63 characters.
inline std::string unique_bucket(std::string_view what) {
  std::string name = unique_prefix(what);
  name.pop_back();  // the '/'
  return name;
}

class S3Backend {
 public:
  static constexpr const char* kBackendName = "s3";
  // Swift dates an object by the ceiling of its X-Timestamp: up to a second after the put.
  static constexpr std::chrono::seconds kLastModifiedSlack{1};
  core::Result<void> prepare() {
    CARTORIO_TRY(m_fixture, S3Fixture::from_env());
    return core::ok();
  }
  core::Result<std::unique_ptr<objectstore::ObjectStore>> open(const OpenOptions& o = {}) {
    auto options = m_fixture.options(m_bucket, "");
    options.max_object_bytes = o.max_object_bytes;
    CARTORIO_TRY(auto store, objectstore::S3ObjectStore::open(std::move(options)));
    return std::unique_ptr<objectstore::ObjectStore>(std::move(store));
  }
  // The server dates puts; it runs on this machine, so the system clock is its clock.
  core::TimePoint now() const { return std::chrono::system_clock::now(); }
  const S3Fixture& fixture() const { return m_fixture; }

 private:
  S3Fixture m_fixture;
  std::string m_bucket = unique_bucket("conformance");
};

}  // namespace cartorio::objectstore_test
