-- Identity: users, MFA, login sessions (refresh token families), API keys and the keys
-- that sign access tokens. No secret is stored in clear (see store.h and docs/identity.md).
-- Booleans are INTEGER 0/1 on both engines.

-- username_key is the ASCII-lowercased username (computed by the store, not by SQL's
-- lower(), whose result depends on the engine and its locale): its UNIQUE constraint makes
-- "Alice" and "alice" one account without a read-then-insert race.
CREATE TABLE users (
  id             {{KEY_TEXT}} PRIMARY KEY,
  username       TEXT NOT NULL,
  username_key   {{KEY_TEXT}} NOT NULL UNIQUE,
  display_name   TEXT NOT NULL DEFAULT '',
  roles          TEXT NOT NULL DEFAULT '[]',  -- JSON array of role names
  password_hash  TEXT NOT NULL,               -- PHC string (argon2id)
  totp_secret    TEXT NOT NULL DEFAULT '',    -- sealed (AES-256-GCM), base64; '' when none
  totp_enabled   INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1)),
  totp_last_step BIGINT NOT NULL DEFAULT 0,
  failed_logins  INTEGER NOT NULL DEFAULT 0,
  locked_until   BIGINT NOT NULL DEFAULT 0,
  disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);

-- Single-use MFA recovery codes, keyed HMAC of the code (never the code).
CREATE TABLE recovery_codes (
  user_id   {{KEY_TEXT}} NOT NULL REFERENCES users (id),
  code_hash {{KEY_TEXT}} NOT NULL,
  used_at   BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, code_hash)
);

-- A login session; access tokens carry its id as "sid" and stop verifying once it is revoked.
CREATE TABLE token_families (
  id         {{KEY_TEXT}} PRIMARY KEY,
  user_id    {{KEY_TEXT}} NOT NULL REFERENCES users (id),
  amr        TEXT NOT NULL DEFAULT '[]',  -- JSON array (RFC 8176 method names)
  created_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX token_families_user ON token_families (user_id);

-- Rotating refresh tokens: SHA-256 of the token, used once each.
CREATE TABLE refresh_tokens (
  id         {{KEY_TEXT}} PRIMARY KEY,
  family_id  {{KEY_TEXT}} NOT NULL REFERENCES token_families (id),
  user_id    {{KEY_TEXT}} NOT NULL REFERENCES users (id),
  token_hash {{KEY_TEXT}} NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT NOT NULL DEFAULT 0,
  revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- API keys (client credentials): the prefix is public, the secret is stored as SHA-256.
CREATE TABLE api_keys (
  prefix       {{KEY_TEXT}} PRIMARY KEY,
  secret_hash  TEXT NOT NULL,
  name         TEXT NOT NULL,
  roles        TEXT NOT NULL DEFAULT '[]',
  owner        TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL DEFAULT 0,
  revoked_at   BIGINT NOT NULL DEFAULT 0
);

-- Access-token signing keys (the private key lives in the KeyStore). retired_at = 0: current.
CREATE TABLE signing_keys (
  kid        {{KEY_TEXT}} PRIMARY KEY,
  algorithm  TEXT NOT NULL,
  key_label  TEXT NOT NULL,
  key_uri    TEXT NOT NULL,
  public_key TEXT NOT NULL,  -- SubjectPublicKeyInfo DER, base64
  created_at BIGINT NOT NULL,
  retired_at BIGINT NOT NULL DEFAULT 0
);
