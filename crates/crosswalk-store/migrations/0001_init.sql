-- Crosswalk store, schema 1.
--
-- Directories are imported snapshots: a re-import is a new directory row, so every run
-- keeps pointing at exactly the identities it resolved. Jobs are named; every
-- `crosswalk run` adds a run to its job and nothing is ever overwritten. Mappings belong
-- to a run and carry the report's twelve columns denormalised, so the report is one
-- indexed scan.

CREATE TABLE directories (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    -- Free text: `source`, `destination`, `jira-server`...
    label         TEXT    NOT NULL DEFAULT '',
    -- Where it was imported from (a file path).
    origin        TEXT    NOT NULL DEFAULT '',
    -- Unix seconds, given by the caller.
    imported_at   INTEGER NOT NULL,
    account_count INTEGER NOT NULL,
    group_count   INTEGER NOT NULL
);

CREATE TABLE directory_accounts (
    directory_id     INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    -- Position in the directory: what mappings' source and target indexes point at.
    idx              INTEGER NOT NULL,
    id               TEXT    NOT NULL,
    username         TEXT,
    email            TEXT,
    -- JSON array of strings.
    alias_emails     TEXT    NOT NULL DEFAULT '[]',
    display_name     TEXT,
    given_name       TEXT,
    family_name      TEXT,
    active           INTEGER NOT NULL CHECK (active IN (0, 1)),
    source_directory TEXT,
    email_verified   INTEGER CHECK (email_verified IN (0, 1)),
    PRIMARY KEY (directory_id, idx)
) WITHOUT ROWID;

CREATE UNIQUE INDEX directory_accounts_by_id ON directory_accounts (directory_id, id);

CREATE TABLE directory_groups (
    directory_id INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    display_name TEXT,
    -- JSON array of member ids (accounts or nested groups).
    members      TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (directory_id, idx)
);

CREATE UNIQUE INDEX directory_groups_by_id ON directory_groups (directory_id, id);

CREATE TABLE jobs (
    id                       INTEGER PRIMARY KEY,
    name                     TEXT    NOT NULL UNIQUE,
    -- The (source, destination) pair the job maps: the pair of its latest run.
    source_directory_id      INTEGER NOT NULL REFERENCES directories (id),
    destination_directory_id INTEGER NOT NULL REFERENCES directories (id),
    -- started_at of its first run.
    created_at               INTEGER NOT NULL
);

CREATE TABLE runs (
    id                       INTEGER PRIMARY KEY,
    job_id                   INTEGER NOT NULL REFERENCES jobs (id),
    -- 1, 2, 3... within the job.
    number                   INTEGER NOT NULL,
    source_directory_id      INTEGER NOT NULL REFERENCES directories (id),
    destination_directory_id INTEGER NOT NULL REFERENCES directories (id),
    started_at               INTEGER NOT NULL,
    policy                   TEXT    NOT NULL CHECK (json_valid(policy)),
    exceptions               TEXT    NOT NULL CHECK (json_valid(exceptions)),
    -- JSON array of problems that belong to no single mapping.
    warnings                 TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
    -- JSON of crosswalk_core::Summary.
    summary                  TEXT    NOT NULL CHECK (json_valid(summary)),
    mapping_count            INTEGER NOT NULL,
    UNIQUE (job_id, number)
);

CREATE TABLE mappings (
    -- Allocated by the writer in report order (kind, source_id) within a run.
    id                         INTEGER PRIMARY KEY,
    run_id                     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    -- Position in the engine's list of mappings.
    seq                        INTEGER NOT NULL,
    kind                       TEXT    NOT NULL CHECK (kind IN ('account', 'group')),
    source_index               INTEGER NOT NULL,
    -- The report's spelling: Exception, Email, ID, Username, Name, Provision...
    resolution                 TEXT    NOT NULL,
    target_kind                TEXT    CHECK (target_kind IN ('existing', 'provision', 'passthrough', 'external', 'named')),
    target_index               INTEGER,
    target_id                  TEXT,
    message                    TEXT    NOT NULL,
    -- JSON array of flag names (snake_case).
    flags                      TEXT    NOT NULL DEFAULT '[]',
    -- Reserved: a score for ranked matching.
    confidence                 REAL,
    source_id                  TEXT    NOT NULL,
    source_username            TEXT    NOT NULL,
    source_name                TEXT    NOT NULL,
    source_display_name        TEXT    NOT NULL,
    destination_id             TEXT    NOT NULL,
    destination_username       TEXT    NOT NULL,
    destination_name           TEXT    NOT NULL,
    destination_display_name   TEXT    NOT NULL
);

-- The report's order within a run, and lookup of one mapping by source id.
CREATE UNIQUE INDEX mappings_report ON mappings (run_id, kind, source_id);

CREATE TABLE evidence (
    mapping_id        INTEGER NOT NULL REFERENCES mappings (id) ON DELETE CASCADE,
    ord               INTEGER NOT NULL,
    method            TEXT    NOT NULL,
    source_field      TEXT    NOT NULL,
    destination_field TEXT    NOT NULL,
    match_key         TEXT    NOT NULL,
    note              TEXT    NOT NULL,
    PRIMARY KEY (mapping_id, ord)
) WITHOUT ROWID;

CREATE TABLE candidates (
    mapping_id           INTEGER NOT NULL REFERENCES mappings (id) ON DELETE CASCADE,
    ord                  INTEGER NOT NULL,
    destination_index    INTEGER NOT NULL,
    method               TEXT    NOT NULL,
    reason               TEXT    NOT NULL,
    -- The candidate as the destination directory had it when the run was saved.
    destination_id       TEXT    NOT NULL,
    destination_username TEXT    NOT NULL,
    -- Email for accounts, name for groups.
    destination_name     TEXT    NOT NULL,
    PRIMARY KEY (mapping_id, ord)
) WITHOUT ROWID;
