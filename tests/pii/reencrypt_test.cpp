// The re-encryption pass over an in-memory table with compare-and-set writes: old tokens move
// to the active key, current ones are left alone, concurrent writers win, damaged tokens are
// counted and skipped, bounded runs resume.
#include "pii/reencrypt.h"

#include "key_ring_fixture.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

namespace cartorio::pii {
namespace {

using core::Errc;

constexpr std::string_view kTable = "users";

// What a SQL store does, in memory: keyset paging by id, UPDATE ... WHERE every column
// still holds what was read.
class MemoryTable final : public EncryptedTable {
 public:
  core::Result<std::vector<Row>> rows_after(std::string_view after_id, std::size_t limit) override {
    ++pages;
    std::vector<Row> out;
    auto it = after_id.empty() ? rows.begin() : rows.upper_bound(std::string(after_id));
    for (; it != rows.end() && out.size() < limit; ++it) out.push_back(Row{it->first, it->second});
    return out;
  }
  core::Result<bool> replace(const Row& current, const Row& resealed) override {
    if (before_replace) before_replace(current.id);
    auto it = rows.find(current.id);
    if (it == rows.end() || it->second != current.tokens) return false;
    it->second = resealed.tokens;
    return true;
  }

  std::map<std::string, std::map<std::string, std::string>> rows;
  std::function<void(const std::string&)> before_replace;
  int pages = 0;
};

class ReencryptTest : public testing::KeyRingTest {
 protected:
  void SetUp() override {
    KeyRingTest::SetUp();
    ASSERT_NE(m_ring, nullptr);
    m_cipher = std::make_unique<FieldCipher>(*m_ring);
  }
  void put(const std::string& id, const std::string& column, const std::string& plaintext) {
    auto token = m_cipher->seal({kTable, column, id}, plaintext);
    ASSERT_OK(token);
    m_table.rows[id][column] = *token;
    m_plain[id][column] = plaintext;
  }
  // Every token opens to what was put, and is under `key_id`.
  void expect_all_under(const std::string& key_id) {
    for (const auto& [id, columns] : m_table.rows) {
      for (const auto& [column, token] : columns) {
        EXPECT_EQ(*FieldCipher::key_id_of(token), key_id) << id << "." << column;
        auto opened = m_cipher->open({kTable, column, id}, token);
        ASSERT_TRUE(opened) << opened.error().to_string();
        EXPECT_EQ(*opened, m_plain[id][column]);
      }
    }
  }
  // Six rows: five under the first key, one (row 6) written after the rotation.
  void fill_and_rotate() {
    for (int i = 1; i <= 5; ++i) {
      const std::string id = "row" + std::to_string(i);
      put(id, "cpf", "5299822472" + std::to_string(i));
      if (i % 2 == 1) put(id, "name", "Pessoa " + std::to_string(i));  // rows 2, 4: name NULL
    }
    m_old_key = active_id();
    m_new_key = rotate();
    put("row6", "cpf", "12345678909");
    put("row6", "name", "Nova");
  }

  std::unique_ptr<FieldCipher> m_cipher;
  MemoryTable m_table;
  std::map<std::string, std::map<std::string, std::string>> m_plain;
  std::string m_old_key;
  std::string m_new_key;
};

TEST_F(ReencryptTest, MovesOldTokensToTheActiveKey) {
  fill_and_rotate();
  ReencryptOptions options;
  options.page_size = 2;
  auto stats = reencrypt(*m_cipher, kTable, m_table, options);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->rows_scanned, 6u);
  EXPECT_EQ(stats->rows_updated, 5u);
  EXPECT_EQ(stats->tokens_resealed, 8u);  // 5 cpf + 3 name
  EXPECT_EQ(stats->rows_changed_concurrently, 0u);
  EXPECT_EQ(stats->tokens_unreadable, 0u);
  EXPECT_TRUE(stats->complete);
  EXPECT_EQ(stats->last_row_id, "row6");
  EXPECT_EQ(m_table.pages, 4);  // 3 full pages and the empty one that ends the pass
  expect_all_under(m_new_key);

  // Nothing left to do: a second pass writes nothing.
  const auto before = m_table.rows;
  auto again = reencrypt(*m_cipher, kTable, m_table);
  ASSERT_OK(again);
  EXPECT_EQ(again->rows_scanned, 6u);
  EXPECT_EQ(again->rows_updated, 0u);
  EXPECT_EQ(again->tokens_resealed, 0u);
  EXPECT_EQ(m_table.rows, before);
}

// The pass binds each token to the table name it is told: the wrong one opens nothing and
// writes nothing.
TEST_F(ReencryptTest, WrongTableNameChangesNothing) {
  fill_and_rotate();
  const auto before = m_table.rows;
  auto stats = reencrypt(*m_cipher, "signers", m_table);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->rows_updated, 0u);
  EXPECT_EQ(stats->tokens_unreadable, 8u);
  EXPECT_EQ(m_table.rows, before);
}

TEST_F(ReencryptTest, ConcurrentWriterWins) {
  fill_and_rotate();
  // Another instance updates row3's cpf between the pass's read and its write.
  m_table.before_replace = [&](const std::string& id) {
    if (id != "row3") return;
    auto token = m_cipher->seal({kTable, "cpf", "row3"}, "39053344705");
    ASSERT_TRUE(token);
    m_table.rows["row3"]["cpf"] = *token;
    m_plain["row3"]["cpf"] = "39053344705";
  };
  auto stats = reencrypt(*m_cipher, kTable, m_table);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->rows_changed_concurrently, 1u);
  EXPECT_EQ(stats->rows_updated, 4u);
  EXPECT_EQ(stats->tokens_resealed, 6u);  // row3's two tokens were not written
  EXPECT_EQ(*m_cipher->open({kTable, "cpf", "row3"}, m_table.rows["row3"]["cpf"]), "39053344705");
  // row3's name is still under the old key (the writer only touched cpf): the next pass moves it.
  EXPECT_EQ(*FieldCipher::key_id_of(m_table.rows["row3"]["name"]), m_old_key);
  m_table.before_replace = nullptr;
  auto next = reencrypt(*m_cipher, kTable, m_table);
  ASSERT_OK(next);
  EXPECT_EQ(next->rows_updated, 1u);
  EXPECT_EQ(next->tokens_resealed, 1u);
  expect_all_under(m_new_key);
}

TEST_F(ReencryptTest, DamagedTokensAreCountedAndSkipped) {
  fill_and_rotate();
  // Row 2's token moved from row 1 (a copy-paste in the database), and a garbled one in row 4.
  m_table.rows["row2"]["cpf"] = m_table.rows["row1"]["cpf"];
  m_table.rows["row4"]["cpf"] = "not a token";
  const auto row2 = m_table.rows["row2"];
  auto stats = reencrypt(*m_cipher, kTable, m_table);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->tokens_unreadable, 2u);
  EXPECT_EQ(stats->rows_updated, 3u);  // rows 1, 3, 5
  EXPECT_EQ(stats->tokens_resealed, 6u);
  EXPECT_EQ(m_table.rows["row2"], row2);
  EXPECT_EQ(m_table.rows["row4"]["cpf"], "not a token");
  EXPECT_EQ(stats->first_unreadable.rfind("row row2 column cpf: store.error", 0), 0u) << stats->first_unreadable;
  // No plaintext in what the operator is shown.
  EXPECT_EQ(stats->first_unreadable.find("5299822472"), std::string::npos) << stats->first_unreadable;
}

TEST_F(ReencryptTest, BoundedRunsResume) {
  fill_and_rotate();
  ReencryptOptions options;
  options.page_size = 2;
  options.max_rows = 3;
  std::size_t runs = 0, updated = 0;
  for (;;) {
    auto stats = reencrypt(*m_cipher, kTable, m_table, options);
    ASSERT_OK(stats);
    ++runs;
    updated += stats->rows_updated;
    EXPECT_LE(stats->rows_scanned, 3u);
    if (stats->complete) break;
    ASSERT_FALSE(stats->last_row_id.empty());
    options.start_after = stats->last_row_id;
    ASSERT_LT(runs, 10u);
  }
  EXPECT_EQ(runs, 3u);  // 3 rows, 3 rows, then the empty page
  EXPECT_EQ(updated, 5u);
  expect_all_under(m_new_key);
}

TEST_F(ReencryptTest, RotationBetweenPassesIsFollowed) {
  fill_and_rotate();
  ASSERT_OK(reencrypt(*m_cipher, kTable, m_table));
  const std::string k3 = rotate();
  auto stats = reencrypt(*m_cipher, kTable, m_table);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->rows_updated, 6u);
  expect_all_under(k3);
}

TEST_F(ReencryptTest, MisbehavingSourcesAreRefused) {
  fill_and_rotate();
  ReencryptOptions zero;
  zero.page_size = 0;
  EXPECT_ERRC(reencrypt(*m_cipher, kTable, m_table, zero), Errc::invalid_argument);

  // A source that ignores the cursor would loop for ever.
  class Stuck final : public EncryptedTable {
   public:
    core::Result<std::vector<Row>> rows_after(std::string_view, std::size_t) override {
      return std::vector<Row>{Row{"a", {}}};
    }
    core::Result<bool> replace(const Row&, const Row&) override { return true; }
  } stuck;
  EXPECT_ERRC(reencrypt(*m_cipher, kTable, stuck), Errc::invalid_argument);

  // Store errors end the pass.
  class Broken final : public EncryptedTable {
   public:
    core::Result<std::vector<Row>> rows_after(std::string_view, std::size_t) override {
      return core::Error(Errc::store_unavailable, "database down");
    }
    core::Result<bool> replace(const Row&, const Row&) override { return true; }
  } broken;
  EXPECT_ERRC(reencrypt(*m_cipher, kTable, broken), Errc::store_unavailable);
}

}  // namespace
}  // namespace cartorio::pii
