#include "objectstore/fs/filesystem_object_store.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace cartorio::objectstore {

using core::Errc;
using core::UniqueFd;

namespace detail {

struct KeyPath {
  std::string_view key;
  std::vector<std::string> dirs;  // directory names, outermost first
  std::string file;               // last segment + kObjectSuffix
};

struct ListQuery {
  std::string_view prefix;
  std::string_view start_after;
  std::size_t want = 0;  // limit + 1: one more than a page tells whether more follow
};

}  // namespace detail

namespace {

using detail::KeyPath;
using detail::ListQuery;

// '#' is not a key character: object files, directories and temporary files never collide.
constexpr std::string_view kObjectSuffix = "#obj";
constexpr std::string_view kTempPrefix = "#tmp.";
constexpr std::string_view kMagic = "cartorio-object 1\n";
// Bounds the header line: key (1 KiB) + metadata (2 KiB) + content type, JSON-escaped.
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
// A put whose directory a concurrent erase pruned starts over; this many in a row means
// something else keeps deleting the tree.
constexpr int kWriteAttempts = 16;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string in_quotes(std::string_view key) { return "\"" + std::string(key) + "\""; }

// `what` names the operation and the kind of thing `name` is ("cannot write object").
core::Error os_error(Errc code, const std::string& what, std::string_view name) {
  return {code, what + " " + in_quotes(name) + ": " + std::strerror(errno)};
}

core::Error absent(std::string_view key) { return {Errc::not_found, "no object " + in_quotes(key)}; }

core::Error damaged(std::string_view key, const std::string& why) {
  return {Errc::store_error, "object " + in_quotes(key) + " is damaged on disk: " + why};
}

// errno of a failed step along a key's directories.
core::Error dir_error(std::string_view key, const std::string& dir) {
  if (errno == ENOENT) return absent(key);
  if (errno == ELOOP || errno == ENOTDIR)
    return {Errc::store_error, "object " + in_quotes(key) + ": \"" + dir +
                                   "\" is not a directory (a symbolic link?); refusing to follow it"};
  return os_error(Errc::io_error, "cannot open directory \"" + dir + "\" of object", key);
}

// errno of a failed open of the object file itself.
core::Error file_error(std::string_view key) {
  if (errno == ENOENT) return absent(key);
  if (errno == ELOOP)
    return {Errc::store_error, "object " + in_quotes(key) + " is a symbolic link; refusing to follow it"};
  return os_error(Errc::io_error, "cannot open object", key);
}

KeyPath split_key(std::string_view key) {
  KeyPath p{key, {}, {}};
  std::size_t start = 0;
  for (std::size_t slash; (slash = key.find('/', start)) != std::string_view::npos; start = slash + 1)
    p.dirs.emplace_back(key.substr(start, slash - start));
  p.file = std::string(key.substr(start)) + std::string(kObjectSuffix);
  return p;
}

bool is_segment(std::string_view name) { return name.find('/') == std::string_view::npos && check_key(name); }

// --- the header ------------------------------------------------------------------------

std::string encode_header(const ObjectInfo& info) {
  const nlohmann::json j = {{"key", info.key},
                            {"size", info.size},
                            {"sha256", info.etag},
                            {"content_type", info.content_type},
                            {"last_modified", core::to_unix(info.last_modified)},
                            {"metadata", info.metadata}};
  return std::string(kMagic) + j.dump() + "\n";
}

// Parses the header at the start of `file`; header_len gets the bytes before the data.
core::Result<ObjectInfo> decode_header(std::string_view file, std::string_view key, std::size_t& header_len) {
  if (!file.starts_with(kMagic)) return damaged(key, "no object header");
  const std::size_t end = file.find('\n', kMagic.size());
  if (end == std::string_view::npos) return damaged(key, "the header line is not terminated");
  const auto j = nlohmann::json::parse(file.begin() + kMagic.size(), file.begin() + end, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return damaged(key, "the header is not a JSON object");
  ObjectInfo info;
  try {
    info.key = j.at("key").get<std::string>();
    info.size = j.at("size").get<std::uint64_t>();
    info.etag = j.at("sha256").get<std::string>();
    info.content_type = j.at("content_type").get<std::string>();
    info.last_modified = core::from_unix(j.at("last_modified").get<long long>());
    info.metadata = j.at("metadata").get<Metadata>();
  } catch (const nlohmann::json::exception& e) {
    return damaged(key, std::string("bad header field: ") + e.what());
  }
  // A file copied or renamed by hand must not serve as another key's object.
  if (info.key != key) return damaged(key, "its header names the key " + in_quotes(info.key));
  header_len = end + 1;
  return info;
}

// --- descriptors -----------------------------------------------------------------------

// Reads at most `max` bytes from the start of the file.
core::Result<std::string> read_prefix(int fd, std::size_t max, std::string_view key) {
  std::string out(max, '\0');
  std::size_t got = 0;
  while (got < max) {
    const ssize_t n = ::pread(fd, out.data() + got, max - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(Errc::io_error, "cannot read object", key);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

core::Result<void> write_all(int fd, std::string_view bytes, std::string_view key) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(Errc::io_error, "cannot write object", key);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return core::ok();
}

// The object file's size; a FIFO or device planted under an object's name is not ours.
core::Result<std::uint64_t> regular_file_size(int fd, std::string_view key) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error(Errc::io_error, "cannot stat object", key);
  if (!S_ISREG(st.st_mode)) return damaged(key, "not a regular file");
  return static_cast<std::uint64_t>(st.st_size);
}

// O_NONBLOCK: opening a FIFO planted under an object's name must not hang the caller.
int open_object_file(int dirfd, const std::string& name) {
  return ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

// Reads and checks the header of an open object file against the file's size.
core::Result<ObjectInfo> read_info(int fd, std::string_view key) {
  CARTORIO_TRY(const auto size, regular_file_size(fd, key));
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size, kMagic.size() + kMaxHeaderBytes));
  CARTORIO_TRY(const auto prefix, read_prefix(fd, want, key));
  std::size_t header_len = 0;
  CARTORIO_TRY(auto info, decode_header(prefix, key, header_len));
  if (header_len + info.size != size) return damaged(key, "its size differs from its header's");
  return info;
}

// A file staged beside its target; removed on every path out unless renamed into place.
class TempFile {
 public:
  explicit TempFile(int dirfd)
      : m_dirfd(dirfd),
        m_name(std::string(kTempPrefix) + crypto::to_hex(crypto::random_bytes(8))),
        m_fd(::openat(dirfd, m_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)),
        m_errno(m_fd.get() < 0 ? errno : 0) {}
  ~TempFile() {
    if (m_errno == 0 && !m_renamed) ::unlinkat(m_dirfd, m_name.c_str(), 0);
  }
  TempFile(const TempFile&) = delete;  // one owner removes the file
  TempFile& operator=(const TempFile&) = delete;

  bool created() const { return m_errno == 0; }
  int creation_errno() const { return m_errno; }
  int fd() const { return m_fd.get(); }
  const std::string& name() const { return m_name; }
  int close() { return m_fd.close(); }
  void renamed() { m_renamed = true; }

 private:
  int m_dirfd;
  std::string m_name;
  UniqueFd m_fd;
  int m_errno;
  bool m_renamed = false;
};

// --- directories -----------------------------------------------------------------------

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

enum class Kind { object, directory, temp };
struct DirItem {
  std::string name;
  std::string sort_key;  // a directory sorts as "name/": its keys all start with that
  Kind kind;
};

std::optional<Kind> classify(int dirfd, const dirent& e) {
  const std::string_view name = e.d_name;
  unsigned char type = e.d_type;
  if (type == DT_UNKNOWN) {  // some filesystems do not fill d_type
    struct stat st {};
    if (::fstatat(dirfd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
    type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
  }
  if (type == DT_DIR) return is_segment(name) ? std::optional(Kind::directory) : std::nullopt;
  if (type != DT_REG) return std::nullopt;  // symbolic links, FIFOs, sockets: never ours
  if (name.starts_with(kTempPrefix)) return Kind::temp;
  if (name.ends_with(kObjectSuffix) && is_segment(name.substr(0, name.size() - kObjectSuffix.size())))
    return Kind::object;
  return std::nullopt;
}

// The entries this backend wrote, in key order. Reads through a fresh descriptor: readdir
// moves the offset of the open file description, which other threads may share.
core::Result<std::vector<DirItem>> read_dir(int dirfd, std::string_view where) {
  const int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error(Errc::io_error, "cannot open directory", where);
  DirStream dir(::fdopendir(fd));
  if (!dir) {
    const int saved = errno;
    ::close(fd);  // fdopendir owns fd only on success
    errno = saved;
    return os_error(Errc::io_error, "cannot read directory", where);
  }
  std::vector<DirItem> items;
  for (;;) {
    errno = 0;  // readdir reports the end and errors alike with nullptr; errno tells them apart
    const dirent* e = ::readdir(dir.get());
    if (!e) break;
    const auto kind = classify(dirfd, *e);
    if (!kind) continue;
    std::string name = e->d_name;
    std::string sort_key = *kind == Kind::directory ? name + "/"
                           : *kind == Kind::object   ? name.substr(0, name.size() - kObjectSuffix.size())
                                                     : name;
    items.push_back({std::move(name), std::move(sort_key), *kind});
  }
  if (errno != 0) return os_error(Errc::io_error, "cannot read directory", where);
  std::sort(items.begin(), items.end(), [](const DirItem& a, const DirItem& b) { return a.sort_key < b.sort_key; });
  return items;
}

bool matches(std::string_view key, const ListQuery& q) { return key.starts_with(q.prefix) && key > q.start_after; }

// Whether keys starting with `dir` (ending in '/') can match: they share the prefix, and
// they are not all at or before start_after (true when dir < start_after, unless
// start_after itself lies inside dir).
bool may_hold_matches(std::string_view dir, const ListQuery& q) {
  if (!dir.starts_with(q.prefix) && !q.prefix.starts_with(dir)) return false;
  return dir > q.start_after || q.start_after.starts_with(dir);
}

// The entry for one object file; nullopt when it vanished since readdir (erased meanwhile).
core::Result<std::optional<ListEntry>> list_entry(int dirfd, const std::string& name, const std::string& key) {
  UniqueFd fd(open_object_file(dirfd, name));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<ListEntry>();
    return file_error(key);
  }
  CARTORIO_TRY(auto info, read_info(fd.get(), key));
  return std::optional(ListEntry{key, info.size, info.last_modified});
}

}  // namespace

// --- the store -------------------------------------------------------------------------

core::Result<std::unique_ptr<FilesystemObjectStore>> FilesystemObjectStore::open(FilesystemObjectStoreOptions options,
                                                                                 const core::Clock& clock) {
  if (options.root.empty()) return core::Error(Errc::config_invalid, "filesystem object store: root is not set");
  if (options.max_object_bytes == 0)
    return core::Error(Errc::config_invalid, "filesystem object store: max_object_bytes must be positive");
  CARTORIO_TRY_VOID(core::make_dirs(options.root.string(), 0700));
  auto root = std::make_unique<UniqueFd>(::open(options.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root->get() < 0)
    return core::Error(Errc::io_error, "filesystem object store: cannot open root " + options.root.string() + ": " +
                                           std::strerror(errno));
  return std::make_unique<FilesystemObjectStore>(PassKey{}, std::move(options), clock, std::move(root));
}

FilesystemObjectStore::FilesystemObjectStore(PassKey, FilesystemObjectStoreOptions options, const core::Clock& clock,
                                             std::unique_ptr<core::UniqueFd> root)
    : m_options(std::move(options)), m_clock(clock), m_root(std::move(root)) {}

// Opens each directory on the key's path, creating missing ones when asked, never
// following a link. Errc::not_found when one is missing (or vanished while creating).
core::Result<FilesystemObjectStore::DirChain> FilesystemObjectStore::open_dirs(const KeyPath& path, bool create) const {
  DirChain chain;
  chain.root = m_root->get();
  for (const auto& dir : path.dirs) {
    const int parent = chain.innermost();
    if (create) {
      if (::mkdirat(parent, dir.c_str(), 0700) == 0) {
        // The new entry must survive a crash along with the object put inside it.
        if (::fsync(parent) != 0) return os_error(Errc::io_error, "cannot fsync a new directory of object", path.key);
      } else if (errno != EEXIST) {
        return dir_error(path.key, dir);
      }
    }
    // Checked before wrapping: the deque's allocation could overwrite errno.
    const int fd = ::openat(parent, dir.c_str(), kDirFlags);
    if (fd < 0) return dir_error(path.key, dir);
    chain.dirs.emplace_back(fd);
  }
  return chain;
}

// One attempt: stage a temporary file, then rename it over the target (replace) or link
// it to the target, which fails when the target exists (create_only). false: it existed.
core::Result<bool> FilesystemObjectStore::write_once(const KeyPath& path, std::string_view header,
                                                     std::string_view data, WriteMode mode) const {
  CARTORIO_TRY(const auto chain, open_dirs(path, true));
  const int dir = chain.innermost();
  TempFile temp(dir);
  if (!temp.created()) {
    errno = temp.creation_errno();
    if (errno == ENOENT) return absent(path.key);  // the directory was pruned: retry
    return os_error(Errc::io_error, "cannot create a temporary file for object", path.key);
  }
  // The mode given to openat was narrowed by the umask; make it exactly 0600.
  if (::fchmod(temp.fd(), 0600) != 0)
    return os_error(Errc::io_error, "cannot chmod the temporary file of object", path.key);
  CARTORIO_TRY_VOID(write_all(temp.fd(), header, path.key));
  CARTORIO_TRY_VOID(write_all(temp.fd(), data, path.key));
  if (::fsync(temp.fd()) != 0) return os_error(Errc::io_error, "cannot fsync object", path.key);
  if (temp.close() != 0) return os_error(Errc::io_error, "cannot close object", path.key);
  if (mode == WriteMode::replace) {
    if (::renameat(dir, temp.name().c_str(), dir, path.file.c_str()) != 0)
      return os_error(Errc::io_error, "cannot rename into place object", path.key);
    temp.renamed();
  } else if (::linkat(dir, temp.name().c_str(), dir, path.file.c_str(), 0) != 0) {
    if (errno == EEXIST) return false;
    return os_error(Errc::io_error, "cannot link into place object", path.key);
  }
  if (::fsync(dir) != 0) return os_error(Errc::io_error, "cannot fsync the directory of object", path.key);
  return true;
}

core::Result<std::optional<ObjectInfo>> FilesystemObjectStore::write_object(std::string_view key,
                                                                            std::string_view data,
                                                                            const PutOptions& options,
                                                                            WriteMode mode) {
  CARTORIO_TRY(auto checked, check_put(key, data.size(), options, m_options.max_object_bytes));
  std::string etag = checked.sha256_hex.empty() ? etag_of(data) : std::move(checked.sha256_hex);
  ObjectInfo info{std::string(key), data.size(), std::move(etag), std::move(checked.content_type),
                  std::chrono::floor<std::chrono::seconds>(m_clock.now()), std::move(checked.metadata)};
  const std::string header = encode_header(info);
  const KeyPath path = split_key(key);
  for (int attempt = 1; attempt <= kWriteAttempts; ++attempt) {
    auto written = write_once(path, header, data, mode);
    if (!written && written.error().code == Errc::not_found) continue;  // pruned under us
    if (!written) return std::move(written).error();
    if (!*written) return std::optional<ObjectInfo>();
    return std::optional<ObjectInfo>(std::move(info));
  }
  return core::Error(Errc::io_error, "object " + in_quotes(key) + ": its directory kept vanishing while writing");
}

core::Result<ObjectInfo> FilesystemObjectStore::put(std::string_view key, std::string_view data,
                                                    const PutOptions& options) {
  CARTORIO_TRY(auto written, write_object(key, data, options, WriteMode::replace));
  return std::move(*written);
}

core::Result<bool> FilesystemObjectStore::put_if_absent(std::string_view key, std::string_view data,
                                                        const PutOptions& options) {
  CARTORIO_TRY(const auto written, write_object(key, data, options, WriteMode::create_only));
  return written.has_value();
}

core::Result<Object> FilesystemObjectStore::get(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const KeyPath path = split_key(key);
  CARTORIO_TRY(const auto chain, open_dirs(path, false));
  // One descriptor for header and data: a concurrent rename cannot mix two versions.
  UniqueFd fd(open_object_file(chain.innermost(), path.file));
  if (fd.get() < 0) return file_error(key);
  CARTORIO_TRY(const auto size, regular_file_size(fd.get(), key));
  CARTORIO_TRY(auto file, read_prefix(fd.get(), static_cast<std::size_t>(size), key));
  std::size_t header_len = 0;
  CARTORIO_TRY(auto info, decode_header(file, key, header_len));
  if (file.size() - header_len != info.size) return damaged(key, "its size differs from its header's");
  file.erase(0, header_len);
  if (etag_of(file) != info.etag) return damaged(key, "its bytes do not match their SHA-256");
  return Object{std::move(file), std::move(info)};
}

core::Result<ObjectInfo> FilesystemObjectStore::head(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const KeyPath path = split_key(key);
  CARTORIO_TRY(const auto chain, open_dirs(path, false));
  UniqueFd fd(open_object_file(chain.innermost(), path.file));
  if (fd.get() < 0) return file_error(key);
  return read_info(fd.get(), key);
}

core::Result<bool> FilesystemObjectStore::erase(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const KeyPath path = split_key(key);
  auto chain = open_dirs(path, false);
  if (!chain) {
    if (chain.error().code == Errc::not_found) return false;
    return std::move(chain).error();
  }
  const int dir = chain->innermost();
  if (::unlinkat(dir, path.file.c_str(), 0) != 0) {
    if (errno == ENOENT) return false;
    return os_error(Errc::io_error, "cannot remove object", key);
  }
  if (::fsync(dir) != 0) return os_error(Errc::io_error, "cannot fsync the directory of object", key);
  prune_empty_dirs(*chain, path);
  return true;
}

// Best effort, innermost first: rmdir fails on a directory that is not empty, so a
// concurrent put's staged file protects its directory (and a put that loses the race
// retries from the root).
void FilesystemObjectStore::prune_empty_dirs(const DirChain& chain, const KeyPath& path) const {
  for (std::size_t i = path.dirs.size(); i-- > 0;)
    if (::unlinkat(chain.parent_of(i), path.dirs[i].c_str(), AT_REMOVEDIR) != 0) return;
}

core::Result<void> FilesystemObjectStore::list_dir(int dirfd, const std::string& base, const ListQuery& q,
                                                   std::vector<ListEntry>& out) const {
  CARTORIO_TRY(const auto items, read_dir(dirfd, base.empty() ? "/" : base));
  for (const auto& item : items) {
    if (out.size() >= q.want) return core::ok();
    const std::string full = base + item.sort_key;
    if (item.kind == Kind::directory && may_hold_matches(full, q)) {
      UniqueFd sub(::openat(dirfd, item.name.c_str(), kDirFlags));
      if (sub.get() < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;  // changed since readdir
        return os_error(Errc::io_error, "cannot open directory", full);
      }
      CARTORIO_TRY_VOID(list_dir(sub.get(), full, q, out));
    } else if (item.kind == Kind::object && matches(full, q)) {
      CARTORIO_TRY(auto entry, list_entry(dirfd, item.name, full));
      if (entry) out.push_back(std::move(*entry));
    }
  }
  return core::ok();
}

core::Result<ListPage> FilesystemObjectStore::list(std::string_view prefix, std::size_t limit,
                                                   std::string_view start_after) {
  CARTORIO_TRY_VOID(check_list_args(prefix, limit, start_after));
  std::vector<ListEntry> entries;
  CARTORIO_TRY_VOID(list_dir(m_root->get(), "", ListQuery{prefix, start_after, limit + 1}, entries));
  ListPage page;
  if (entries.size() > limit) {
    entries.resize(limit);
    page.truncated = true;
    page.next_start_after = entries.back().key;
  }
  page.entries = std::move(entries);
  return page;
}

core::Result<void> FilesystemObjectStore::check() {
  const auto unavailable = [&](const std::string& why) {
    return core::Error(Errc::store_unavailable, "filesystem object store " + m_options.root.string() + ": " + why);
  };
  struct stat opened {}, named {};
  if (::fstat(m_root->get(), &opened) != 0 || opened.st_nlink == 0) return unavailable("the root was removed");
  if (::stat(m_options.root.c_str(), &named) != 0 || named.st_dev != opened.st_dev || named.st_ino != opened.st_ino)
    return unavailable("the root path no longer names the directory opened at start");
  const TempFile probe(m_root->get());
  if (!probe.created())
    return unavailable(std::string("cannot create a file: ") + std::strerror(probe.creation_errno()));
  return core::ok();
}

core::Result<std::size_t> FilesystemObjectStore::sweep_dir(int dirfd, const std::string& base,
                                                           std::chrono::seconds min_age) const {
  CARTORIO_TRY(const auto items, read_dir(dirfd, base.empty() ? "/" : base));
  const std::time_t cutoff = std::time(nullptr) - static_cast<std::time_t>(min_age.count());
  std::size_t removed = 0;
  for (const auto& item : items) {
    if (item.kind == Kind::temp) {
      struct stat st {};
      if (::fstatat(dirfd, item.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime < cutoff &&
          ::unlinkat(dirfd, item.name.c_str(), 0) == 0)
        ++removed;
    } else if (item.kind == Kind::directory) {
      UniqueFd sub(::openat(dirfd, item.name.c_str(), kDirFlags));
      if (sub.get() < 0) continue;  // removed or replaced since readdir
      CARTORIO_TRY(const auto n, sweep_dir(sub.get(), base + item.sort_key, min_age));
      removed += n;
    }
  }
  return removed;
}

core::Result<std::size_t> FilesystemObjectStore::remove_stale_temp_files(std::chrono::seconds min_age) {
  return sweep_dir(m_root->get(), "", min_age);
}

}  // namespace cartorio::objectstore
