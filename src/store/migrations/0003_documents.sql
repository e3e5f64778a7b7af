-- Signed documents (flow 1): one row per signed PDF. The PDF itself lies in the object
-- store under object_key; this row is what lists, digest lookups and download links read.
-- The id ("doc_" + 26 base32 characters) is made by the domain code, never by SQL.
CREATE TABLE documents (
  id              {{KEY_TEXT}} PRIMARY KEY,
  owner           {{KEY_TEXT}} NOT NULL,            -- principal subject ("user:alice")
  title           TEXT NOT NULL DEFAULT '',
  original_sha256 {{KEY_TEXT}} NOT NULL,            -- lowercase hex of the uploaded PDF
  signed_sha256   {{KEY_TEXT}} NOT NULL,            -- lowercase hex of the signed PDF
  signed_size     BIGINT NOT NULL CHECK (signed_size >= 0),
  object_key      TEXT NOT NULL,
  -- The per-document certificate: it must have been recorded before the document is.
  signer_serial   {{KEY_TEXT}} NOT NULL REFERENCES certificates (serial),
  level           TEXT NOT NULL CHECK (level IN ('B-B', 'B-T', 'B-LT', 'B-LTA')),
  created_at      BIGINT NOT NULL
);
-- Listing newest first, per owner or for everyone; id breaks ties so keyset pages are exact.
CREATE INDEX documents_owner_created ON documents (owner, created_at, id);
CREATE INDEX documents_created ON documents (created_at, id);
CREATE INDEX documents_signed_sha256 ON documents (signed_sha256);
CREATE INDEX documents_original_sha256 ON documents (original_sha256);
CREATE INDEX documents_signer_serial ON documents (signer_serial);
