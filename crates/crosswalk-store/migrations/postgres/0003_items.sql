-- Crosswalk scope store on PostgreSQL, schema 2 (issue 17): item references, as in SQLite's
-- 0003_items.sql. `seq` is a reference's place in the import sorted by (container, item,
-- role, type, identity) and the keyset cursor of affected-item pages; an import replaces a
-- scope's whole set.

CREATE TABLE scope_item_refs (
    scope_id        bigint  NOT NULL REFERENCES scopes (id),
    seq             bigint  NOT NULL,
    container       text COLLATE "C" NOT NULL,
    container_type  text    NOT NULL,
    item            text COLLATE "C" NOT NULL,
    item_type       text    NOT NULL,
    title           text    NOT NULL,
    role            text COLLATE "C" NOT NULL,
    kind            text    NOT NULL CHECK (kind IN ('account', 'group')),
    identity        text COLLATE "C" NOT NULL,
    identity_folded text COLLATE "C" NOT NULL,
    permissions     bigint  NOT NULL CHECK (permissions >= 0),
    PRIMARY KEY (scope_id, seq)
);

CREATE INDEX scope_item_refs_by_identity ON scope_item_refs (scope_id, kind, identity, seq);
CREATE INDEX scope_item_refs_by_folded ON scope_item_refs (scope_id, kind, identity_folded, seq);

CREATE TABLE scope_item_imports (
    scope_id bigint PRIMARY KEY REFERENCES scopes (id),
    refs     bigint      NOT NULL,
    items    bigint      NOT NULL,
    at       timestamptz NOT NULL,
    who      text        NOT NULL
);
