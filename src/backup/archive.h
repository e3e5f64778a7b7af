// A backup file: a tar archive (libarchive, pax) of named entries inside the encrypted
// container of backup/sealed_stream.h. Written and read as a stream: one chunk and one
// copy buffer in memory, whatever the size of the database dump.
//
// Entry names are relative '/'-separated paths without "." or ".." segments; the reader
// refuses anything else, and anything but regular files (Errc::backup_invalid), although
// an authenticated archive could only hold what the writer put there.
#pragma once

#include "backup/sealed_stream.h"
#include "core/error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cartorio::backup {

// Errc::invalid_argument unless a relative path of plain segments.
core::Result<void> check_entry_name(std::string_view name);

class ArchiveWriter {
 public:
  // Creates `path` (0600; Errc::already_exists when it exists) and writes the header.
  static core::Result<std::unique_ptr<ArchiveWriter>> create(const std::string& path, const BackupKey& key);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  core::Result<void> add(const std::string& name, std::string_view data);
  // Streams a regular file's bytes as of when it was opened (a file replaced by rename
  // meanwhile is read whole from the old inode). Errc::not_found when it vanished first.
  core::Result<void> add_file(const std::string& name, const std::string& source);
  // Ends the tar, seals the final chunk, fsyncs. The file is complete only after this.
  core::Result<void> finish();

  struct Impl;
  explicit ArchiveWriter(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> m_impl;
};

struct ArchiveEntry {
  std::string name;
  std::uint64_t size = 0;
};

class ArchiveReader {
 public:
  // Errc::not_found, io_error; backup_invalid, backup_wrong_key (sealed_stream.h).
  static core::Result<std::unique_ptr<ArchiveReader>> open(const std::string& path, const BackupKey& key);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // The next entry, or nullopt at the end, once the container's final chunk was checked.
  // Errc::backup_invalid for a truncated or altered file.
  core::Result<std::optional<ArchiveEntry>> next();
  // The current entry's bytes (Errc::backup_invalid beyond max_bytes).
  core::Result<std::string> read_all(std::size_t max_bytes);
  // Writes the current entry's bytes to a new file (O_EXCL, `mode`), fsynced.
  core::Result<void> extract_to(const std::string& path, unsigned mode = 0600);
  // Reads the current entry's bytes and drops them.
  core::Result<void> skip();

  struct Impl;
  explicit ArchiveReader(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cartorio::backup
