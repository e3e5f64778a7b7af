#include "objectstore/fs/filesystem_object_store.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>

namespace cartorio::objectstore {

using core::Errc;
using core::UniqueFd;

namespace detail {

struct KeyPath {
  std::string_view key;
  std::vector<std::string> dirs;  // directory names, outermost first
  std::string file;               // last segment + kObjectSuffix: the current state
  std::string versions;           // last segment + kVersionsSuffix: the noncurrent versions
  std::string lock;               // last segment + kLockSuffix: the writers' lock
};

struct ListQuery {
  std::string_view prefix;
  std::string_view start_after;
  std::size_t want = 0;       // limit + 1: one more than a page tells whether more follow
  bool with_deleted = false;  // also keys whose current state is a delete marker
};

}  // namespace detail

namespace {

using detail::KeyPath;
using detail::ListQuery;

// '#' is not a key character: object files, directories and temporary files never collide.
constexpr std::string_view kObjectSuffix = "#obj";
constexpr std::string_view kVersionsSuffix = "#v";
constexpr std::string_view kLockSuffix = "#lock";
constexpr std::string_view kTempPrefix = "#tmp.";
constexpr std::string_view kMagic = "cartorio-object 1\n";
// Bounds the header line: key (1 KiB) + metadata (2 KiB) + content type, JSON-escaped.
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
// A write whose directory a concurrent erase_version pruned starts over; this many in a row
// means something else keeps deleting the tree.
constexpr int kWriteAttempts = 16;
// Each failed attempt at the lock means another writer of the key finished meanwhile.
constexpr int kLockAttempts = 1000;
// A lockless look at a key's versions starts over when a writer changed "#obj" meanwhile;
// this many in a row means writes keep coming faster than the look (see get_version).
constexpr int kLookAttempts = 64;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Version ids: "null" (a file written before versions existed), or 20 decimal digits (the
// microseconds since the epoch) '.' 8 lowercase hex digits (random).
constexpr std::string_view kNullVersion = "null";
constexpr std::size_t kVersionTimeDigits = 20;
constexpr std::size_t kVersionRandomBytes = 4;
constexpr std::size_t kVersionIdBytes = kVersionTimeDigits + 1 + 2 * kVersionRandomBytes;

std::string in_quotes(std::string_view key) { return "\"" + std::string(key) + "\""; }

// `what` names the operation and the kind of thing `name` is ("cannot write object").
core::Error os_error(Errc code, const std::string& what, std::string_view name) {
  return {code, what + " " + in_quotes(name) + ": " + std::strerror(errno)};
}

core::Error absent(std::string_view key) { return {Errc::not_found, "no object " + in_quotes(key)}; }

core::Error deleted(std::string_view key) {
  return {Errc::not_found, "no object " + in_quotes(key) + " (erased: its latest version is a delete marker)"};
}

core::Error no_version(std::string_view key, std::string_view version_id) {
  return {Errc::not_found, "no version " + in_quotes(version_id) + " of object " + in_quotes(key)};
}

core::Error damaged(std::string_view key, const std::string& why) {
  return {Errc::store_error, "object " + in_quotes(key) + " is damaged on disk: " + why};
}

core::Error not_ours(std::string_view key) {
  return {Errc::store_error, "object " + in_quotes(key) +
                                 ": its \"#obj\" is not a file this store wrote (a symbolic link?); remove it by hand"};
}

// Names the version file an error came from.
core::Error in_version(core::Error e, std::string_view version_id) {
  e.message += " (version " + in_quotes(version_id) + ")";
  return e;
}

// errno of a failed step along a key's directories.
core::Error dir_error(std::string_view key, const std::string& dir) {
  if (errno == ENOENT) return absent(key);
  if (errno == ELOOP || errno == ENOTDIR)
    return {Errc::store_error, "object " + in_quotes(key) + ": \"" + dir +
                                   "\" is not a directory (a symbolic link?); refusing to follow it"};
  return os_error(Errc::io_error, "cannot open directory \"" + dir + "\" of object", key);
}

// errno of a failed open of an object or version file.
core::Error file_error(std::string_view key) {
  if (errno == ENOENT) return absent(key);
  if (errno == ELOOP)
    return {Errc::store_error, "object " + in_quotes(key) + " is a symbolic link; refusing to follow it"};
  return os_error(Errc::io_error, "cannot open object", key);
}

KeyPath split_key(std::string_view key) {
  KeyPath p{key, {}, {}, {}, {}};
  std::size_t start = 0;
  for (std::size_t slash; (slash = key.find('/', start)) != std::string_view::npos; start = slash + 1)
    p.dirs.emplace_back(key.substr(start, slash - start));
  const std::string last(key.substr(start));
  p.file = last + std::string(kObjectSuffix);
  p.versions = last + std::string(kVersionsSuffix);
  p.lock = last + std::string(kLockSuffix);
  return p;
}

bool is_segment(std::string_view name) { return name.find('/') == std::string_view::npos && check_key(name); }

// --- version ids -----------------------------------------------------------------------

// The time part of a version id of this backend's format ("null": 0); nullopt for any
// other string, which therefore never becomes a file name.
std::optional<std::uint64_t> version_time(std::string_view id) {
  if (id == kNullVersion) return 0;
  if (id.size() != kVersionIdBytes || id[kVersionTimeDigits] != '.') return std::nullopt;
  const std::string_view digits = id.substr(0, kVersionTimeDigits);
  const std::string_view random = id.substr(kVersionTimeDigits + 1);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos ||
      random.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t t = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;  // beyond 2^64
  return t;
}

bool is_version_id(std::string_view id) { return version_time(id).has_value(); }

// Age order of version ids: "null" first, then byte order (the ids have a fixed width).
bool older(std::string_view a, std::string_view b) {
  if (a == b) return false;
  if (a == kNullVersion) return true;
  if (b == kNullVersion) return false;
  return a < b;
}

// A new id for a key whose newest version is `newest` (empty: none): later than it even
// when the clock stands still or went back.
core::Result<std::string> next_version_id(core::TimePoint now, std::string_view newest, std::string_view key) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::uint64_t t = micros > 0 ? static_cast<std::uint64_t>(micros) : 0;
  if (!newest.empty()) {
    const std::uint64_t last = version_time(newest).value_or(0);
    if (last == std::numeric_limits<std::uint64_t>::max())
      return core::Error(Errc::store_error, "object " + in_quotes(key) + ": its version ids are exhausted");
    t = std::max(t, last + 1);
  }
  char digits[kVersionTimeDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(t));
  return std::string(digits) + "." + crypto::to_hex(crypto::random_bytes(kVersionRandomBytes));
}

// --- the header ------------------------------------------------------------------------

// One file's header: an object version, or a delete marker (size 0, no data, and only key,
// version id and time in its info).
struct Stored {
  ObjectInfo info;
  bool delete_marker = false;
};

std::string encode_header(const ObjectInfo& info) {
  const nlohmann::json j = {{"key", info.key},
                            {"size", info.size},
                            {"sha256", info.etag},
                            {"content_type", info.content_type},
                            {"last_modified", core::to_unix(info.last_modified)},
                            {"metadata", info.metadata},
                            {"version_id", info.version_id}};
  return std::string(kMagic) + j.dump() + "\n";
}

std::string encode_marker(std::string_view key, const std::string& version_id, core::TimePoint when) {
  const nlohmann::json j = {{"key", std::string(key)},
                            {"size", 0},
                            {"last_modified", core::to_unix(when)},
                            {"version_id", version_id},
                            {"delete_marker", true}};
  return std::string(kMagic) + j.dump() + "\n";
}

// Parses the header at the start of `file`; header_len gets the bytes before the data.
core::Result<Stored> decode_header(std::string_view file, std::string_view key, std::size_t& header_len) {
  if (!file.starts_with(kMagic)) return damaged(key, "no object header");
  const std::size_t end = file.find('\n', kMagic.size());
  if (end == std::string_view::npos) return damaged(key, "the header line is not terminated");
  const auto j = nlohmann::json::parse(file.begin() + kMagic.size(), file.begin() + end, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return damaged(key, "the header is not a JSON object");
  Stored s;
  try {
    s.info.key = j.at("key").get<std::string>();
    s.info.size = j.at("size").get<std::uint64_t>();
    s.info.last_modified = core::from_unix(j.at("last_modified").get<long long>());
    // Written before versions existed: the oldest version, "null" (as S3 names it).
    s.info.version_id = j.contains("version_id") ? j.at("version_id").get<std::string>() : std::string(kNullVersion);
    s.delete_marker = j.contains("delete_marker") && j.at("delete_marker").get<bool>();
    if (!s.delete_marker) {
      s.info.etag = j.at("sha256").get<std::string>();
      s.info.content_type = j.at("content_type").get<std::string>();
      s.info.metadata = j.at("metadata").get<Metadata>();
    }
  } catch (const nlohmann::json::exception& e) {
    return damaged(key, std::string("bad header field: ") + e.what());
  }
  // A file copied or renamed by hand must not serve as another key's object.
  if (s.info.key != key) return damaged(key, "its header names the key " + in_quotes(s.info.key));
  // The id becomes a file name in "#v/": only this backend's own format.
  if (!is_version_id(s.info.version_id)) return damaged(key, "its header has a malformed version id");
  if (s.delete_marker && s.info.size != 0) return damaged(key, "a delete marker with data");
  header_len = end + 1;
  return s;
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
core::Result<Stored> read_info(int fd, std::string_view key) {
  CARTORIO_TRY(const auto size, regular_file_size(fd, key));
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size, kMagic.size() + kMaxHeaderBytes));
  CARTORIO_TRY(const auto prefix, read_prefix(fd, want, key));
  std::size_t header_len = 0;
  CARTORIO_TRY(auto stored, decode_header(prefix, key, header_len));
  if (header_len + stored.info.size != size) return damaged(key, "its size differs from its header's");
  return stored;
}

// Header and data of an open object file, one descriptor for both (a concurrent rename
// cannot mix two versions), the data checked against its SHA-256.
struct Loaded {
  Stored stored;
  std::string data;
};

core::Result<Loaded> read_all(int fd, std::string_view key) {
  CARTORIO_TRY(const auto size, regular_file_size(fd, key));
  CARTORIO_TRY(auto file, read_prefix(fd, static_cast<std::size_t>(size), key));
  std::size_t header_len = 0;
  CARTORIO_TRY(auto stored, decode_header(file, key, header_len));
  if (file.size() - header_len != stored.info.size) return damaged(key, "its size differs from its header's");
  file.erase(0, header_len);
  if (!stored.delete_marker && etag_of(file) != stored.info.etag)
    return damaged(key, "its bytes do not match their SHA-256");
  return Loaded{std::move(stored), std::move(file)};
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

// Calls fn(entry) for each entry of the directory. Reads through a fresh descriptor:
// readdir moves the offset of the open file description, which other threads may share.
template <class Fn>
core::Result<void> for_each_entry(int dirfd, std::string_view where, Fn&& fn) {
  const int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error(Errc::io_error, "cannot open directory", where);
  DirStream dir(::fdopendir(fd));
  if (!dir) {
    const int saved = errno;
    ::close(fd);  // fdopendir owns fd only on success
    errno = saved;
    return os_error(Errc::io_error, "cannot read directory", where);
  }
  for (;;) {
    errno = 0;  // readdir reports the end and errors alike with nullptr; errno tells them apart
    // readdir_r is deprecated; readdir is safe on a stream no other thread reads.
    // cppcheck-suppress readdirCalled
    const dirent* e = ::readdir(dir.get());
    if (!e) break;
    fn(*e);
  }
  if (errno != 0) return os_error(Errc::io_error, "cannot read directory", where);
  return core::ok();
}

unsigned char type_of(int dirfd, const dirent& e) {
  if (e.d_type != DT_UNKNOWN) return e.d_type;
  struct stat st {};  // some filesystems do not fill d_type
  if (::fstatat(dirfd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
  return S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
}

enum class Kind { object, directory, temp, lock };
struct DirItem {
  std::string name;
  std::string sort_key;  // a directory sorts as "name/": its keys all start with that
  Kind kind;
};

bool has_key_suffix(std::string_view name, std::string_view suffix) {
  return name.ends_with(suffix) && is_segment(name.substr(0, name.size() - suffix.size()));
}

// "#v" directories are not keys' directories (not segments): listings never enter them.
std::optional<Kind> classify(int dirfd, const dirent& e) {
  const std::string_view name = e.d_name;
  const unsigned char type = type_of(dirfd, e);
  if (type == DT_DIR) return is_segment(name) ? std::optional(Kind::directory) : std::nullopt;
  if (type != DT_REG) return std::nullopt;  // symbolic links, FIFOs, sockets: never ours
  if (name.starts_with(kTempPrefix)) return Kind::temp;
  if (has_key_suffix(name, kObjectSuffix)) return Kind::object;
  if (has_key_suffix(name, kLockSuffix)) return Kind::lock;
  return std::nullopt;
}

// The entries this backend wrote, in key order.
core::Result<std::vector<DirItem>> read_dir(int dirfd, std::string_view where) {
  std::vector<DirItem> items;
  CARTORIO_TRY_VOID(for_each_entry(dirfd, where, [&](const dirent& e) {
    const auto kind = classify(dirfd, e);
    if (!kind) return;
    std::string name = e.d_name;
    std::string sort_key = *kind == Kind::directory ? name + "/"
                           : *kind == Kind::object   ? name.substr(0, name.size() - kObjectSuffix.size())
                                                     : name;
    items.push_back({std::move(name), std::move(sort_key), *kind});
  }));
  std::sort(items.begin(), items.end(), [](const DirItem& a, const DirItem& b) { return a.sort_key < b.sort_key; });
  return items;
}

// The versions filed in a key's "#v/": regular files named by a version id of ours.
core::Result<std::vector<std::string>> read_version_ids(int vdir, std::string_view key) {
  std::vector<std::string> ids;
  CARTORIO_TRY_VOID(for_each_entry(vdir, key, [&](const dirent& e) {
    if (is_version_id(e.d_name) && type_of(vdir, e) == DT_REG) ids.emplace_back(e.d_name);
  }));
  return ids;
}

bool matches(std::string_view key, const ListQuery& q) { return key.starts_with(q.prefix) && key > q.start_after; }

// Whether keys starting with `dir` (ending in '/') can match: they share the prefix, and
// they are not all at or before start_after (true when dir < start_after, unless
// start_after itself lies inside dir).
bool may_hold_matches(std::string_view dir, const ListQuery& q) {
  if (!dir.starts_with(q.prefix) && !q.prefix.starts_with(dir)) return false;
  return dir > q.start_after || q.start_after.starts_with(dir);
}

// The entry for one object file; nullopt when it vanished since readdir (erased meanwhile)
// or holds a delete marker the listing does not want.
core::Result<std::optional<ListEntry>> list_entry(int dirfd, const std::string& name, const std::string& key,
                                                  bool with_deleted) {
  UniqueFd fd(open_object_file(dirfd, name));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<ListEntry>();
    return file_error(key);
  }
  CARTORIO_TRY(auto stored, read_info(fd.get(), key));
  if (stored.delete_marker && !with_deleted) return std::optional<ListEntry>();
  return std::optional(ListEntry{key, stored.info.size, stored.info.last_modified});
}

// --- a key's files -----------------------------------------------------------------------

// What "#obj" holds: nothing (the key has no versions), a version (an object or a delete
// marker), or something this store did not write (a symbolic link, a FIFO: `foreign`).
// Errc::store_error when it is a file with a damaged header.
struct Current {
  enum class State { absent, version, foreign } state = State::absent;
  Stored stored;  // when state is version
  dev_t dev = 0;  // the file's identity, when there is one
  ino_t ino = 0;
  bool is_object() const { return state == State::version && !stored.delete_marker; }
};

// Whether "#obj" is still the same file holding the same version. A lockless reader that
// looked at "#obj" and "#v/" in turn saw one state when "#obj" did not change meanwhile:
// a version moves between the two only along with a change of "#obj" (put and erase link
// the current one into "#v/" before replacing "#obj"; erase_version renames the newest of
// "#v/" over "#obj"), and "#obj" never comes back to a file it left but by such a move.
bool same_current(const Current& a, const Current& b) {
  return a.state == b.state && a.dev == b.dev && a.ino == b.ino &&
         a.stored.info.version_id == b.stored.info.version_id;
}

// Both reads failed (a damaged "#obj") or both saw the same "#obj".
bool same_current(const core::Result<Current>& a, const core::Result<Current>& b) {
  if (!a || !b) return !a && !b;
  return same_current(*a, *b);
}

core::Result<Current> read_current(int dir, const KeyPath& path) {
  UniqueFd fd(open_object_file(dir, path.file));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Current{};
    if (errno == ELOOP) return Current{Current::State::foreign, {}};
    return file_error(path.key);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error(Errc::io_error, "cannot stat object", path.key);
  if (!S_ISREG(st.st_mode)) return Current{Current::State::foreign, {}, st.st_dev, st.st_ino};
  CARTORIO_TRY(auto stored, read_info(fd.get(), path.key));
  return Current{Current::State::version, std::move(stored), st.st_dev, st.st_ino};
}

// The key's "#v/" directory, never following a link; nullptr when it does not exist and
// `create` is false. A new one is fsynced into its parent.
core::Result<std::unique_ptr<UniqueFd>> open_versions_dir(int dir, const KeyPath& path, bool create) {
  if (create) {
    if (::mkdirat(dir, path.versions.c_str(), 0700) == 0) {
      if (::fsync(dir) != 0) return os_error(Errc::io_error, "cannot fsync the new versions directory of object", path.key);
    } else if (errno != EEXIST) {
      return os_error(Errc::io_error, "cannot create the versions directory of object", path.key);
    }
  }
  const int fd = ::openat(dir, path.versions.c_str(), kDirFlags);
  if (fd < 0) {
    if (errno == ENOENT && !create) return std::unique_ptr<UniqueFd>();
    if (errno == ELOOP || errno == ENOTDIR)
      return core::Error(Errc::store_error, "object " + in_quotes(path.key) +
                                                ": its \"#v\" is not a directory (a symbolic link?); refusing to follow it");
    return os_error(Errc::io_error, "cannot open the versions directory of object", path.key);
  }
  return std::make_unique<UniqueFd>(fd);
}

// The newest id in "#v/" (empty when there is none): what a key without "#obj" has filed.
core::Result<std::string> newest_filed(int dir, const KeyPath& path) {
  CARTORIO_TRY(const auto vdir, open_versions_dir(dir, path, false));
  if (!vdir) return std::string();
  CARTORIO_TRY(const auto ids, read_version_ids(vdir->get(), path.key));
  std::string newest;
  for (const auto& id : ids)
    if (newest.empty() || older(newest, id)) newest = id;
  return newest;
}

// Files the current version under its id in "#v/" (a second name for the same file,
// fsynced) before "#obj" changes. EEXIST: a twin a crash left, the same file.
core::Result<void> keep_as_noncurrent(int dir, const KeyPath& path, const std::string& version_id) {
  CARTORIO_TRY(const auto vdir, open_versions_dir(dir, path, true));
  if (::linkat(dir, path.file.c_str(), vdir->get(), version_id.c_str(), 0) != 0 && errno != EEXIST)
    return os_error(Errc::io_error, "cannot keep the previous version of object", path.key);
  if (::fsync(vdir->get()) != 0) return os_error(Errc::io_error, "cannot fsync the versions of object", path.key);
  return core::ok();
}

// Stages header and data in a temporary file, fsyncs it, renames it over "#obj" and
// fsyncs the directory: the new current state, atomically and durably.
core::Result<void> install(int dir, const KeyPath& path, std::string_view header, std::string_view data) {
  TempFile temp(dir);
  if (!temp.created()) {
    errno = temp.creation_errno();
    return os_error(Errc::io_error, "cannot create a temporary file for object", path.key);
  }
  // The mode given to openat was narrowed by the umask; make it exactly 0600.
  if (::fchmod(temp.fd(), 0600) != 0)
    return os_error(Errc::io_error, "cannot chmod the temporary file of object", path.key);
  CARTORIO_TRY_VOID(write_all(temp.fd(), header, path.key));
  CARTORIO_TRY_VOID(write_all(temp.fd(), data, path.key));
  if (::fsync(temp.fd()) != 0) return os_error(Errc::io_error, "cannot fsync object", path.key);
  // On disk now: the cached copy is dropped, so the next put reuses those pages instead of
  // growing the page cache into memory not touched yet, which a VM that backs its memory
  // lazily makes slow (a 5 MB write took 20-100 ms instead of 2: docs/benchmarks.md). A
  // get() soon after reads the disk. Advice only: a failure changes nothing.
  ::posix_fadvise(temp.fd(), 0, 0, POSIX_FADV_DONTNEED);
  if (temp.close() != 0) return os_error(Errc::io_error, "cannot close object", path.key);
  if (::renameat(dir, temp.name().c_str(), dir, path.file.c_str()) != 0)
    return os_error(Errc::io_error, "cannot rename into place object", path.key);
  temp.renamed();
  if (::fsync(dir) != 0) return os_error(Errc::io_error, "cannot fsync the directory of object", path.key);
  return core::ok();
}

// Removes a lock file nobody holds (what a writer that crashed leaves); the same steps a
// writer takes, without waiting, so a held lock is left alone.
bool remove_unheld_lock(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return false;
  struct stat held {}, named {};
  if (::fstat(fd.get(), &held) != 0 || ::fstatat(dirfd, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 ||
      held.st_dev != named.st_dev || held.st_ino != named.st_ino)
    return false;
  return ::unlinkat(dirfd, name.c_str(), 0) == 0;
}

core::Error unknown_after_version(std::string_view key, std::string_view after_version) {
  return {Errc::not_found, "cannot list the versions of object " + in_quotes(key) + " after " +
                               in_quotes(after_version) + ": no such version"};
}

// One page of a key's versions, given what "#obj" held (`current`) just before.
core::Result<VersionPage> versions_page(int dir, const KeyPath& path, const Current& current, std::size_t limit,
                                        std::string_view after_version) {
  const std::string_view key = path.key;
  if (current.state == Current::State::foreign) return not_ours(key);
  CARTORIO_TRY(const auto vdir, open_versions_dir(dir, path, false));
  std::vector<std::string> ids;
  if (vdir) {
    CARTORIO_TRY(ids, read_version_ids(vdir->get(), key));
  }
  const bool has_current = current.state == Current::State::version;
  const std::string current_id = has_current ? current.stored.info.version_id : std::string();
  if (has_current) {
    std::erase(ids, current_id);  // a twin a crash left
    ids.push_back(current_id);
  }
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) { return older(b, a); });
  std::size_t start = 0;
  if (!after_version.empty()) {
    const auto it = std::find(ids.begin(), ids.end(), after_version);
    if (it == ids.end()) return unknown_after_version(key, after_version);
    start = static_cast<std::size_t>(it - ids.begin()) + 1;
  }
  VersionPage page;
  const auto add = [&](const Stored& s, bool latest) {
    page.entries.push_back({s.info.version_id, s.info.size, s.info.last_modified, latest, s.delete_marker});
  };
  for (std::size_t i = start; i < ids.size() && page.entries.size() <= limit; ++i) {
    const std::string& id = ids[i];
    if (has_current && id == current_id) {
      add(current.stored, true);
      continue;
    }
    UniqueFd fd(open_object_file(vdir->get(), id));
    if (fd.get() < 0) {
      if (errno == ENOENT) continue;  // erased since readdir
      return in_version(file_error(key), id);
    }
    auto stored = read_info(fd.get(), key);
    if (!stored) return in_version(std::move(stored).error(), id);
    if (stored->info.version_id != id)
      return in_version(damaged(key, "the file holds version " + in_quotes(stored->info.version_id)), id);
    add(*stored, false);
  }
  if (page.entries.size() > limit) {
    page.entries.resize(limit);
    page.truncated = true;
    page.next_after_version = page.entries.back().version_id;
  }
  return page;
}

}  // namespace

// --- the writers' lock -----------------------------------------------------------------

namespace detail {

// flock(LOCK_EX) on "<segment>#lock" beside the key's "#obj": serialises the writers of
// one key across threads (each its own open file description) and processes. The name
// is unlinked before the lock is dropped, so whoever waited on that file finds the name
// gone (or naming another file) once it holds the lock, and starts over.
class KeyLock {
 public:
  KeyLock(int dirfd, const std::string& name) : m_dirfd(dirfd), m_name(name) {}
  ~KeyLock() { release(); }
  KeyLock(const KeyLock&) = delete;  // one holder unlinks the name
  KeyLock& operator=(const KeyLock&) = delete;

  // Errc::not_found when the directory vanished (pruned): the caller starts over.
  core::Result<void> acquire(std::string_view key) {
    for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
      const int fd = ::openat(m_dirfd, m_name.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
      if (fd < 0) {
        if (errno == ENOENT) return absent(key);
        if (errno == ELOOP)
          return core::Error(Errc::store_error, "the lock file of object " + in_quotes(key) +
                                                    " is a symbolic link; refusing to follow it");
        return os_error(Errc::io_error, "cannot open the lock file of object", key);
      }
      m_fd.emplace(fd);
      struct stat held {};
      if (::fstat(fd, &held) != 0) return os_error(Errc::io_error, "cannot stat the lock file of object", key);
      if (!S_ISREG(held.st_mode))
        return core::Error(Errc::store_error, "the lock file of object " + in_quotes(key) + " is not a regular file");
      while (::flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) return os_error(Errc::io_error, "cannot lock object", key);
      struct stat named {};
      if (::fstatat(m_dirfd, m_name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0) {
        if (named.st_dev == held.st_dev && named.st_ino == held.st_ino) {
          m_held = true;
          return core::ok();
        }
      } else if (errno != ENOENT) {
        return os_error(Errc::io_error, "cannot stat the lock file of object", key);
      }
      m_fd.reset();  // the holder before us removed it; closing drops our lock on that file
    }
    return core::Error(Errc::io_error, "object " + in_quotes(key) + ": its lock file kept being replaced");
  }

  // Unlinks the name (while still holding the lock), then closes.
  void release() {
    if (m_held) ::unlinkat(m_dirfd, m_name.c_str(), 0);
    m_held = false;
    m_fd.reset();
  }

 private:
  int m_dirfd;
  const std::string& m_name;
  std::optional<UniqueFd> m_fd;
  bool m_held = false;
};

}  // namespace detail

// --- the store -------------------------------------------------------------------------

using detail::KeyLock;

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

template <class Body>
auto FilesystemObjectStore::with_key_locked(const KeyPath& path, bool create, Body&& body)
    -> std::invoke_result_t<Body&, const DirChain&, detail::KeyLock&> {
  for (int attempt = 1; attempt <= kWriteAttempts; ++attempt) {
    auto chain = open_dirs(path, create);
    if (!chain) {
      if (create && chain.error().code == Errc::not_found) continue;  // pruned while we created it
      return std::move(chain).error();
    }
    // While we hold it, the lock file keeps the directory from being pruned.
    KeyLock lock(chain->innermost(), path.lock);
    auto held = lock.acquire(path.key);
    if (!held) {
      if (held.error().code == Errc::not_found) continue;  // pruned before we locked
      return std::move(held).error();
    }
    return body(*chain, lock);
  }
  return core::Error(Errc::io_error, "object " + in_quotes(path.key) + ": its directory kept vanishing while writing");
}

core::Result<std::optional<ObjectInfo>> FilesystemObjectStore::write_locked(int dir, const KeyPath& path,
                                                                            std::string_view data,
                                                                            PutOptions checked, WriteMode mode) {
  // A damaged "#obj" cannot be filed under its id: refused (store_error), not destroyed.
  CARTORIO_TRY(const auto current, read_current(dir, path));
  if (mode == WriteMode::create_only && (current.is_object() || current.state == Current::State::foreign))
    return std::optional<ObjectInfo>();  // taken (a foreign file: a name we do not write through)
  std::string newest;
  if (current.state == Current::State::version) {
    newest = current.stored.info.version_id;  // "#obj" is always the newest version
  } else {
    CARTORIO_TRY(newest, newest_filed(dir, path));
  }
  const core::TimePoint now = m_clock.now();
  CARTORIO_TRY(auto version_id, next_version_id(now, newest, path.key));
  ObjectInfo info{std::string(path.key),
                  data.size(),
                  std::move(checked.sha256_hex),
                  std::move(checked.content_type),
                  std::chrono::floor<std::chrono::seconds>(now),
                  std::move(checked.metadata),
                  std::move(version_id)};
  // A foreign "#obj" is not a version: replaced, not kept (a link's target stays as it was).
  if (current.state == Current::State::version)
    CARTORIO_TRY_VOID(keep_as_noncurrent(dir, path, current.stored.info.version_id));
  CARTORIO_TRY_VOID(install(dir, path, encode_header(info), data));
  return std::optional<ObjectInfo>(std::move(info));
}

core::Result<std::optional<ObjectInfo>> FilesystemObjectStore::write_object(std::string_view key,
                                                                            std::string_view data,
                                                                            const PutOptions& options,
                                                                            WriteMode mode) {
  CARTORIO_TRY(auto checked, check_put(key, data.size(), options, m_options.max_object_bytes));
  if (checked.sha256_hex.empty()) checked.sha256_hex = etag_of(data);  // before locking: hashing takes a while
  const KeyPath path = split_key(key);
  return with_key_locked(path, true, [&](const DirChain& chain, KeyLock&) {
    return write_locked(chain.innermost(), path, data, checked, mode);
  });
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
  UniqueFd fd(open_object_file(chain.innermost(), path.file));
  if (fd.get() < 0) return file_error(key);
  CARTORIO_TRY(auto loaded, read_all(fd.get(), key));
  if (loaded.stored.delete_marker) return deleted(key);
  return Object{std::move(loaded.data), std::move(loaded.stored.info)};
}

core::Result<ObjectInfo> FilesystemObjectStore::head(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const KeyPath path = split_key(key);
  CARTORIO_TRY(const auto chain, open_dirs(path, false));
  UniqueFd fd(open_object_file(chain.innermost(), path.file));
  if (fd.get() < 0) return file_error(key);
  CARTORIO_TRY(auto stored, read_info(fd.get(), key));
  if (stored.delete_marker) return deleted(key);
  return std::move(stored.info);
}

core::Result<bool> FilesystemObjectStore::erase(std::string_view key) {
  CARTORIO_TRY_VOID(check_key(key));
  const KeyPath path = split_key(key);
  {
    // No current object now: false without taking the lock (nothing to write, no lock file).
    auto chain = open_dirs(path, false);
    if (!chain) {
      if (chain.error().code == Errc::not_found) return false;
      return std::move(chain).error();
    }
    auto current = read_current(chain->innermost(), path);
    if (current && (current->state == Current::State::absent || (current->state == Current::State::version &&
                                                                  current->stored.delete_marker)))
      return false;
  }
  auto erased = with_key_locked(path, false, [&](const DirChain& chain, KeyLock&) -> core::Result<bool> {
    const int dir = chain.innermost();
    CARTORIO_TRY(const auto current, read_current(dir, path));
    if (current.state == Current::State::foreign) return not_ours(key);
    if (!current.is_object()) return false;  // no versions, or already a delete marker: nothing changes
    const std::string& previous = current.stored.info.version_id;
    const core::TimePoint now = m_clock.now();
    CARTORIO_TRY(const auto marker_id, next_version_id(now, previous, key));
    CARTORIO_TRY_VOID(keep_as_noncurrent(dir, path, previous));
    CARTORIO_TRY_VOID(install(dir, path, encode_marker(key, marker_id, std::chrono::floor<std::chrono::seconds>(now)), {}));
    return true;
  });
  if (!erased && erased.error().code == Errc::not_found) return false;  // its directory is missing
  return erased;
}

core::Result<bool> FilesystemObjectStore::erase_version(std::string_view key, std::string_view version_id) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_version_id(version_id));
  if (!is_version_id(version_id)) return false;  // not an id this backend makes: no such version
  const KeyPath path = split_key(key);
  const std::string id(version_id);
  auto erased = with_key_locked(path, false, [&](const DirChain& chain, KeyLock& lock) -> core::Result<bool> {
    const int dir = chain.innermost();
    // A damaged "#obj" still lets the noncurrent versions go.
    const auto current = read_current(dir, path);
    CARTORIO_TRY(const auto vdir, open_versions_dir(dir, path, false));
    bool key_gone = false;
    if (current && current->state == Current::State::version && current->stored.info.version_id == id) {
      if (vdir) {
        // A twin a crash left goes first (durably), so it cannot come back as a version.
        if (::unlinkat(vdir->get(), id.c_str(), 0) == 0) {
          if (::fsync(vdir->get()) != 0) return os_error(Errc::io_error, "cannot fsync the versions of object", key);
        } else if (errno != ENOENT) {
          return os_error(Errc::io_error, "cannot remove a version of object", key);
        }
      }
      CARTORIO_TRY(const auto newest, vdir ? newest_filed(dir, path) : core::Result<std::string>(std::string()));
      if (!newest.empty()) {
        // The newest remaining one becomes current, in one atomic step.
        if (::renameat(vdir->get(), newest.c_str(), dir, path.file.c_str()) != 0)
          return os_error(Errc::io_error, "cannot make the previous version current of object", key);
        if (::fsync(dir) != 0 || ::fsync(vdir->get()) != 0)
          return os_error(Errc::io_error, "cannot fsync the directory of object", key);
      } else {
        if (::unlinkat(dir, path.file.c_str(), 0) != 0) return os_error(Errc::io_error, "cannot remove object", key);
        if (::fsync(dir) != 0) return os_error(Errc::io_error, "cannot fsync the directory of object", key);
        key_gone = true;
      }
    } else if (vdir && ::unlinkat(vdir->get(), id.c_str(), 0) == 0) {
      if (::fsync(vdir->get()) != 0) return os_error(Errc::io_error, "cannot fsync the versions of object", key);
    } else if (vdir && errno != ENOENT) {
      return os_error(Errc::io_error, "cannot remove a version of object", key);
    } else if (!current) {
      return current.error();  // unreadable: it might be the version asked for
    } else {
      return false;
    }
    // Best effort: rmdir removes "#v" only when that emptied it.
    if (vdir) ::unlinkat(dir, path.versions.c_str(), AT_REMOVEDIR);
    if (key_gone) {
      lock.release();  // its file would keep the directory from being pruned
      prune_empty_dirs(chain, path);
    }
    return true;
  });
  if (!erased && erased.error().code == Errc::not_found) return false;  // its directory is missing
  return erased;
}

core::Result<Object> FilesystemObjectStore::get_version(std::string_view key, std::string_view version_id) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_version_id(version_id));
  if (!is_version_id(version_id)) return no_version(key, version_id);
  const KeyPath path = split_key(key);
  auto chain = open_dirs(path, false);
  if (!chain) {
    if (chain.error().code == Errc::not_found) return no_version(key, version_id);
    return std::move(chain).error();
  }
  const int dir = chain->innermost();
  const std::string id(version_id);
  const auto found = [&](Loaded loaded) -> core::Result<Object> {
    if (loaded.stored.delete_marker) return no_version(key, version_id);
    return Object{std::move(loaded.data), std::move(loaded.stored.info)};
  };
  // "#obj", then "#v/<id>"; a miss counts only when "#obj" did not change meanwhile (the
  // version may have moved from one to the other under the look).
  for (int look = 0; look < kLookAttempts; ++look) {
    const auto before = read_current(dir, path);
    if (before && before->state == Current::State::version && before->stored.info.version_id == id) {
      if (UniqueFd cur(open_object_file(dir, path.file)); cur.get() >= 0) {
        CARTORIO_TRY(auto loaded, read_all(cur.get(), key));
        if (loaded.stored.info.version_id == id) return found(std::move(loaded));
      }
      continue;  // replaced since: look again
    }
    CARTORIO_TRY(const auto vdir, open_versions_dir(dir, path, false));
    if (vdir) {
      UniqueFd fd(open_object_file(vdir->get(), id));
      if (fd.get() >= 0) {
        auto loaded = read_all(fd.get(), key);
        if (!loaded) return in_version(std::move(loaded).error(), id);
        if (loaded->stored.info.version_id != id)
          return in_version(damaged(key, "the file holds version " + in_quotes(loaded->stored.info.version_id)), id);
        return found(std::move(*loaded));
      }
      if (errno != ENOENT) return in_version(file_error(key), id);
    }
    if (same_current(before, read_current(dir, path))) {
      if (!before) return before.error();  // a damaged "#obj" might have been that version
      return no_version(key, version_id);
    }
  }
  return core::Error(Errc::io_error, "version " + in_quotes(version_id) + " of object " + in_quotes(key) +
                                         ": its versions kept changing while looking");
}

core::Result<VersionPage> FilesystemObjectStore::list_versions(std::string_view key, std::size_t limit,
                                                               std::string_view after_version) {
  CARTORIO_TRY_VOID(check_key(key));
  CARTORIO_TRY_VOID(check_list_args({}, limit, {}));
  if (!after_version.empty()) CARTORIO_TRY_VOID(check_version_id(after_version));
  const KeyPath path = split_key(key);
  auto chain = open_dirs(path, false);
  if (!chain) {
    if (chain.error().code != Errc::not_found) return std::move(chain).error();
    if (!after_version.empty()) return unknown_after_version(key, after_version);
    return VersionPage{};
  }
  const int dir = chain->innermost();
  // Lockless: the page stands when "#obj" did not change while it was read (see
  // same_current); otherwise a version could have moved out of sight, so read it again.
  for (int look = 0; look < kLookAttempts; ++look) {
    CARTORIO_TRY(const auto before, read_current(dir, path));
    auto page = versions_page(dir, path, before, limit, after_version);
    CARTORIO_TRY(const auto after, read_current(dir, path));
    if (same_current(before, after)) return page;
  }
  return core::Error(Errc::io_error,
                     "the versions of object " + in_quotes(key) + " kept changing while listing them");
}

// Best effort, innermost first: rmdir fails on a directory that is not empty, so a
// concurrent writer's lock or staged file protects its directory (and a writer that
// loses the race retries from the root).
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
      CARTORIO_TRY(auto entry, list_entry(dirfd, item.name, full, q.with_deleted));
      if (entry) out.push_back(std::move(*entry));
    }
  }
  return core::ok();
}

core::Result<ListPage> FilesystemObjectStore::list_keys(std::string_view prefix, std::size_t limit,
                                                        std::string_view start_after, bool with_deleted) const {
  CARTORIO_TRY_VOID(check_list_args(prefix, limit, start_after));
  std::vector<ListEntry> entries;
  CARTORIO_TRY_VOID(list_dir(m_root->get(), "", ListQuery{prefix, start_after, limit + 1, with_deleted}, entries));
  ListPage page;
  if (entries.size() > limit) {
    entries.resize(limit);
    page.truncated = true;
    page.next_start_after = entries.back().key;
  }
  page.entries = std::move(entries);
  return page;
}

core::Result<ListPage> FilesystemObjectStore::list(std::string_view prefix, std::size_t limit,
                                                   std::string_view start_after) {
  return list_keys(prefix, limit, start_after, false);
}

// "#obj" is there whenever a key has any version: the keys to walk are the same files,
// delete markers included.
core::Result<ListPage> FilesystemObjectStore::list_versioned_keys(std::string_view prefix, std::size_t limit,
                                                                  std::string_view start_after) {
  return list_keys(prefix, limit, start_after, true);
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
    } else if (item.kind == Kind::lock) {
      if (remove_unheld_lock(dirfd, item.name)) ++removed;
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
