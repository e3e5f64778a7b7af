// The signatory's personal data in the documents domain: validation (CPF, name, e-mail) with
// messages that never repeat the input; sealing into a record's signer_* columns and opening
// again, bound to the document id; blind-index digests that meet across spellings; and the
// re-encryption pass through DocumentTokenTable over an in-memory repository with the
// store's compare-and-set semantics. A real SoftwareKeyStore is the data-key ring.
#include "documents/personal_data.h"

#include "keys/software/software_key_store.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

namespace cartorio::documents {
namespace {

using core::Errc;

// The store's document repository reduced to what the pass uses, with its semantics:
// pages in id order of rows holding a token, compare-and-set on every token column.
class MemoryDocuments final : public store::DocumentRepository {
 public:
  core::Result<void> insert_document(const store::DocumentRecord& rec, const store::AuditEvent&) override {
    rows[rec.id] = rec;
    return core::ok();
  }
  core::Result<store::DocumentRecord> get_document(const std::string& id) override {
    auto it = rows.find(id);
    if (it == rows.end()) return core::Error(Errc::not_found, "no document");
    return it->second;
  }
  core::Result<std::vector<store::DocumentRecord>> find_documents_by_digest(const std::string&) override {
    return std::vector<store::DocumentRecord>{};
  }
  core::Result<std::vector<store::DocumentRecord>> list_documents(const store::DocumentFilter&) override {
    return std::vector<store::DocumentRecord>{};
  }
  core::Result<std::vector<store::DocumentTokens>> list_document_tokens(const std::string& after_id,
                                                                         int limit) override {
    std::vector<store::DocumentTokens> out;
    for (auto it = rows.upper_bound(after_id); it != rows.end() && static_cast<int>(out.size()) < limit; ++it) {
      auto t = tokens_of(it->second);
      if (!t.tokens.empty()) out.push_back(std::move(t));
    }
    return out;
  }
  core::Result<bool> replace_document_tokens(const store::DocumentTokens& current,
                                             const store::DocumentTokens& next) override {
    auto it = rows.find(current.id);
    if (it == rows.end() || tokens_of(it->second).tokens != current.tokens) return false;
    auto& r = it->second;
    for (const auto& [column, token] : next.tokens) *column_of(r, column) = token;
    return true;
  }

  static store::DocumentTokens tokens_of(const store::DocumentRecord& r) {
    store::DocumentTokens t{r.id, {}};
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"signer_cpf", &r.signer_cpf},
                                      {"signer_name", &r.signer_name},
                                      {"signer_email", &r.signer_email}})
      if (!value->empty()) t.tokens[name] = *value;
    return t;
  }
  static std::string* column_of(store::DocumentRecord& r, const std::string& column) {
    if (column == "signer_cpf") return &r.signer_cpf;
    if (column == "signer_name") return &r.signer_name;
    return &r.signer_email;
  }

  std::map<std::string, store::DocumentRecord> rows;
};

class PersonalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto master = m_dir / "master.key";
    ASSERT_TRUE(keys::create_master_key_file(master));
    keys::SoftwareKeyStoreOptions o;
    o.directory = m_dir / "data-keys";
    o.master_key_file = master;
    auto ring = keys::SoftwareKeyStore::open(std::move(o));
    ASSERT_TRUE(ring) << ring.error().to_string();
    m_ring = std::move(ring).value();
    m_cipher = std::make_unique<pii::FieldCipher>(*m_ring);
    auto index = pii::BlindIndex::create(crypto::SecretBytes(std::string(32, 'k')));
    ASSERT_TRUE(index) << index.error().to_string();
    m_index = std::make_unique<pii::BlindIndex>(std::move(*index));
    m_data = std::make_unique<PersonalData>(*m_cipher, *m_index);
  }

  Signatory ana() {
    auto s = parse_signatory({"529.982.247-25", "Ana Beatriz Quintanilha", "Ana.Q@Correio.example"});
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? *s : Signatory{};
  }
  store::DocumentRecord sealed(const std::string& id, const Signatory& s) {
    store::DocumentRecord rec;
    rec.id = id;
    auto r = m_data->seal(s, rec);
    EXPECT_TRUE(r) << r.error().to_string();
    return rec;
  }
  static std::string key_of(const std::string& token) {
    auto id = pii::FieldCipher::key_id_of(token);
    return id ? *id : "<bad token>";
  }

  testing::TempDir m_dir;
  std::unique_ptr<keys::SoftwareKeyStore> m_ring;
  std::unique_ptr<pii::FieldCipher> m_cipher;
  std::unique_ptr<pii::BlindIndex> m_index;
  std::unique_ptr<PersonalData> m_data;
};

TEST(ParseSignatory, AcceptsEitherCpfSpelling_TrimsFields_AndTreatsEmptyAsNotGiven) {
  auto s = parse_signatory({" 52998224725\t", "  Jo\xc3\xa3o da Silva ", " joao@example.com "});
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_TRUE(s->cpf);
  EXPECT_EQ(s->cpf->digits(), "52998224725");
  EXPECT_EQ(s->name, "Jo\xc3\xa3o da Silva");
  EXPECT_EQ(s->email, "joao@example.com");
  auto none = parse_signatory({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto only_name = parse_signatory({"", "Ana", ""});
  ASSERT_TRUE(only_name);
  EXPECT_FALSE(only_name->cpf);
  EXPECT_FALSE(only_name->empty());
}

TEST(ParseSignatory, RefusesBadInput_WithoutRepeatingIt) {
  struct Case {
    SignatoryInput in;
    Errc code;
  };
  const Case cases[] = {
      {{"529.982.247-24", "", ""}, Errc::invalid_cpf},   // check digits
      {{"111.111.111-11", "", ""}, Errc::invalid_cpf},   // all equal
      {{"529982.247-25", "", ""}, Errc::invalid_cpf},    // partial punctuation
      {{"5299822472", "", ""}, Errc::invalid_cpf},       // 10 digits
      {{"   ", "", ""}, Errc::invalid_cpf},              // blank
      {{"", "   ", ""}, Errc::invalid_argument},         // blank name
      {{"", "Ana\nSouza", ""}, Errc::invalid_argument},  // control character
      {{"", std::string(201, 'a'), ""}, Errc::invalid_argument},
      {{"", "", "ana"}, Errc::invalid_argument},
      {{"", "", "ana@"}, Errc::invalid_argument},
      {{"", "", "@example.com"}, Errc::invalid_argument},
      {{"", "", "ana@example"}, Errc::invalid_argument},
      {{"", "", "ana@@example.com"}, Errc::invalid_argument},
      {{"", "", "ana souza@example.com"}, Errc::invalid_argument},
      {{"", "", "Ana <ana@example.com>"}, Errc::invalid_argument},
      {{"", "", "ana@example..com"}, Errc::invalid_argument},
      {{"", "", "ana@example.com."}, Errc::invalid_argument},
  };
  for (const auto& c : cases) {
    auto r = parse_signatory(c.in);
    ASSERT_FALSE(r) << c.in.cpf << c.in.name << c.in.email;
    EXPECT_EQ(r.error().code, c.code) << r.error().to_string();
    for (const std::string* given : {&c.in.cpf, &c.in.name, &c.in.email}) {
      if (given->size() < 3) continue;
      EXPECT_EQ(r.error().message.find(*given), std::string::npos) << r.error().message;
    }
  }
}

TEST_F(PersonalDataTest, SealsEveryField_AndOpensItAgain) {
  const Signatory s = ana();
  const auto rec = sealed("doc_0001", s);
  for (const std::string* token : {&rec.signer_cpf, &rec.signer_name, &rec.signer_email}) {
    EXPECT_EQ(token->rfind("pii1.", 0), 0u) << *token;
    EXPECT_EQ(token->find("Quintanilha"), std::string::npos);
  }
  EXPECT_EQ(rec.signer_cpf.find("52998224725"), std::string::npos);
  EXPECT_EQ(rec.signer_cpf_index.size(), 43u);
  EXPECT_EQ(rec.signer_email_index.size(), 43u);

  auto opened = m_data->open(rec);
  ASSERT_TRUE(opened) << opened.error().to_string();
  ASSERT_TRUE(opened->cpf);
  EXPECT_EQ(opened->cpf->formatted(), "529.982.247-25");
  EXPECT_EQ(opened->name, "Ana Beatriz Quintanilha");
  EXPECT_EQ(opened->email, "Ana.Q@Correio.example");  // as given; the index is of the normalised form
}

TEST_F(PersonalDataTest, FieldsNotGivenStayEmpty) {
  auto s = parse_signatory({"111.444.777-35", "", ""});
  ASSERT_TRUE(s);
  const auto rec = sealed("doc_0002", *s);
  EXPECT_FALSE(rec.signer_cpf.empty());
  EXPECT_TRUE(rec.signer_name.empty());
  EXPECT_TRUE(rec.signer_email.empty());
  EXPECT_TRUE(rec.signer_email_index.empty());
  const auto none = sealed("doc_0003", Signatory{});
  EXPECT_TRUE(none.signer_cpf.empty() && none.signer_cpf_index.empty());
  auto opened = m_data->open(none);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->empty());
  store::DocumentRecord no_id;
  EXPECT_EQ(m_data->seal(ana(), no_id).error().code, Errc::invalid_argument);
}

TEST_F(PersonalDataTest, TokensAreBoundToTheirDocumentAndColumn) {
  const auto a = sealed("doc_a", ana());
  auto moved = sealed("doc_b", ana());
  moved.signer_cpf = a.signer_cpf;  // a token copied into another row
  auto r = m_data->open(moved);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::store_error);
  EXPECT_EQ(r.error().message.find("Quintanilha"), std::string::npos);
  auto swapped = a;
  swapped.signer_name = a.signer_email;  // another column of the same row
  EXPECT_EQ(m_data->open(swapped).error().code, Errc::store_error);
}

TEST_F(PersonalDataTest, TheCpfIndexMeetsAcrossSpellings_AndDiffersPerCpfAndFromEmail) {
  const auto rec = sealed("doc_1", ana());
  auto formatted = pii::parse_cpf("529.982.247-25");
  auto digits = pii::parse_cpf("52998224725");
  auto other = pii::parse_cpf("111.444.777-35");
  ASSERT_TRUE(formatted && digits && other);
  EXPECT_EQ(m_data->cpf_index(*formatted), rec.signer_cpf_index);
  EXPECT_EQ(m_data->cpf_index(*digits), rec.signer_cpf_index);
  EXPECT_NE(m_data->cpf_index(*other), rec.signer_cpf_index);
  EXPECT_NE(rec.signer_email_index, rec.signer_cpf_index);
  // Equal values give equal digests but different tokens (random nonces).
  const auto again = sealed("doc_2", ana());
  EXPECT_EQ(again.signer_cpf_index, rec.signer_cpf_index);
  EXPECT_EQ(again.signer_email_index, rec.signer_email_index);
  EXPECT_NE(again.signer_cpf, rec.signer_cpf);
  // E-mail spellings that differ only in case or surrounding space meet too.
  auto shouting = parse_signatory({"", "", "  ANA.Q@CORREIO.EXAMPLE "});
  ASSERT_TRUE(shouting);
  EXPECT_EQ(sealed("doc_3", *shouting).signer_email_index, rec.signer_email_index);
}

TEST_F(PersonalDataTest, ReencryptMovesOldRowsToTheActiveKey_AndEveryRowStillOpens) {
  MemoryDocuments docs;
  const std::string first_key = key_of(sealed("doc_probe", ana()).signer_cpf);
  docs.rows["doc_1"] = sealed("doc_1", ana());
  auto partial = parse_signatory({"", "Rui", ""});
  ASSERT_TRUE(partial);
  docs.rows["doc_2"] = sealed("doc_2", *partial);
  docs.rows["doc_3"] = sealed("doc_3", Signatory{});  // nothing to re-seal
  auto rotated = m_ring->rotate_data_key();
  ASSERT_TRUE(rotated) << rotated.error().to_string();
  ASSERT_NE(*rotated, first_key);
  docs.rows["doc_4"] = sealed("doc_4", ana());  // already under the new key
  EXPECT_EQ(key_of(docs.rows["doc_4"].signer_cpf), *rotated);
  const std::string index_before = docs.rows["doc_1"].signer_cpf_index;

  // Old rows still open before the pass.
  for (const auto& [id, rec] : docs.rows) EXPECT_TRUE(m_data->open(rec)) << id;

  pii::ReencryptOptions o;
  o.page_size = 1;  // several pages
  auto stats = reencrypt_documents(*m_cipher, docs, o);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_TRUE(stats->complete);
  EXPECT_EQ(stats->rows_scanned, 3u);  // doc_3 holds no token
  EXPECT_EQ(stats->rows_updated, 2u);
  EXPECT_EQ(stats->tokens_resealed, 4u);
  EXPECT_EQ(stats->tokens_unreadable, 0u);
  for (const auto& [id, rec] : docs.rows) {
    for (const std::string* token : {&rec.signer_cpf, &rec.signer_name, &rec.signer_email}) {
      if (!token->empty()) {
        EXPECT_EQ(key_of(*token), *rotated) << id;
      }
    }
    auto opened = m_data->open(rec);
    ASSERT_TRUE(opened) << id << ": " << opened.error().to_string();
  }
  EXPECT_EQ(m_data->open(docs.rows["doc_1"])->name, "Ana Beatriz Quintanilha");
  EXPECT_EQ(m_data->open(docs.rows["doc_2"])->name, "Rui");
  EXPECT_EQ(docs.rows["doc_1"].signer_cpf_index, index_before);

  auto second = reencrypt_documents(*m_cipher, docs);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->tokens_resealed, 0u);
  EXPECT_EQ(second->rows_updated, 0u);
}

}  // namespace
}  // namespace cartorio::documents
