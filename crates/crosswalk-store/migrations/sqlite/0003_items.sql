-- Crosswalk scope store, schema 3 (issue 17): item references. Which content items (pages,
-- issues, files...) refer to which identities, in which role. An import replaces a scope's
-- whole set; `seq` is a reference's place in the import sorted by (container, item, role,
-- type, identity), and the keyset cursor of affected-item pages. References keep the identity
-- as the content names it; they are matched to mappings when read (`identity` against the
-- source key, `identity_folded` against the alternate keys in scope_mapping_keys).

CREATE TABLE scope_item_refs (
    scope_id        INTEGER NOT NULL REFERENCES scopes (id),
    seq             INTEGER NOT NULL,
    container       TEXT    NOT NULL,
    container_type  TEXT    NOT NULL,
    item            TEXT    NOT NULL,
    item_type       TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('account', 'group')),
    identity        TEXT    NOT NULL,
    identity_folded TEXT    NOT NULL,
    permissions     INTEGER NOT NULL CHECK (permissions >= 0),
    PRIMARY KEY (scope_id, seq)
) WITHOUT ROWID;

CREATE INDEX scope_item_refs_by_identity ON scope_item_refs (scope_id, kind, identity, seq);
CREATE INDEX scope_item_refs_by_folded ON scope_item_refs (scope_id, kind, identity_folded, seq);

-- The last import per scope: how many references and items, when, who.
CREATE TABLE scope_item_imports (
    scope_id   INTEGER PRIMARY KEY REFERENCES scopes (id),
    refs       INTEGER NOT NULL,
    items      INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    who        TEXT    NOT NULL
);
