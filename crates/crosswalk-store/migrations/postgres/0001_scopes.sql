-- Crosswalk scope store, schema 1 (issue 15), PostgreSQL dialect. The same model as
-- migrations/sqlite/0001_scopes.sql: ids are identity columns read back with RETURNING,
-- times are timestamptz, digests bytea, values jsonb. Names and keys are COLLATE "C": they
-- sort by bytes, as in SQLite, whatever the database's locale, so paging and listings agree.
--
-- A scope's mappings are its current state; every change is a row of scope_revisions, which
-- holds each value exactly once: a mapping points at the revision holding its value, and a
-- revision's old value is the value of the revision it follows.

CREATE TABLE scopes (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text COLLATE "C" NOT NULL UNIQUE,
    source_label       text        NOT NULL,
    destination_label  text        NOT NULL,
    created_at         timestamptz NOT NULL,
    created_by         text        NOT NULL,
    -- Counters, bumped in the transaction that makes a new version.
    policy_version     bigint      NOT NULL DEFAULT 0,
    exceptions_version bigint      NOT NULL DEFAULT 0
);

CREATE TABLE scope_jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id    bigint      NOT NULL REFERENCES scopes (id),
    name        text COLLATE "C" NOT NULL,
    transfer_id uuid        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    runs        bigint      NOT NULL DEFAULT 0,
    UNIQUE (scope_id, name)
);

-- Directory contents, once per SHA-256 of their stored JSON: the same import twice stores
-- nothing new, whichever scope or job it came through. The body is the exact text that was
-- hashed, in an LZ4 frame (scope::contents): a quarter of its size.
CREATE TABLE directory_contents (
    hash     text   PRIMARY KEY,
    body     bytea  NOT NULL,
    accounts bigint NOT NULL,
    groups   bigint NOT NULL
);

CREATE TABLE scope_policies (
    scope_id bigint NOT NULL REFERENCES scopes (id),
    version  bigint NOT NULL,
    -- SHA-256 of body: a run with the same policy text reuses its version.
    hash     text   NOT NULL,
    body     text   NOT NULL,
    PRIMARY KEY (scope_id, version),
    UNIQUE (scope_id, hash)
);

CREATE TABLE scope_runs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id              bigint      NOT NULL REFERENCES scope_jobs (id),
    number              bigint      NOT NULL,
    started_at          timestamptz NOT NULL,
    who                 text        NOT NULL,
    added               bigint      NOT NULL DEFAULT 0,
    changed             bigint      NOT NULL DEFAULT 0,
    removed             bigint      NOT NULL DEFAULT 0,
    unchanged           bigint      NOT NULL DEFAULT 0,
    policy_version      bigint      NOT NULL,
    exceptions_version  bigint      NOT NULL,
    source_content      text        NOT NULL REFERENCES directory_contents (hash),
    destination_content text        NOT NULL REFERENCES directory_contents (hash),
    -- The problems that belong to no single mapping.
    warnings            jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(warnings) = 'array'),
    UNIQUE (job_id, number)
);

CREATE INDEX scope_runs_contents ON scope_runs (source_content, destination_content);

-- An identity never reuses a number, even after a purge removed the highest, so a change feed
-- cursor never points at two different revisions. Numbers are taken at insert, not commit;
-- every write to a scope holds its scope row's lock (FOR UPDATE), so within one scope, the
-- only order a feed reads, numbers are in commit order.
CREATE TABLE scope_revisions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id    bigint      NOT NULL REFERENCES scopes (id),
    namespace   text COLLATE "C" NOT NULL,
    source_key  text COLLATE "C" NOT NULL,
    -- The revision this one follows for the same mapping; NULL for its first.
    previous_id bigint      REFERENCES scope_revisions (id),
    -- The new value; NULL when the revision removes the mapping.
    value       jsonb,
    -- Made by a run, or by a caller.
    run_id      bigint      REFERENCES scope_runs (id),
    caller      text,
    at          timestamptz NOT NULL,
    who         text        NOT NULL,
    reason      text        NOT NULL CHECK (reason IN ('resolution', 'exception', 'manual', 'removal', 'purge')),
    CHECK ((run_id IS NULL) <> (caller IS NULL))
);

CREATE INDEX scope_revisions_feed ON scope_revisions (scope_id, id);
CREATE INDEX scope_revisions_history ON scope_revisions (scope_id, namespace, source_key, id);

CREATE TABLE scope_mappings (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id          bigint      NOT NULL REFERENCES scopes (id),
    namespace         text COLLATE "C" NOT NULL,
    source_key        text COLLATE "C" NOT NULL,
    -- The revision holding the current value (the last value, when removed).
    value_revision_id bigint      NOT NULL REFERENCES scope_revisions (id),
    -- The latest revision.
    revision_id       bigint      NOT NULL REFERENCES scope_revisions (id),
    -- The first 16 bytes of the SHA-256 of the value's JSON: a run compares these, so it
    -- never reads the values themselves to find what changed.
    value_hash        bytea       NOT NULL CHECK (octet_length(value_hash) = 16),
    removed           boolean     NOT NULL DEFAULT false,
    removed_at        timestamptz,
    updated_at        timestamptz NOT NULL,
    -- The job whose run last wrote it; NULL when a caller did.
    job_id            bigint      REFERENCES scope_jobs (id),
    -- Also the keyset paging index: (scope, namespace) then source key order.
    UNIQUE (scope_id, namespace, source_key)
);

-- Purge looks for mappings removed before a cutoff.
CREATE INDEX scope_mappings_removed ON scope_mappings (scope_id, namespace, removed_at) WHERE removed;

-- Alternate keys of live identity:user mappings (username, each address), normalised.
-- Prefixed forms are translated at query time and not stored.
CREATE TABLE scope_mapping_keys (
    scope_id   bigint NOT NULL,
    namespace  text COLLATE "C" NOT NULL,
    kind       text   NOT NULL CHECK (kind IN ('username', 'email')),
    key        text COLLATE "C" NOT NULL,
    mapping_id bigint NOT NULL REFERENCES scope_mappings (id) ON DELETE CASCADE,
    PRIMARY KEY (scope_id, namespace, kind, key, mapping_id)
);

CREATE INDEX scope_mapping_keys_by_mapping ON scope_mapping_keys (mapping_id);

CREATE TABLE scope_exceptions (
    scope_id    bigint NOT NULL REFERENCES scopes (id),
    kind        text   NOT NULL CHECK (kind IN ('account', 'group')),
    source      text COLLATE "C" NOT NULL,
    destination text   NOT NULL,
    PRIMARY KEY (scope_id, kind, source)
);

-- Every add and remove of an exception rule, each making the scope's next exceptions version.
CREATE TABLE scope_exception_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id    bigint      NOT NULL REFERENCES scopes (id),
    version     bigint      NOT NULL,
    action      text        NOT NULL CHECK (action IN ('add', 'remove')),
    kind        text        NOT NULL,
    source      text COLLATE "C" NOT NULL,
    destination text        NOT NULL,
    at          timestamptz NOT NULL,
    who         text        NOT NULL,
    caller      text        NOT NULL,
    UNIQUE (scope_id, version)
);

-- Per-namespace retention; a namespace without a row keeps everything forever.
CREATE TABLE scope_retention (
    scope_id  bigint      NOT NULL REFERENCES scopes (id),
    namespace text COLLATE "C" NOT NULL,
    keep_days bigint      CHECK (keep_days IS NULL OR keep_days >= 0),
    set_at    timestamptz NOT NULL,
    set_by    text        NOT NULL,
    PRIMARY KEY (scope_id, namespace)
);
