// The backends the ObjectStore conformance suite runs on. A backend object is one empty
// namespace (a temp dir; for S3, a fresh bucket or key prefix): every test starts with no
// objects, and each open() reaches the same objects, so a reopened store sees them.
//
// To add a backend (S3 next): a class with kBackendName, prepare() (fail, never skip, when
// its server is missing), open(OpenOptions) and now() (the clock that dates its puts), then
// one line in the Backends list of object_store_conformance_test.cpp.
#pragma once

#include "core/clock.h"
#include "objectstore/fs/filesystem_object_store.h"
#include "objectstore/object_store.h"

#include "support/test_support.h"

#include <memory>

namespace cartorio::objectstore_test {

struct OpenOptions {
  std::uint64_t max_object_bytes = objectstore::kDefaultMaxObjectBytes;
};

class FilesystemBackend {
 public:
  static constexpr const char* kBackendName = "filesystem";
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

}  // namespace cartorio::objectstore_test
