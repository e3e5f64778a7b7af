// The filesystem ObjectStore, the embedded default: one file per object under a root
// directory. docs/objectstore.md ("Filesystem backend") shows the layout.
//
// Layout: key "a/b/c" is the file <root>/a/b/c#obj; key segments become directories, the
// last one a file with the "#obj" suffix. '#' is not a key character, so an object file
// never collides with a directory ("a" and "a/b" coexist), nor with the temporary files
// ("#tmp.<random>") writers stage beside their target, which list/get never show.
//
// One file holds header and data: a line "cartorio-object 1", a one-line JSON header (key,
// size, sha256, content type, last_modified, metadata), then the bytes. A put writes a
// temporary file, fsyncs it, renames it over the target (put_if_absent links it, which
// fails when the target exists) and fsyncs the directory: a crash leaves the old object or
// the new one, header and data always together, plus at worst a stale temporary file
// (remove_stale_temp_files sweeps those).
//
// Safety: every path step is an openat() relative to the root's descriptor with O_NOFOLLOW,
// so a symbolic link planted inside the root is never followed (Errc::store_error), and a
// checked key cannot name anything outside it. Directories are created 0700, files 0600.
// The header repeats the key and the SHA-256, and get() verifies both, so a file copied to
// another name or altered on disk is reported (Errc::store_error), never served.
//
// Thread-safety: no lock; each call works on its own descriptors, and rename/link make each
// change atomic, so threads and processes may share one root. Empty directories left by
// erase() are removed; a put racing with that removal retries.
#pragma once

#include "core/clock.h"
#include "core/files.h"
#include "objectstore/object_store.h"

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>

namespace cartorio::objectstore {

namespace detail {
struct KeyPath;    // a key split into directory names and the object file name
struct ListQuery;  // prefix, start_after and how many entries a listing still wants
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
  // The root is still the directory opened (not removed or replaced) and a file can be
  // created in it; Errc::store_unavailable otherwise.
  core::Result<void> check() override;
  std::string backend_name() const override { return "filesystem"; }

  // Deletes temporary files older than min_age (by their mtime and the system clock) that
  // crashed writers left behind; returns how many. min_age protects puts in flight.
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
  // The info written, or nullopt when create_only found the key taken.
  core::Result<std::optional<ObjectInfo>> write_object(std::string_view key, std::string_view data,
                                                       const PutOptions& options, WriteMode mode);
  core::Result<bool> write_once(const detail::KeyPath& path, std::string_view header, std::string_view data,
                                WriteMode mode) const;
  void prune_empty_dirs(const DirChain& chain, const detail::KeyPath& path) const;
  core::Result<void> list_dir(int dirfd, const std::string& base, const detail::ListQuery& q,
                              std::vector<ListEntry>& out) const;
  core::Result<std::size_t> sweep_dir(int dirfd, const std::string& base, std::chrono::seconds min_age) const;

  const FilesystemObjectStoreOptions m_options;
  const core::Clock& m_clock;
  const std::unique_ptr<core::UniqueFd> m_root;  // a pointer: UniqueFd cannot move
};

}  // namespace cartorio::objectstore
