-- Initial schema. Shared by SQLite and PostgreSQL; double-brace tokens are filled per
-- backend (store/sql/sql_dialect.h). Times are Unix seconds (UTC) in BIGINT columns.
-- KEY_TEXT is text compared byte by byte (PostgreSQL: COLLATE "C"), so ORDER BY
-- serial/label/name gives the same order on every backend and any server locale.

-- Every certificate the hierarchy issued. The primary key makes serials unique across
-- issuers: a second insert fails in the database, with no read-then-write race.
CREATE TABLE certificates (
  serial            {{KEY_TEXT}} PRIMARY KEY,
  issuer            {{KEY_TEXT}} NOT NULL,
  profile           {{KEY_TEXT}} NOT NULL,
  subject           TEXT NOT NULL,
  sans              TEXT NOT NULL DEFAULT '[]',  -- JSON array of "DNS:...", "IP:...", "email:..."
  not_before        BIGINT NOT NULL,
  not_after         BIGINT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'good' CHECK (status IN ('good', 'revoked')),
  revocation_reason INTEGER NOT NULL DEFAULT 0,
  revoked_at        BIGINT NOT NULL DEFAULT 0,
  requester         TEXT NOT NULL DEFAULT '',
  pem               TEXT NOT NULL,
  created_at        BIGINT NOT NULL
);
CREATE INDEX certificates_issuer_status ON certificates (issuer, status);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_profile ON certificates (profile);

-- Last CRL number handed out per issuer; bumped by one upsert so it never repeats.
CREATE TABLE crl_numbers (
  issuer      {{KEY_TEXT}} PRIMARY KEY,
  last_number BIGINT NOT NULL
);

-- Append-only audit trail; id order is append order (readers page with id > after_id).
CREATE TABLE audit_events (
  id         {{ID_PK}},
  time       BIGINT NOT NULL,
  actor      {{KEY_TEXT}} NOT NULL,
  action     {{KEY_TEXT}} NOT NULL,
  target     {{KEY_TEXT}} NOT NULL DEFAULT '',
  result     TEXT NOT NULL DEFAULT '',
  source     TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT '',
  details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_actor ON audit_events (actor);
CREATE INDEX audit_events_action ON audit_events (action);
CREATE INDEX audit_events_target ON audit_events (target);

-- Keys known to the KeyStore, by label.
CREATE TABLE key_records (
  label      {{KEY_TEXT}} PRIMARY KEY,
  uri        TEXT NOT NULL,
  backend    TEXT NOT NULL,
  algorithm  TEXT NOT NULL,
  purpose    TEXT NOT NULL DEFAULT '',
  state      TEXT NOT NULL DEFAULT 'active',
  created_at BIGINT NOT NULL
);

-- The CAs of the hierarchy and their current certificates.
CREATE TABLE authorities (
  name       {{KEY_TEXT}} PRIMARY KEY,
  cert_pem   TEXT NOT NULL,
  key_label  TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
