// The backup file format (backup/archive.h, backup/sealed_stream.h): entries come back as
// written across chunk boundaries; a wrong key, a truncated, altered, reordered or extended
// file, or something that is no backup at all, is refused with its stable code before the
// reader reports the end.
#include "backup/archive.h"
#include "crypto/primitives.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

using cartorio::core::Errc;
using cartorio::testing::read_file;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace backup = cartorio::backup;
namespace crypto = cartorio::crypto;
namespace fs = std::filesystem;

constexpr std::size_t kHeaderBytes = 16 + 1 + 4 + 8 + 32;

backup::BackupKey make_key() {
  auto k = backup::make_backup_key(crypto::random_secret(32));
  EXPECT_TRUE(k);
  return std::move(*k);
}

std::string random_text(std::size_t n) {
  auto b = crypto::random_bytes(n);
  return std::string(b.begin(), b.end());
}

struct Entry {
  std::string name;
  std::string data;
};

// Reads every entry of `path`, then the end; the first error's code when there is one.
std::pair<std::vector<Entry>, std::optional<Errc>> read_all(const std::string& path, const backup::BackupKey& key) {
  std::vector<Entry> out;
  auto reader = backup::ArchiveReader::open(path, key);
  if (!reader) return {out, reader.error().code};
  for (;;) {
    auto e = (*reader)->next();
    if (!e) return {out, e.error().code};
    if (!*e) return {out, std::nullopt};
    auto data = (*reader)->read_all(64 << 20);
    if (!data) return {out, data.error().code};
    out.push_back({(*e)->name, *data});
  }
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key = make_key();
    file = (dir / "b.cbk").string();
    big = random_text(backup::kChunkBytes * 2 + 12345);  // spans three chunks
    write_file(dir / "source.bin", big);
    auto w = backup::ArchiveWriter::create(file, key);
    ASSERT_OK(w);
    ASSERT_OK((*w)->add("manifest.json", "{\"format\":\"test\"}"));
    ASSERT_OK((*w)->add_file("data/objects/big.bin", (dir / "source.bin").string()));
    ASSERT_OK((*w)->add("data/empty", ""));
    ASSERT_OK((*w)->finish());
    bytes = read_file(file);
  }

  // The chunk records after the header: (offset, total length incl. the 4-byte prefix).
  std::vector<std::pair<std::size_t, std::size_t>> chunks() const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t at = kHeaderBytes;
    while (at + 4 <= bytes.size()) {
      const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
      const std::size_t len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
      out.emplace_back(at, 4 + len);
      at += 4 + len;
    }
    EXPECT_EQ(at, bytes.size());
    return out;
  }

  std::optional<Errc> error_of(const std::string& content) {
    const auto altered = (dir / "altered.cbk").string();
    fs::remove(altered);
    write_file(altered, content);
    return read_all(altered, key).second;
  }

  TempDir dir;
  backup::BackupKey key;
  std::string file;
  std::string big;
  std::string bytes;
};

TEST_F(ArchiveTest, EntriesComeBackAsWritten) {
  auto [entries, err] = read_all(file, key);
  ASSERT_FALSE(err) << static_cast<int>(*err);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "manifest.json");
  EXPECT_EQ(entries[0].data, "{\"format\":\"test\"}");
  EXPECT_EQ(entries[1].name, "data/objects/big.bin");
  EXPECT_TRUE(entries[1].data == big) << "the large entry differs";
  EXPECT_EQ(entries[2].name, "data/empty");
  EXPECT_EQ(entries[2].data, "");
  EXPECT_GE(chunks().size(), 3u);
  // Encrypted: no run of the plaintext shows in the file.
  EXPECT_EQ(bytes.find(big.substr(1000, 64)), std::string::npos);
  EXPECT_EQ(bytes.find("manifest.json"), std::string::npos);
}

TEST_F(ArchiveTest, ExtractToStreamsAnEntryIntoANewFile) {
  auto reader = backup::ArchiveReader::open(file, key);
  ASSERT_OK(reader);
  ASSERT_OK((*reader)->next());
  ASSERT_OK((*reader)->skip());
  auto e = (*reader)->next();
  ASSERT_OK(e);
  ASSERT_TRUE(*e);
  const auto out = dir / "out.bin";
  ASSERT_OK((*reader)->extract_to(out.string()));
  EXPECT_TRUE(read_file(out) == big);
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(ArchiveTest, AnotherKeyIsRefusedAsWrongKey) {
  auto other = make_key();
  EXPECT_ERRC(backup::ArchiveReader::open(file, other), Errc::backup_wrong_key);
}

TEST_F(ArchiveTest, ATruncatedFileIsInvalid) {
  const auto c = chunks();
  // Cut inside the header, inside a chunk, and exactly at a chunk boundary (final dropped).
  for (std::size_t cut : {std::size_t{10}, kHeaderBytes + 100, c.back().first, bytes.size() - 1}) {
    EXPECT_EQ(error_of(bytes.substr(0, cut)), Errc::backup_invalid) << "cut at " << cut;
  }
}

TEST_F(ArchiveTest, AnAlteredByteIsInvalid) {
  for (std::size_t at : {kHeaderBytes + 4 + 40, bytes.size() / 2, bytes.size() - 3}) {
    std::string altered = bytes;
    altered[at] = static_cast<char>(altered[at] ^ 0x01);
    EXPECT_EQ(error_of(altered), Errc::backup_invalid) << "byte " << at;
  }
  // The salt is in the header every chunk authenticates.
  std::string altered = bytes;
  altered[kHeaderBytes - 1] = static_cast<char>(altered[kHeaderBytes - 1] ^ 0x01);
  EXPECT_EQ(error_of(altered), Errc::backup_invalid);
}

TEST_F(ArchiveTest, ReorderedDroppedOrAppendedChunksAreInvalid) {
  const auto c = chunks();
  ASSERT_GE(c.size(), 3u);
  const std::string header = bytes.substr(0, kHeaderBytes);
  auto chunk = [&](std::size_t i) { return bytes.substr(c[i].first, c[i].second); };
  std::string rest;
  for (std::size_t i = 2; i < c.size(); ++i) rest += chunk(i);
  EXPECT_EQ(error_of(header + chunk(1) + chunk(0) + rest), Errc::backup_invalid) << "swapped";
  EXPECT_EQ(error_of(header + chunk(0) + rest), Errc::backup_invalid) << "one dropped";
  EXPECT_EQ(error_of(bytes + chunk(0)), Errc::backup_invalid) << "chunk appended";
  EXPECT_EQ(error_of(bytes + "x"), Errc::backup_invalid) << "byte appended";
}

TEST_F(ArchiveTest, SomethingElseIsNoBackup) {
  EXPECT_EQ(error_of("PK\x03\x04 not a backup at all, just some bytes long enough for a header........"),
            Errc::backup_invalid);
  EXPECT_EQ(error_of(""), Errc::backup_invalid);
}

TEST(ArchiveNames, OnlyPlainRelativePaths) {
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/", "./a"})
    EXPECT_FALSE(backup::check_entry_name(bad)) << bad;
  for (const char* good : {"manifest.json", "data/keys/k.sealed", "data/objects/a/b#obj"})
    EXPECT_TRUE(backup::check_entry_name(good)) << good;
}

TEST(ArchiveWriterTest, NeverReplacesAFile) {
  TempDir dir;
  write_file(dir / "x", "keep");
  auto key = make_key();
  EXPECT_ERRC(backup::ArchiveWriter::create((dir / "x").string(), key), Errc::already_exists);
  EXPECT_EQ(read_file(dir / "x"), "keep");
}

}  // namespace
