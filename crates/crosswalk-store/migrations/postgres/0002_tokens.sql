-- Crosswalk scope store, schema 2 (issue 16), PostgreSQL dialect: API tokens, as in
-- migrations/sqlite/0002_tokens.sql. A token is `cw_<public id>_<secret>`; only the SHA-256
-- of the secret is kept, so the database never holds a usable token. A token with no scope
-- is an instance admin token. Revoked tokens are kept (revoked_at set) so the list says who
-- had access and when it ended. Times are whole seconds, as SQLite keeps them.

CREATE TABLE api_tokens (
    public_id   text COLLATE "C" PRIMARY KEY,
    -- NULL: the instance admin token, which manages scopes and tokens.
    scope_name  text COLLATE "C" REFERENCES scopes (name),
    role        text        NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    label       text        NOT NULL,
    -- Hex SHA-256 of the secret part.
    secret_hash text        NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    revoked_at  timestamptz
);

CREATE INDEX api_tokens_by_scope ON api_tokens (scope_name, created_at);
