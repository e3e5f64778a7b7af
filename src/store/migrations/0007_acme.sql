-- ACME (RFC 8555; docs/acme.md): accounts, orders, authorizations and challenges. Ids are
-- random URL-safe strings made by the acme module; statuses are RFC 8555 7.1.6's. JSON
-- columns (jwk, contact, identifiers, error) are written and read by the acme module.
CREATE TABLE acme_accounts (
  id             {{KEY_TEXT}} PRIMARY KEY,
  key_thumbprint {{KEY_TEXT}} NOT NULL UNIQUE,  -- RFC 7638 thumbprint of the account key
  jwk            TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
  contact        TEXT NOT NULL DEFAULT '[]',
  eab_kid        {{KEY_TEXT}},                  -- NULL without External Account Binding
  created_at     BIGINT NOT NULL
);
-- One account per External Account Binding key.
CREATE UNIQUE INDEX acme_accounts_eab_kid ON acme_accounts (eab_kid) WHERE eab_kid IS NOT NULL;

CREATE TABLE acme_orders (
  id                 {{KEY_TEXT}} PRIMARY KEY,
  account_id         {{KEY_TEXT}} NOT NULL REFERENCES acme_accounts (id),
  status             TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
  expires_at         BIGINT NOT NULL,
  identifiers        TEXT NOT NULL,
  not_before         BIGINT,
  not_after          BIGINT,
  certificate_serial {{KEY_TEXT}},  -- set when valid
  error              TEXT NOT NULL DEFAULT '',
  created_at         BIGINT NOT NULL
);
CREATE INDEX acme_orders_account ON acme_orders (account_id, created_at);
CREATE INDEX acme_orders_certificate ON acme_orders (certificate_serial);

CREATE TABLE acme_authorizations (
  id               {{KEY_TEXT}} PRIMARY KEY,
  order_id         {{KEY_TEXT}} NOT NULL REFERENCES acme_orders (id),
  position         INTEGER NOT NULL,  -- order of the identifiers in the order
  account_id       {{KEY_TEXT}} NOT NULL REFERENCES acme_accounts (id),
  identifier_type  TEXT NOT NULL CHECK (identifier_type IN ('dns', 'ip')),
  identifier_value TEXT NOT NULL,
  wildcard         INTEGER NOT NULL CHECK (wildcard IN (0, 1)),
  status           TEXT NOT NULL
                   CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
  expires_at       BIGINT NOT NULL
);
CREATE INDEX acme_authorizations_order ON acme_authorizations (order_id, position);

CREATE TABLE acme_challenges (
  id               {{KEY_TEXT}} PRIMARY KEY,
  authorization_id {{KEY_TEXT}} NOT NULL REFERENCES acme_authorizations (id),
  position         INTEGER NOT NULL,
  type             TEXT NOT NULL CHECK (type IN ('http-01', 'tls-alpn-01', 'dns-01')),
  token            TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
  validated_at     BIGINT,
  error            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX acme_challenges_authorization ON acme_challenges (authorization_id, position);
