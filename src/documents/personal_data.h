// The signatory of a document — the citizen it is for — as personal data: validated from a
// request, sealed into store::DocumentRecord's signer_* columns before the insert (one
// pii::FieldCipher token per field, bound to table "documents", the column and the document
// id; pii::BlindIndex digests beside the CPF and the e-mail), opened again for those allowed
// to see it, and looked up by CPF through the digest. The store only ever holds tokens and
// digests (docs/personal-data.md).
//
// The signatory is not the signing party: the name on the stamp and in the per-document
// certificate (SignDocumentRequest::signer_name) is public — the certificate is published
// in the transparency log — and never comes from here.
//
// Plaintexts are returned as std::string; they are personal data all the same: never logged,
// never in an error message (no message here contains one), never in an audit event.
#pragma once

#include "core/error.h"
#include "pii/blind_index.h"
#include "pii/cpf.h"
#include "pii/field_cipher.h"
#include "pii/reencrypt.h"
#include "store/store.h"

#include <optional>
#include <string>
#include <string_view>

namespace cartorio::documents {

// The tokens' FieldContext::table and the blind-index domains: fixed in code, since the
// tokens' associated data and the digests depend on them.
inline constexpr std::string_view kPersonalDataTable = "documents";
inline constexpr std::string_view kSignerCpfIndexDomain = "documents.signer_cpf";
inline constexpr std::string_view kSignerEmailIndexDomain = "documents.signer_email";

inline constexpr std::size_t kMaxSignatoryNameBytes = 200;
inline constexpr std::size_t kMaxEmailBytes = 254;  // RFC 5321's path limit, less the brackets

// What a request says about its signatory, as received; every field optional.
struct SignatoryInput {
  std::string cpf;    // "529.982.247-25" or "52998224725"
  std::string name;
  std::string email;
};

// A validated (or opened) signatory; empty fields were not given.
struct Signatory {
  std::optional<pii::Cpf> cpf;
  std::string name;
  std::string email;

  bool empty() const { return !cpf && name.empty() && email.empty(); }
};

// Validates what was received. Surrounding ASCII whitespace is trimmed from every field (on
// purpose: form fields carry it); an empty field is "not given". Errc::invalid_cpf
// (pii::parse_cpf); Errc::invalid_argument for a name over kMaxSignatoryNameBytes or with
// control characters, or an e-mail address that fails a basic check (one '@', a non-empty
// local part, a dotted domain, no spaces, controls or <>()[],;:"\). No message repeats a value.
core::Result<Signatory> parse_signatory(const SignatoryInput& input);

// Seals and opens the signer_* columns of documents. Thread-safety: as the cipher (const).
class PersonalData {
 public:
  // Both borrowed: they must outlive this object.
  PersonalData(const pii::FieldCipher& cipher, const pii::BlindIndex& index) : m_cipher(&cipher), m_index(&index) {}

  // Fills rec.signer_* for `signatory` (fields not given become ""); rec.id must be set:
  // it is the tokens' row id. Errors of the cipher (key ring) pass through.
  core::Result<void> seal(const Signatory& signatory, store::DocumentRecord& rec) const;
  // The signatory rec's tokens hold (empty when none). Errc::store_error for a token that
  // does not open for this row (damaged, moved, or under a key the ring lost).
  core::Result<Signatory> open(const store::DocumentRecord& rec) const;
  // The digest DocumentFilter::signer_cpf_index looks `cpf` up with.
  std::string cpf_index(const pii::Cpf& cpf) const;

  const pii::FieldCipher& cipher() const { return *m_cipher; }

 private:
  const pii::FieldCipher* m_cipher;
  const pii::BlindIndex* m_index;
};

// pii::EncryptedTable over the documents table (store::DocumentRepository's
// list_document_tokens / replace_document_tokens), for the re-encryption pass.
class DocumentTokenTable final : public pii::EncryptedTable {
 public:
  explicit DocumentTokenTable(store::DocumentRepository& documents) : m_documents(&documents) {}

  core::Result<std::vector<Row>> rows_after(std::string_view after_id, std::size_t limit) override;
  core::Result<bool> replace(const Row& current, const Row& resealed) override;

 private:
  store::DocumentRepository* m_documents;
};

// Re-seals, under the active data key, every signatory token of every document still under
// an older one (pii::reencrypt over DocumentTokenTable).
core::Result<pii::ReencryptStats> reencrypt_documents(const pii::FieldCipher& cipher,
                                                      store::DocumentRepository& documents,
                                                      const pii::ReencryptOptions& options = {});

}  // namespace cartorio::documents
