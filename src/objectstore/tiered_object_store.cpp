#include "objectstore/tiered_object_store.h"

#include "objectstore/lifecycle.h"

namespace cartorio::objectstore {
using core::Errc;

namespace {

ObjectInfo shown(ObjectInfo info) {
  info.metadata.erase(std::string(kOriginalTimeMetadata));
  return info;
}

}  // namespace

TieredObjectStore::TieredObjectStore(std::unique_ptr<ObjectStore> hot, std::unique_ptr<ObjectStore> cold)
    : m_hot(std::move(hot)), m_cold(std::move(cold)) {}

core::Result<ObjectInfo> TieredObjectStore::put(std::string_view key, std::string_view data, const PutOptions& options) {
  return m_hot->put(key, data, options);
}

core::Result<bool> TieredObjectStore::put_if_absent(std::string_view key, std::string_view data,
                                                    const PutOptions& options) {
  CARTORIO_TRY_VOID(check_key(key));
  if (auto in_cold = m_cold->head(key); in_cold) {
    return false;
  } else if (in_cold.error().code != Errc::not_found) {
    return in_cold.error();
  }
  return m_hot->put_if_absent(key, data, options);
}

core::Result<Object> TieredObjectStore::get(std::string_view key) {
  auto hot = m_hot->get(key);
  if (hot || hot.error().code != Errc::not_found) return hot;
  CARTORIO_TRY(auto cold, m_cold->get(key));
  cold.info = shown(std::move(cold.info));
  return cold;
}

core::Result<ObjectInfo> TieredObjectStore::head(std::string_view key) {
  auto hot = m_hot->head(key);
  if (hot || hot.error().code != Errc::not_found) return hot;
  CARTORIO_TRY(auto cold, m_cold->head(key));
  return shown(std::move(cold));
}

core::Result<bool> TieredObjectStore::erase(std::string_view key) {
  CARTORIO_TRY(const bool hot, m_hot->erase(key));
  CARTORIO_TRY(const bool cold, m_cold->erase(key));
  return hot || cold;
}

core::Result<ListPage> TieredObjectStore::list(std::string_view prefix, std::size_t limit, std::string_view start_after) {
  CARTORIO_TRY(auto hot, m_hot->list(prefix, limit, start_after));
  CARTORIO_TRY(auto cold, m_cold->list(prefix, limit, start_after));
  // Merge two sorted pages; a key in both tiers is the hot one. Only keys up to the end
  // of a truncated page are certain (the next page may hold smaller keys of the other).
  ListPage out;
  auto h = hot.entries.begin(), c = cold.entries.begin();
  while (out.entries.size() < limit && (h != hot.entries.end() || c != cold.entries.end())) {
    if (c == cold.entries.end() || (h != hot.entries.end() && h->key <= c->key)) {
      if (c != cold.entries.end() && c->key == h->key) ++c;
      out.entries.push_back(std::move(*h++));
    } else {
      out.entries.push_back(std::move(*c++));
    }
  }
  out.truncated = h != hot.entries.end() || c != cold.entries.end() || hot.truncated || cold.truncated;
  if (out.truncated) {
    // A truncated tier's page ends at its last key: nothing past it is known yet.
    std::string bound;
    if (hot.truncated) bound = hot.entries.back().key;
    if (cold.truncated && (bound.empty() || cold.entries.back().key < bound)) bound = cold.entries.back().key;
    while (!bound.empty() && !out.entries.empty() && out.entries.back().key > bound) out.entries.pop_back();
    if (out.entries.empty()) return core::Error(Errc::store_error, "tiered listing made no progress");
    out.next_start_after = out.entries.back().key;
  }
  return out;
}

core::Result<VersionPage> TieredObjectStore::list_versions(std::string_view key, std::size_t limit,
                                                           std::string_view after_version) {
  return m_hot->list_versions(key, limit, after_version);
}

core::Result<Object> TieredObjectStore::get_version(std::string_view key, std::string_view version_id) {
  return m_hot->get_version(key, version_id);
}

core::Result<bool> TieredObjectStore::erase_version(std::string_view key, std::string_view version_id) {
  return m_hot->erase_version(key, version_id);
}

core::Result<ListPage> TieredObjectStore::list_versioned_keys(std::string_view prefix, std::size_t limit,
                                                              std::string_view start_after) {
  return m_hot->list_versioned_keys(prefix, limit, start_after);
}

core::Result<void> TieredObjectStore::check() {
  CARTORIO_TRY_VOID(m_hot->check());
  return m_cold->check();
}

std::string TieredObjectStore::backend_name() const { return m_hot->backend_name() + "+cold:" + m_cold->backend_name(); }

}  // namespace cartorio::objectstore
