#include "documents/document_id.h"

#include <gtest/gtest.h>

#include <set>

namespace cartorio::documents {
namespace {

TEST(DocumentId, IsDocPrefixAnd26LowercaseBase32Chars) {
  const std::string id = new_document_id();
  ASSERT_EQ(id.size(), 30u) << id;
  EXPECT_EQ(id.substr(0, 4), "doc_");
  EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", 4), std::string::npos) << id;
  EXPECT_TRUE(is_document_id(id)) << id;
}

TEST(DocumentId, IsFreshEveryTime_AndEveryPositionVaries) {
  std::set<std::string> seen;
  std::vector<std::set<char>> per_position(26);
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_document_id();
    seen.insert(id);
    for (std::size_t p = 0; p < 26; ++p) per_position[p].insert(id[4 + p]);
  }
  EXPECT_EQ(seen.size(), 2000u);
  // All 32 symbols in each of the 26 positions, the last one included (no fixed bits).
  for (std::size_t p = 0; p < 26; ++p) EXPECT_EQ(per_position[p].size(), 32u) << "position " << p;
}

TEST(DocumentId, RecognisesOnlyTheExactForm) {
  EXPECT_TRUE(is_document_id("doc_abcdefghijklmnopqrstuvwxyz"));
  EXPECT_TRUE(is_document_id("doc_234567abcdefghijklmnopqrst"));
  for (const char* bad : {"", "doc_", "doc_abcdefghijklmnopqrstuvwxy", "doc_abcdefghijklmnopqrstuvwxyza",
                          "DOC_abcdefghijklmnopqrstuvwxyz", "doc_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                          "doc_abcdefghijklmnopqrstuvwxy1", "doc_abcdefghijklmnopqrstuvwxy8",
                          "doc-abcdefghijklmnopqrstuvwxyz", "doc_abcdefghijklmnopqrstuvwx/z",
                          "usr_abcdefghijklmnopqrstuvwxyz"})
    EXPECT_FALSE(is_document_id(bad)) << bad;
}

}  // namespace
}  // namespace cartorio::documents
