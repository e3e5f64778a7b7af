#include "backup/sealed_stream.h"

#include "crypto/framing.h"
#include "crypto/primitives.h"

#include <array>
#include <cstring>
#include <unistd.h>

namespace cartorio::backup {

using core::Errc;

namespace {

constexpr std::string_view kMagic = "cartorio-backup\n";
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kKeyIdBytes = 8;
constexpr std::size_t kSaltBytes = 32;
constexpr std::size_t kHeaderBytes = kMagic.size() + 1 + 4 + kKeyIdBytes + kSaltBytes;

void put_u32(crypto::Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

crypto::Bytes key_id_bytes(const crypto::SecretBytes& key) {
  auto mac = crypto::hmac_sha256(key.view(), crypto::as_bytes("cartorio.backup.v1.key-id"));
  mac.resize(kKeyIdBytes);
  return mac;
}

crypto::SecretBytes file_key(const crypto::SecretBytes& key, crypto::ByteView salt) {
  auto mac = crypto::hmac_sha256(key.view(),
                                 crypto::length_prefixed({crypto::as_bytes("cartorio.backup.v1.file-key"), salt}));
  crypto::SecretBytes out(mac);
  std::fill(mac.begin(), mac.end(), 0);
  return out;
}

crypto::Bytes chunk_aad(const crypto::Bytes& header, std::uint64_t index, bool final) {
  std::array<std::uint8_t, 8> idx{};
  for (int i = 0; i < 8; ++i) idx[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(index >> (56 - 8 * i));
  const std::uint8_t flag = final ? 1 : 0;
  return crypto::length_prefixed({crypto::ByteView(header), crypto::ByteView(idx), crypto::ByteView(&flag, 1)});
}

core::Error invalid(const std::string& what) {
  return {Errc::backup_invalid, what + ": the backup is truncated or altered; nothing was restored"};
}

}  // namespace

core::Result<BackupKey> make_backup_key(crypto::SecretBytes raw) {
  if (raw.size() != crypto::kAeadKeySize) return core::Error{Errc::invalid_argument, "a backup key is 32 bytes"};
  BackupKey k;
  k.id = crypto::to_hex(key_id_bytes(raw));
  k.key = std::move(raw);
  return k;
}

SealedStreamWriter::SealedStreamWriter(Passkey, std::FILE* out, crypto::SecretBytes key, crypto::Bytes header)
    : m_out(out), m_file_key(std::move(key)), m_header(std::move(header)) {
  m_buffer.reserve(kChunkBytes);
}

core::Result<std::unique_ptr<SealedStreamWriter>> SealedStreamWriter::start(std::FILE* out, const BackupKey& key) {
  crypto::Bytes header(kMagic.begin(), kMagic.end());
  header.push_back(kVersion);
  put_u32(header, static_cast<std::uint32_t>(kChunkBytes));
  const auto id = key_id_bytes(key.key);
  header.insert(header.end(), id.begin(), id.end());
  const auto salt = crypto::random_bytes(kSaltBytes);
  header.insert(header.end(), salt.begin(), salt.end());
  if (std::fwrite(header.data(), 1, header.size(), out) != header.size())
    return core::Error{Errc::io_error, "cannot write the backup header"};
  return std::make_unique<SealedStreamWriter>(Passkey{}, out, file_key(key.key, salt), std::move(header));
}

core::Result<void> SealedStreamWriter::seal_chunk(bool final) {
  CARTORIO_TRY(auto sealed, crypto::aead_seal(m_file_key, m_buffer, chunk_aad(m_header, m_index, final)));
  std::fill(m_buffer.begin(), m_buffer.end(), 0);
  m_buffer.clear();
  crypto::Bytes len;
  put_u32(len, static_cast<std::uint32_t>(sealed.size()));
  if (std::fwrite(len.data(), 1, len.size(), m_out) != len.size() ||
      std::fwrite(sealed.data(), 1, sealed.size(), m_out) != sealed.size())
    return core::Error{Errc::io_error, "cannot write the backup (disk full?)"};
  ++m_index;
  return core::ok();
}

core::Result<void> SealedStreamWriter::write(crypto::ByteView data) {
  if (m_finished) return core::Error{Errc::internal, "write after finish"};
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), kChunkBytes - m_buffer.size());
    m_buffer.insert(m_buffer.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (m_buffer.size() == kChunkBytes) {
      CARTORIO_TRY_VOID(seal_chunk(false));
    }
  }
  return core::ok();
}

core::Result<void> SealedStreamWriter::finish() {
  if (m_finished) return core::ok();
  CARTORIO_TRY_VOID(seal_chunk(true));
  m_finished = true;
  if (std::fflush(m_out) != 0 || ::fsync(fileno(m_out)) != 0)
    return core::Error{Errc::io_error, "cannot flush the backup to disk"};
  return core::ok();
}

SealedStreamReader::SealedStreamReader(Passkey, std::FILE* in, crypto::SecretBytes key, crypto::Bytes header)
    : m_in(in), m_file_key(std::move(key)), m_header(std::move(header)) {}

core::Result<std::unique_ptr<SealedStreamReader>> SealedStreamReader::open(std::FILE* in, const BackupKey& key) {
  crypto::Bytes header(kHeaderBytes);
  if (std::fread(header.data(), 1, header.size(), in) != header.size() ||
      std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0)
    return core::Error{Errc::backup_invalid, "not a Cartório backup (no header)"};
  std::size_t at = kMagic.size();
  if (header[at] != kVersion)
    return core::Error{Errc::backup_invalid, "backup format version " + std::to_string(header[at]) + " is not known"};
  at += 1;
  if (get_u32(&header[at]) != kChunkBytes) return core::Error{Errc::backup_invalid, "unexpected chunk size in the header"};
  at += 4;
  const crypto::ByteView id(&header[at], kKeyIdBytes);
  at += kKeyIdBytes;
  const auto expected = key_id_bytes(key.key);
  if (!crypto::constant_time_equal(id, expected))
    return core::Error{Errc::backup_wrong_key, "the backup was made with backup key " + crypto::to_hex(id) +
                                                   ", not with " + key.id + " (backup.key_file)"};
  auto fk = file_key(key.key, crypto::ByteView(&header[at], kSaltBytes));
  return std::make_unique<SealedStreamReader>(Passkey{}, in, std::move(fk), std::move(header));
}

core::Result<crypto::SecretBytes> SealedStreamReader::next() {
  if (m_done) return crypto::SecretBytes();
  std::uint8_t len_bytes[4];
  const std::size_t got = std::fread(len_bytes, 1, 4, m_in);
  if (got != 4) return invalid("the backup ends before its last chunk (" + std::to_string(m_index) + " read)");
  const std::uint32_t len = get_u32(len_bytes);
  if (len < crypto::kAeadOverhead || len > kChunkBytes + crypto::kAeadOverhead)
    return invalid("chunk " + std::to_string(m_index) + " has an impossible length");
  crypto::Bytes sealed(len);
  if (std::fread(sealed.data(), 1, len, m_in) != len) return invalid("chunk " + std::to_string(m_index) + " is cut short");
  // A chunk opens under exactly one of the two flags: the final one only under "final".
  for (bool final : {false, true}) {
    auto plain = crypto::aead_open(m_file_key, sealed, chunk_aad(m_header, m_index, final));
    if (!plain) continue;
    ++m_index;
    if (final) {
      if (std::fgetc(m_in) != EOF) return invalid("bytes follow the last chunk");
      m_done = true;
    }
    return std::move(*plain);
  }
  return invalid("chunk " + std::to_string(m_index) + " does not authenticate");
}

core::Result<void> SealedStreamReader::finish() {
  while (!m_done) {
    CARTORIO_TRY_VOID(next());
  }
  return core::ok();
}

}  // namespace cartorio::backup
