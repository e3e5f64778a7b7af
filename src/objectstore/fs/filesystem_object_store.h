// The filesystem ObjectStore, the embedded default: one file per object version under a
// root directory. docs/objectstore.md ("Filesystem backend") shows the layout.
//
// Layout: key "a/b/c" lives in the directory <root>/a/b: key segments become directories,
// and the last one names the key's files there, each with a suffix. '#' is not a key
// character, so these never collide with a directory ("a" and "a/b" coexist) nor with one
// another:
//   c#obj     the key's current state: its newest version, an object or a delete marker;
//             present whenever the key has any version (so "c#obj" missing = no versions)
//   c#v/      the noncurrent versions and delete markers, one file per version named by
//             its id (a directory, not "c#v.<id>" files: a 250-byte segment plus a
//             29-byte id would pass NAME_MAX); created by the first put or erase that
//             keeps a version, removed when it empties
//   c#lock    the writers' lock (below); present only while a write runs (or after a
//             crash, swept by remove_stale_temp_files)
//   #tmp.<random>  a file a writer stages beside its target
// list() shows keys whose "#obj" is an object; list_versioned_keys() also those whose
// "#obj" is a delete marker.
//
// One file holds header and data: a line "cartorio-object 1", a one-line JSON header (key,
// size, sha256, content type, last_modified, metadata, version_id; a delete marker has key,
// size 0, version_id, last_modified and "delete_marker":true and no data), then the bytes.
// A file without "version_id" (written before versions existed) is version "null", the
// oldest.
//
// Version ids: "<20 digits>.<8 hex>": microseconds since the epoch by the injected clock,
// raised to one more than the key's newest version when the clock has not moved past it,
// then 32 random bits. Fixed width, so byte order is age order ("null" sorts first); ids
// of a key are strictly increasing, and the random part keeps an id from being handed out
// again after erase_version() removed the newest version and the clock stood still.
//
// Writers (put, put_if_absent, erase, erase_version) of one key serialise on "c#lock":
// open (O_CREAT|O_NOFOLLOW, 0600), flock(LOCK_EX), check the name still names the file
// locked (else retry), work, unlink the name, close. Unlinking under the lock keeps the
// directory free of lock files and prunable, and is safe: a waiter that then gets the
// unlinked file sees the name gone and starts over. Readers take no lock.
//
// Every change of the current state is one atomic rename over "c#obj", and the version it
// replaces is first hard-linked into "c#v/" (fsynced) under its id:
//   put            link #obj -> #v/<its id>; stage the new file; rename it over #obj
//   put_if_absent  the same, when #obj is missing or a delete marker (else nothing)
//   erase          link #obj -> #v/<its id>; stage a delete marker; rename it over #obj
//   erase_version  of a noncurrent one: unlink #v/<id>. Of the current one: rename the
//                  newest of #v/ over #obj (it becomes current), or unlink #obj when #v/
//                  is empty (the key is gone; its empty directories are pruned)
// Then the directories are fsynced. A crash leaves the state before or after, plus at
// worst a staged file (swept) and a "twin": #v/<id> linking the same file as #obj, from a
// put or erase that died between its link and its rename. A twin is the current version
// (listed once, as the latest) and the next write of the key takes it over.
//
// Readers see the old state or the new, never a mix: get/head/list open "#obj" once and
// read header and data from that descriptor. get_version() looks at "#obj", then
// "#v/<id>"; list_versions() reads "#obj", then "#v/" and its page's headers. A version
// moves between the two only along with a change of "#obj", so such a look counts only
// when "#obj" is still the same file (inode and version id) afterwards, and is made again
// otherwise: a version nobody erases is always found, whatever moves around it.
//
// Safety: every path step is an openat() relative to the root's descriptor with O_NOFOLLOW,
// so a symbolic link planted inside the root is never followed (Errc::store_error), and a
// checked key cannot name anything outside it; version ids are used as file names only in
// the backend's own format (others are not found). Directories are created 0700, files
// 0600. The header repeats the key, the version id and the SHA-256, and get() verifies
// them, so a file copied to another name or altered on disk is reported (Errc::store_error),
// never served. A symbolic link or other non-file planted as "#obj" is not a version: put()
// replaces it, put_if_absent() sees the key taken, erase() and list_versions() report it. A
// "#obj" whose header is damaged cannot be filed under its id: put(), put_if_absent() and
// erase() refuse it (Errc::store_error) rather than destroy it.
#pragma once

#include "core/clock.h"
#include "core/files.h"
#include "objectstore/object_store.h"

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <type_traits>

namespace cartorio::objectstore {

namespace detail {
struct KeyPath;    // a key split into directory names and the names of its files
struct ListQuery;  // prefix, start_after and how many entries a listing still wants
class KeyLock;     // the per-key writers' lock ("#lock")
}  // namespace detail

struct FilesystemObjectStoreOptions {
  std::filesystem::path root;                           // created (0700) when missing
  std::uint64_t max_object_bytes = kDefaultMaxObjectBytes;  // larger puts -> invalid_argument
};

class FilesystemObjectStore final : public ObjectStore {
  struct PassKey {};  // only open() constructs: the root must be opened first

 public:
  // Creates the root when missing and keeps a descriptor on it; the clock dates puts and
  // must outlive the store. Errc::config_invalid for an empty root or a zero size limit,
  // Errc::io_error when the root cannot be created or opened as a directory.
  static core::Result<std::unique_ptr<FilesystemObjectStore>> open(FilesystemObjectStoreOptions options,
                                                                   const core::Clock& clock);

  FilesystemObjectStore(PassKey, FilesystemObjectStoreOptions options, const core::Clock& clock,
                        std::unique_ptr<core::UniqueFd> root);
  FilesystemObjectStore(const FilesystemObjectStore&) = delete;  // owns the root descriptor
  FilesystemObjectStore& operator=(const FilesystemObjectStore&) = delete;

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
  // The root is still the directory opened (not removed or replaced) and a file can be
  // created in it; Errc::store_unavailable otherwise.
  core::Result<void> check() override;
  std::string backend_name() const override { return "filesystem"; }

  // Deletes what crashed writers left behind: staged files older than min_age (by their
  // mtime and the system clock; min_age protects puts in flight) and lock files nobody
  // holds (taken with LOCK_NB first, so a running writer keeps its lock). Returns how many.
  core::Result<std::size_t> remove_stale_temp_files(std::chrono::seconds min_age = std::chrono::hours(1));

  const std::filesystem::path& root() const { return m_options.root; }

 private:
  // Descriptors of the directories on a key's path, outermost first; the root's is borrowed.
  struct DirChain {
    int root = -1;
    std::deque<core::UniqueFd> dirs;  // a deque: UniqueFd cannot move, deque never moves elements
    int innermost() const { return dirs.empty() ? root : dirs.back().get(); }
    int parent_of(std::size_t i) const { return i == 0 ? root : dirs[i - 1].get(); }
  };
  enum class WriteMode { replace, create_only };

  core::Result<DirChain> open_dirs(const detail::KeyPath& path, bool create) const;
  // Runs body(chain, lock) with the key's directory open and its lock held, starting over
  // from the root when a concurrent erase_version() pruned the directory meanwhile. With
  // create false, Errc::not_found when a directory of the key is missing.
  template <class Body>
  auto with_key_locked(const detail::KeyPath& path, bool create, Body&& body)
      -> std::invoke_result_t<Body&, const DirChain&, detail::KeyLock&>;
  // The info written, or nullopt when create_only found the key taken.
  core::Result<std::optional<ObjectInfo>> write_object(std::string_view key, std::string_view data,
                                                       const PutOptions& options, WriteMode mode);
  core::Result<std::optional<ObjectInfo>> write_locked(int dir, const detail::KeyPath& path, std::string_view data,
                                                       PutOptions checked, WriteMode mode);
  void prune_empty_dirs(const DirChain& chain, const detail::KeyPath& path) const;
  core::Result<ListPage> list_keys(std::string_view prefix, std::size_t limit, std::string_view start_after,
                                   bool with_deleted) const;
  core::Result<void> list_dir(int dirfd, const std::string& base, const detail::ListQuery& q,
                              std::vector<ListEntry>& out) const;
  core::Result<std::size_t> sweep_dir(int dirfd, const std::string& base, std::chrono::seconds min_age) const;

  const FilesystemObjectStoreOptions m_options;
  const core::Clock& m_clock;
  const std::unique_ptr<core::UniqueFd> m_root;  // a pointer: UniqueFd cannot move
};

}  // namespace cartorio::objectstore
