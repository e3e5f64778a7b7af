// The encrypted container of a backup: a stream cut into chunks, each sealed with
// AES-256-GCM (crypto::aead_seal) under a key derived for this file, so a backup of any size
// is written and read with one chunk in memory.
//
//   header   "cartorio-backup\n" (16) | version 1 (1) | chunk size (u32 BE) | key id (8) | salt (32)
//   chunk*   sealed length (u32 BE) | nonce (12) ciphertext tag (16)
//
// file key  = HMAC-SHA256(backup key, framed("cartorio.backup.v1.file-key", salt))
// key id    = HMAC-SHA256(backup key, "cartorio.backup.v1.key-id")[0..8): tells a wrong key
//             from a damaged file before anything is decrypted
// chunk AAD = framed(header, chunk index (u64 BE), final flag (1 byte))
//
// The header is in every chunk's AAD, the index stops reordering, and the last chunk (maybe
// empty) carries the final flag: a file cut at a chunk boundary, with a chunk dropped,
// swapped, altered, or with bytes after the final chunk is Errc::backup_invalid.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/secret_bytes.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace cartorio::backup {

inline constexpr std::size_t kChunkBytes = 1 << 20;

// The operator's backup key (backup.key_file) and its public id (16 hex digits).
struct BackupKey {
  crypto::SecretBytes key;
  std::string id;
};
// Errc::invalid_argument unless 32 bytes.
core::Result<BackupKey> make_backup_key(crypto::SecretBytes raw);

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

class SealedStreamWriter {
 public:
  // Writes the header to `out` (borrowed; must outlive the writer).
  static core::Result<std::unique_ptr<SealedStreamWriter>> start(std::FILE* out, const BackupKey& key);
  core::Result<void> write(crypto::ByteView data);
  // Seals what is buffered as the final chunk and flushes `out`. Nothing may follow.
  core::Result<void> finish();

  struct Passkey {};
  SealedStreamWriter(Passkey, std::FILE* out, crypto::SecretBytes file_key, crypto::Bytes header);

 private:
  core::Result<void> seal_chunk(bool final);
  std::FILE* m_out;
  crypto::SecretBytes m_file_key;
  crypto::Bytes m_header;
  crypto::Bytes m_buffer;
  std::uint64_t m_index = 0;
  bool m_finished = false;
};

class SealedStreamReader {
 public:
  // Reads and checks the header: Errc::backup_invalid (not a backup, unknown version),
  // Errc::backup_wrong_key (sealed under another key; the message names both ids).
  static core::Result<std::unique_ptr<SealedStreamReader>> open(std::FILE* in, const BackupKey& key);
  // The next chunk's plaintext; empty once the final chunk was read. Errc::backup_invalid
  // for a truncated or altered stream.
  core::Result<crypto::SecretBytes> next();
  bool done() const { return m_done; }
  // Reads to the end: Errc::backup_invalid unless the final chunk comes and nothing after.
  core::Result<void> finish();

  struct Passkey {};
  SealedStreamReader(Passkey, std::FILE* in, crypto::SecretBytes file_key, crypto::Bytes header);

 private:
  std::FILE* m_in;
  crypto::SecretBytes m_file_key;
  crypto::Bytes m_header;
  std::uint64_t m_index = 0;
  bool m_done = false;
};

}  // namespace cartorio::backup
