-- The signatory of a document (the citizen it is for): personal data, sealed field by field
-- by the documents domain before it reaches the store (docs/personal-data.md). The token
-- columns hold pii::FieldCipher tokens ("pii1.<data key id>.<base64url>"), the *_index
-- columns keyed pii::BlindIndex digests (43 characters) for exact lookups. NULL: not given
-- (every document signed before this migration).
ALTER TABLE documents ADD COLUMN signer_cpf TEXT;
ALTER TABLE documents ADD COLUMN signer_cpf_index {{KEY_TEXT}};
ALTER TABLE documents ADD COLUMN signer_name TEXT;
ALTER TABLE documents ADD COLUMN signer_email TEXT;
ALTER TABLE documents ADD COLUMN signer_email_index {{KEY_TEXT}};
-- A citizen's documents, newest first, in keyset pages (as documents_owner_created).
CREATE INDEX documents_signer_cpf ON documents (signer_cpf_index, created_at, id);
CREATE INDEX documents_signer_email ON documents (signer_email_index);
