-- The public transparency log (docs/audit.md): one row per issued certificate and per
-- signed document, appended in the same transaction as the certificate or the document.
-- The leaf a row stands for is built from the row it names (its immutable columns), so a
-- change to that row shows in the log's Merkle tree as well. id order is append order.
CREATE TABLE transparency_entries (
  id   {{ID_PK}},
  kind TEXT NOT NULL CHECK (kind IN ('certificate', 'document')),
  ref  {{KEY_TEXT}} NOT NULL,  -- certificate serial or document id
  time BIGINT NOT NULL
);
CREATE UNIQUE INDEX transparency_entries_ref ON transparency_entries (kind, ref);

-- Certificates issued before this migration join the log in issuance order.
INSERT INTO transparency_entries (kind, ref, time)
  SELECT 'certificate', serial, created_at FROM certificates ORDER BY created_at, serial;
INSERT INTO transparency_entries (kind, ref, time)
  SELECT 'document', id, created_at FROM documents ORDER BY created_at, id;
