// TieredObjectStore: a hot store, and a cold tier the lifecycle job moves old objects to
// (objectstore/lifecycle.h). Writes go to the hot store. Reads of a key absent from the
// hot store (never written there, or moved: a delete marker) fall through to the cold
// tier, so a document keeps its download link after it moved. list() merges both tiers;
// erase() erases the key from both. Versions (list_versions, get_version, erase_version,
// list_versioned_keys) are the hot store's: the cold tier's are reached through cold().
// The lifecycle's bookkeeping metadata (kOriginalTimeMetadata) is not shown to callers.
#pragma once

#include "objectstore/object_store.h"

#include <memory>

namespace cartorio::objectstore {

class TieredObjectStore final : public ObjectStore {
 public:
  TieredObjectStore(std::unique_ptr<ObjectStore> hot, std::unique_ptr<ObjectStore> cold);

  core::Result<ObjectInfo> put(std::string_view key, std::string_view data, const PutOptions& options = {}) override;
  // Absent means absent from both tiers.
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
  std::string backend_name() const override;

  ObjectStore& hot() { return *m_hot; }
  ObjectStore& cold() { return *m_cold; }

 private:
  std::unique_ptr<ObjectStore> m_hot;
  std::unique_ptr<ObjectStore> m_cold;
};

}  // namespace cartorio::objectstore
