-- Crosswalk scope store, schema 1 (issue 15). Lives beside the snapshot store's tables (same
-- file, its own migrations table), so nothing here reuses their names.
--
-- A scope's mappings are its current state; every change is a row of scope_revisions, which
-- holds each value exactly once: a mapping points at the revision holding its value, and a
-- revision's old value is the value of the revision it follows. Times are Unix seconds.

CREATE TABLE scopes (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    source_label       TEXT    NOT NULL,
    destination_label  TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    created_by         TEXT    NOT NULL,
    -- Counters, bumped in the transaction that makes a new version.
    policy_version     INTEGER NOT NULL DEFAULT 0,
    exceptions_version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE scope_jobs (
    id          INTEGER PRIMARY KEY,
    scope_id    INTEGER NOT NULL REFERENCES scopes (id),
    name        TEXT    NOT NULL,
    -- A UUID, hyphenated lowercase.
    transfer_id TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    runs        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (scope_id, name)
);

-- Directory contents, once per SHA-256 of their stored JSON: the same import twice stores
-- nothing new, whichever scope or job it came through. The body is that JSON in an LZ4 frame
-- (scope::contents): a quarter of its size.
CREATE TABLE directory_contents (
    hash     TEXT    PRIMARY KEY,
    body     BLOB    NOT NULL,
    accounts INTEGER NOT NULL,
    groups   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE scope_policies (
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    version  INTEGER NOT NULL,
    -- SHA-256 of body: a run with the same policy text reuses its version.
    hash     TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (scope_id, version),
    UNIQUE (scope_id, hash)
);

CREATE TABLE scope_runs (
    id                  INTEGER PRIMARY KEY,
    job_id              INTEGER NOT NULL REFERENCES scope_jobs (id),
    number              INTEGER NOT NULL,
    started_at          INTEGER NOT NULL,
    who                 TEXT    NOT NULL,
    added               INTEGER NOT NULL DEFAULT 0,
    changed             INTEGER NOT NULL DEFAULT 0,
    removed             INTEGER NOT NULL DEFAULT 0,
    unchanged           INTEGER NOT NULL DEFAULT 0,
    policy_version      INTEGER NOT NULL,
    exceptions_version  INTEGER NOT NULL,
    source_content      TEXT    NOT NULL REFERENCES directory_contents (hash),
    destination_content TEXT    NOT NULL REFERENCES directory_contents (hash),
    -- JSON array of the problems that belong to no single mapping.
    warnings            TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
    UNIQUE (job_id, number)
);

-- AUTOINCREMENT: a revision number is never reused, even after a purge removed the highest,
-- so a change feed cursor never points at two different revisions. SQLite runs one writer
-- at a time, so numbers are in commit order.
CREATE TABLE scope_revisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_id    INTEGER NOT NULL REFERENCES scopes (id),
    namespace   TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    -- The revision this one follows for the same mapping; NULL for its first.
    previous_id INTEGER REFERENCES scope_revisions (id),
    -- JSON of the new value; NULL when the revision removes the mapping.
    value       TEXT    CHECK (value IS NULL OR json_valid(value)),
    -- Made by a run, or by a caller.
    run_id      INTEGER REFERENCES scope_runs (id),
    caller      TEXT,
    at          INTEGER NOT NULL,
    who         TEXT    NOT NULL,
    reason      TEXT    NOT NULL CHECK (reason IN ('resolution', 'exception', 'manual', 'removal', 'purge')),
    CHECK ((run_id IS NULL) <> (caller IS NULL))
);

CREATE INDEX scope_revisions_feed ON scope_revisions (scope_id, id);
CREATE INDEX scope_revisions_history ON scope_revisions (scope_id, namespace, source_key, id);

CREATE TABLE scope_mappings (
    id                INTEGER PRIMARY KEY,
    scope_id          INTEGER NOT NULL REFERENCES scopes (id),
    namespace         TEXT    NOT NULL,
    source_key        TEXT    NOT NULL,
    -- The revision holding the current value (the last value, when removed).
    value_revision_id INTEGER NOT NULL REFERENCES scope_revisions (id),
    -- The latest revision.
    revision_id       INTEGER NOT NULL REFERENCES scope_revisions (id),
    -- The first 16 bytes of the SHA-256 of the value's JSON: a run compares these, so it
    -- never reads the values themselves to find what changed.
    value_hash        BLOB    NOT NULL,
    removed           INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
    removed_at        INTEGER,
    updated_at        INTEGER NOT NULL,
    -- The job whose run last wrote it; NULL when a caller did.
    job_id            INTEGER REFERENCES scope_jobs (id),
    UNIQUE (scope_id, namespace, source_key)
);

-- Alternate keys of live identity:user mappings (username, each address), normalised.
-- Prefixed forms are translated at query time and not stored.
CREATE TABLE scope_mapping_keys (
    scope_id   INTEGER NOT NULL,
    namespace  TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('username', 'email')),
    key        TEXT    NOT NULL,
    mapping_id INTEGER NOT NULL REFERENCES scope_mappings (id) ON DELETE CASCADE,
    PRIMARY KEY (scope_id, namespace, kind, key, mapping_id)
) WITHOUT ROWID;

CREATE INDEX scope_mapping_keys_by_mapping ON scope_mapping_keys (mapping_id);

CREATE TABLE scope_exceptions (
    scope_id    INTEGER NOT NULL REFERENCES scopes (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('account', 'group')),
    source      TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    PRIMARY KEY (scope_id, kind, source)
);

-- Every add and remove of an exception rule, each making the scope's next exceptions version.
CREATE TABLE scope_exception_changes (
    id          INTEGER PRIMARY KEY,
    scope_id    INTEGER NOT NULL REFERENCES scopes (id),
    version     INTEGER NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('add', 'remove')),
    kind        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    who         TEXT    NOT NULL,
    caller      TEXT    NOT NULL,
    UNIQUE (scope_id, version)
);

-- Per-namespace retention; a namespace without a row keeps everything forever.
CREATE TABLE scope_retention (
    scope_id  INTEGER NOT NULL REFERENCES scopes (id),
    namespace TEXT    NOT NULL,
    keep_days INTEGER CHECK (keep_days IS NULL OR keep_days >= 0),
    set_at    INTEGER NOT NULL,
    set_by    TEXT    NOT NULL,
    PRIMARY KEY (scope_id, namespace)
);
