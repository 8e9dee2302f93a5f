-- Crosswalk scope store, schema 2 (issue 16): API tokens. A token is `cw_<public id>_<secret>`;
-- only the SHA-256 of the secret is kept, so the file never holds a usable token. A token
-- with no scope is an instance admin token. Revoked tokens are kept (revoked_at set) so the
-- list says who had access and when it ended.

CREATE TABLE api_tokens (
    public_id   TEXT    PRIMARY KEY,
    -- NULL: the instance admin token, which manages scopes and tokens.
    scope_name  TEXT REFERENCES scopes (name),
    role        TEXT    NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    label       TEXT    NOT NULL,
    -- Hex SHA-256 of the secret part.
    secret_hash TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    revoked_at  INTEGER
);

CREATE INDEX api_tokens_by_scope ON api_tokens (scope_name, created_at);
