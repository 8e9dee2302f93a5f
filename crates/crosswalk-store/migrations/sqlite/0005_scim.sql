-- Crosswalk scope store, schema 5 (issue 19): the SCIM service's view of a scope's
-- destination directory. Each scope's accounts and groups as SCIM serves them, seeded from
-- the destination directory its runs stored and changed by identity providers from then on.
-- A resource's body is the application's JSON (the account or group and the SCIM-only
-- extras: the provider's link, address types...); the store keeps it, its look-up keys,
-- and one revision per change in the scope's change feed (namespaces scim:user,
-- scim:group, scim:conflict).

-- Which destination directory contents the scope's SCIM view was last seeded from.
CREATE TABLE scim_seeds (
    scope_id INTEGER PRIMARY KEY REFERENCES scopes (id),
    content  TEXT    NOT NULL
);

CREATE TABLE scim_resources (
    scope_id    INTEGER NOT NULL REFERENCES scopes (id),
    -- 'conflict': a provider's group membership change held for the admin.
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'group', 'conflict')),
    id          TEXT    NOT NULL,
    body        TEXT    NOT NULL CHECK (json_valid(body)),
    -- Deleted by the provider: kept (a migrated account's data stays), no longer served.
    hidden      INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    -- Bumped by every write: what If-Match is checked against inside the write.
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- The latest revision in the change feed; NULL for a seeded resource never changed.
    revision_id INTEGER REFERENCES scope_revisions (id),
    PRIMARY KEY (scope_id, kind, id)
) WITHOUT ROWID;

-- Look-up keys (folded user names, addresses, external ids, group names, member ids,
-- look-alike skeletons), as the application derives them.
CREATE TABLE scim_keys (
    scope_id INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    key_kind TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    PRIMARY KEY (scope_id, kind, key_kind, key, id)
) WITHOUT ROWID;

CREATE INDEX scim_keys_by_resource ON scim_keys (scope_id, kind, id);
