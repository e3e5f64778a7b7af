#include "backup/archive.h"

#include "core/files.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <ctime>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cartorio::backup {

using core::Errc;

namespace {

constexpr std::size_t kCopyBytes = 1 << 16;

struct ArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct ReadArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};
using UniqueEntry = std::unique_ptr<archive_entry, EntryDeleter>;

std::string errno_text() { return std::strerror(errno); }

// A new file (never an existing one: O_EXCL), readable by its owner only, as a stdio stream.
core::Result<UniqueFile> create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return core::Error{errno == EEXIST ? Errc::already_exists : Errc::io_error,
                       "cannot create " + path + ": " + errno_text()};
  }
  UniqueFile file(::fdopen(fd, "wb"));
  if (!file) {
    ::close(fd);
    return core::Error{Errc::io_error, "cannot open " + path};
  }
  // cppcheck-suppress resourceLeak ; fd is owned by `file` since fdopen, which cppcheck cannot follow
  return file;
}

}  // namespace

core::Result<void> check_entry_name(std::string_view name) {
  if (name.empty() || name.size() > 4096 || name.front() == '/' || name.back() == '/')
    return core::Error{Errc::invalid_argument, "bad entry name"};
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto end = std::min(name.find('/', start), name.size());
    const auto seg = name.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.find('\0') != std::string_view::npos)
      return core::Error{Errc::invalid_argument, "bad entry name"};
    start = end + 1;
  }
  return core::ok();
}

// ---- writer ----

struct ArchiveWriter::Impl {
  UniqueFile file;
  std::unique_ptr<SealedStreamWriter> sealed;
  std::unique_ptr<archive, ArchiveDeleter> tar;
  std::optional<core::Error> stream_error;  // what the write callback hit
  bool finished = false;

  static la_ssize_t on_write(archive*, void* self, const void* buf, size_t n) {
    auto* impl = static_cast<Impl*>(self);
    auto r = impl->sealed->write(crypto::ByteView(static_cast<const std::uint8_t*>(buf), n));
    if (!r) {
      impl->stream_error = r.error();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  core::Error tar_error(const std::string& what) {
    if (stream_error) return *stream_error;
    return {Errc::io_error, what + ": " + (archive_error_string(tar.get()) ? archive_error_string(tar.get()) : "?")};
  }

  core::Result<void> header(const std::string& name, std::uint64_t size, std::time_t mtime) {
    if (auto c = check_entry_name(name); !c) return core::Error{Errc::invalid_argument, "bad entry name " + name};
    UniqueEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0600);
    archive_entry_set_mtime(e.get(), mtime, 0);
    if (archive_write_header(tar.get(), e.get()) != ARCHIVE_OK) return tar_error("cannot add " + name);
    return core::ok();
  }

  core::Result<void> data(const char* p, std::size_t n) {
    while (n > 0) {
      const auto w = archive_write_data(tar.get(), p, n);
      if (w <= 0) return tar_error("cannot write the archive");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return core::ok();
  }
};

ArchiveWriter::ArchiveWriter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ArchiveWriter::~ArchiveWriter() = default;

core::Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::create(const std::string& path, const BackupKey& key) {
  auto impl = std::make_unique<Impl>();
  CARTORIO_TRY(impl->file, create_private_file(path));
  CARTORIO_TRY(impl->sealed, SealedStreamWriter::start(impl->file.get(), key));
  impl->tar.reset(archive_write_new());
  if (!impl->tar || archive_write_set_format_pax_restricted(impl->tar.get()) != ARCHIVE_OK ||
      archive_write_open(impl->tar.get(), impl.get(), nullptr, &Impl::on_write, nullptr) != ARCHIVE_OK)
    return core::Error{Errc::internal, "libarchive: cannot start a tar archive"};
  return std::make_unique<ArchiveWriter>(std::move(impl));
}

core::Result<void> ArchiveWriter::add(const std::string& name, std::string_view data) {
  CARTORIO_TRY_VOID(m_impl->header(name, data.size(), std::time(nullptr)));
  return m_impl->data(data.data(), data.size());
}

core::Result<void> ArchiveWriter::add_file(const std::string& name, const std::string& source) {
  core::UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    return core::Error{errno == ENOENT ? Errc::not_found : Errc::io_error, "cannot read " + source + ": " + errno_text()};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return core::Error{Errc::io_error, source + " is not a regular file"};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  CARTORIO_TRY_VOID(m_impl->header(name, size, st.st_mtime));
  std::vector<char> buf(kCopyBytes);
  std::uint64_t left = size;
  while (left > 0) {
    const auto n = ::read(fd.get(), buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size())));
    if (n < 0 && errno == EINTR) continue;
    // The header promised `size` bytes: a file cut short meanwhile fails the whole backup.
    if (n <= 0) return core::Error{Errc::io_error, source + " shrank while it was read"};
    CARTORIO_TRY_VOID(m_impl->data(buf.data(), static_cast<std::size_t>(n)));
    left -= static_cast<std::uint64_t>(n);
  }
  return core::ok();
}

core::Result<void> ArchiveWriter::finish() {
  if (m_impl->finished) return core::ok();
  if (archive_write_close(m_impl->tar.get()) != ARCHIVE_OK) return m_impl->tar_error("cannot end the archive");
  CARTORIO_TRY_VOID(m_impl->sealed->finish());
  if (std::fclose(m_impl->file.release()) != 0) return core::Error{Errc::io_error, "cannot close the backup file"};
  m_impl->finished = true;
  return core::ok();
}

// ---- reader ----

struct ArchiveReader::Impl {
  UniqueFile file;
  std::unique_ptr<SealedStreamReader> sealed;
  std::unique_ptr<archive, ReadArchiveDeleter> tar;
  crypto::SecretBytes chunk;  // what libarchive reads from, until its next call
  std::optional<core::Error> stream_error;
  bool ended = false;

  static la_ssize_t on_read(archive*, void* self, const void** buf) {
    auto* impl = static_cast<Impl*>(self);
    auto next = impl->sealed->next();
    if (!next) {
      impl->stream_error = next.error();
      return -1;
    }
    impl->chunk = std::move(*next);
    *buf = impl->chunk.data();
    return static_cast<la_ssize_t>(impl->chunk.size());
  }

  core::Error tar_error(const std::string& what) {
    if (stream_error) return *stream_error;
    const char* msg = archive_error_string(tar.get());
    return {Errc::backup_invalid, what + ": " + (msg ? msg : "damaged archive")};
  }
};

ArchiveReader::ArchiveReader(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ArchiveReader::~ArchiveReader() = default;

core::Result<std::unique_ptr<ArchiveReader>> ArchiveReader::open(const std::string& path, const BackupKey& key) {
  auto impl = std::make_unique<Impl>();
  impl->file.reset(std::fopen(path.c_str(), "rbe"));
  if (!impl->file) {
    return core::Error{errno == ENOENT ? Errc::not_found : Errc::io_error, "cannot open " + path + ": " + errno_text()};
  }
  CARTORIO_TRY(impl->sealed, SealedStreamReader::open(impl->file.get(), key));
  impl->tar.reset(archive_read_new());
  if (!impl->tar || archive_read_support_format_tar(impl->tar.get()) != ARCHIVE_OK)
    return core::Error{Errc::internal, "libarchive: cannot read tar"};
  if (archive_read_open(impl->tar.get(), impl.get(), nullptr, &Impl::on_read, nullptr) != ARCHIVE_OK)
    return impl->tar_error("cannot read the archive");
  return std::make_unique<ArchiveReader>(std::move(impl));
}

core::Result<std::optional<ArchiveEntry>> ArchiveReader::next() {
  if (m_impl->ended) return std::optional<ArchiveEntry>();
  archive_entry* e = nullptr;
  const int r = archive_read_next_header(m_impl->tar.get(), &e);
  if (r == ARCHIVE_EOF) {
    // The tar ended: the container must end here too, with its final chunk.
    CARTORIO_TRY_VOID(m_impl->sealed->finish());
    m_impl->ended = true;
    return std::optional<ArchiveEntry>();
  }
  if (r != ARCHIVE_OK) return m_impl->tar_error("cannot read the next entry");
  ArchiveEntry out;
  const char* name = archive_entry_pathname(e);
  out.name = name ? name : "";
  if (!check_entry_name(out.name) || archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) < 0)
    return core::Error{Errc::backup_invalid, "the backup holds an entry that is not a plain file"};
  out.size = static_cast<std::uint64_t>(archive_entry_size(e));
  return std::optional<ArchiveEntry>(std::move(out));
}

core::Result<std::string> ArchiveReader::read_all(std::size_t max_bytes) {
  std::string out;
  std::vector<char> buf(kCopyBytes);
  for (;;) {
    const auto n = archive_read_data(m_impl->tar.get(), buf.data(), buf.size());
    if (n < 0) return m_impl->tar_error("cannot read an entry");
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
    if (out.size() > max_bytes) return core::Error{Errc::backup_invalid, "an entry is larger than expected"};
  }
  return out;
}

core::Result<void> ArchiveReader::extract_to(const std::string& path, unsigned mode) {
  core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) return core::Error{Errc::io_error, "cannot create " + path + ": " + errno_text()};
  std::vector<char> buf(kCopyBytes);
  for (;;) {
    const auto n = archive_read_data(m_impl->tar.get(), buf.data(), buf.size());
    if (n < 0) return m_impl->tar_error("cannot read an entry");
    if (n == 0) break;
    const char* p = buf.data();
    auto left = static_cast<std::size_t>(n);
    while (left > 0) {
      const auto w = ::write(fd.get(), p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return core::Error{Errc::io_error, "cannot write " + path + ": " + errno_text()};
      p += w;
      left -= static_cast<std::size_t>(w);
    }
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) return core::Error{Errc::io_error, "cannot write " + path};
  return core::ok();
}

core::Result<void> ArchiveReader::skip() {
  if (archive_read_data_skip(m_impl->tar.get()) != ARCHIVE_OK) return m_impl->tar_error("cannot read an entry");
  return core::ok();
}

}  // namespace cartorio::backup
