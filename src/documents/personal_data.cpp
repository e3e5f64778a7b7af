#include "documents/personal_data.h"

#include <algorithm>

namespace cartorio::documents {
namespace {

using core::Errc;
using core::Error;

// The token columns; also the FieldContext::column each token is sealed for, so the names
// pii::reencrypt reads back from the store open what was sealed.
constexpr std::string_view kCpfColumn = "signer_cpf";
constexpr std::string_view kNameColumn = "signer_name";
constexpr std::string_view kEmailColumn = "signer_email";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

// A sanity check, not RFC 5322: what a person types as their address, with nothing that
// could break a header, a URL or a CSV it is later pasted into.
bool plausible_email(std::string_view s) {
  if (s.size() > kMaxEmailBytes || has_control(s)) return false;
  if (std::count(s.begin(), s.end(), '@') != 1) return false;
  if (s.find_first_of(" <>()[],;:\"\\") != std::string_view::npos) return false;
  const std::size_t at = s.find('@');
  const std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.empty() || local.size() > 64) return false;
  const std::size_t dot = domain.find('.');
  return dot != std::string_view::npos && dot != 0 && domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

core::Result<std::string> open_field(const pii::FieldCipher& cipher, std::string_view column,
                                     const store::DocumentRecord& rec, const std::string& token) {
  return cipher.open({kPersonalDataTable, column, rec.id}, token);
}

}  // namespace

core::Result<Signatory> parse_signatory(const SignatoryInput& input) {
  Signatory out;
  if (!input.cpf.empty()) {
    CARTORIO_TRY(out.cpf, pii::parse_cpf(trim(input.cpf)));
  }
  if (!input.name.empty()) {
    const std::string_view name = trim(input.name);
    if (name.empty()) return Error(Errc::invalid_argument, "signer_name is blank");
    if (name.size() > kMaxSignatoryNameBytes)
      return Error(Errc::invalid_argument,
                   "signer_name is longer than " + std::to_string(kMaxSignatoryNameBytes) + " bytes");
    if (has_control(name)) return Error(Errc::invalid_argument, "signer_name holds control characters");
    out.name = std::string(name);
  }
  if (!input.email.empty()) {
    const std::string_view email = trim(input.email);
    if (!plausible_email(email)) return Error(Errc::invalid_argument, "signer_email is not an e-mail address");
    out.email = std::string(email);
  }
  return out;
}

core::Result<void> PersonalData::seal(const Signatory& signatory, store::DocumentRecord& rec) const {
  if (rec.id.empty()) return Error(Errc::invalid_argument, "personal data needs the document id first");
  store::DocumentRecord sealed;  // written into rec only when every field sealed
  if (signatory.cpf) {
    CARTORIO_TRY(sealed.signer_cpf, m_cipher->seal({kPersonalDataTable, kCpfColumn, rec.id}, signatory.cpf->digits()));
    sealed.signer_cpf_index = cpf_index(*signatory.cpf);
  }
  if (!signatory.name.empty()) {
    CARTORIO_TRY(sealed.signer_name, m_cipher->seal({kPersonalDataTable, kNameColumn, rec.id}, signatory.name));
  }
  if (!signatory.email.empty()) {
    CARTORIO_TRY(sealed.signer_email, m_cipher->seal({kPersonalDataTable, kEmailColumn, rec.id}, signatory.email));
    sealed.signer_email_index = m_index->index(kSignerEmailIndexDomain, pii::normalize_email(signatory.email));
  }
  rec.signer_cpf = std::move(sealed.signer_cpf);
  rec.signer_cpf_index = std::move(sealed.signer_cpf_index);
  rec.signer_name = std::move(sealed.signer_name);
  rec.signer_email = std::move(sealed.signer_email);
  rec.signer_email_index = std::move(sealed.signer_email_index);
  return core::ok();
}

core::Result<Signatory> PersonalData::open(const store::DocumentRecord& rec) const {
  Signatory out;
  if (!rec.signer_cpf.empty()) {
    CARTORIO_TRY(const std::string digits, open_field(*m_cipher, kCpfColumn, rec, rec.signer_cpf));
    auto cpf = pii::parse_cpf(digits);
    // What was sealed was a valid CPF: anything else is a damaged row, named without its value.
    if (!cpf) return Error(Errc::store_error, "document " + rec.id + ": signer_cpf does not hold a valid CPF");
    out.cpf = std::move(*cpf);
  }
  if (!rec.signer_name.empty()) {
    CARTORIO_TRY(out.name, open_field(*m_cipher, kNameColumn, rec, rec.signer_name));
  }
  if (!rec.signer_email.empty()) {
    CARTORIO_TRY(out.email, open_field(*m_cipher, kEmailColumn, rec, rec.signer_email));
  }
  return out;
}

std::string PersonalData::cpf_index(const pii::Cpf& cpf) const {
  return m_index->index(kSignerCpfIndexDomain, cpf.digits());
}

core::Result<std::vector<pii::EncryptedTable::Row>> DocumentTokenTable::rows_after(std::string_view after_id,
                                                                                   std::size_t limit) {
  const int bounded = static_cast<int>(std::min<std::size_t>(limit, 10000));  // the store's largest page
  CARTORIO_TRY(auto page, m_documents->list_document_tokens(std::string(after_id), bounded));
  std::vector<Row> out;
  out.reserve(page.size());
  for (auto& t : page) out.push_back(Row{std::move(t.id), std::move(t.tokens)});
  return out;
}

core::Result<bool> DocumentTokenTable::replace(const Row& current, const Row& resealed) {
  return m_documents->replace_document_tokens({current.id, current.tokens}, {resealed.id, resealed.tokens});
}

core::Result<pii::ReencryptStats> reencrypt_documents(const pii::FieldCipher& cipher,
                                                      store::DocumentRepository& documents,
                                                      const pii::ReencryptOptions& options) {
  DocumentTokenTable table(documents);
  return pii::reencrypt(cipher, kPersonalDataTable, table, options);
}

}  // namespace cartorio::documents
