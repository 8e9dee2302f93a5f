-- Crosswalk scope store, schema 3 (issue 18): identity choices. How a run handled each source
-- identity it was given a fix for (kept as the survivor of a merge, merged into another
-- account, migrated as a former user, given a new email, excluded), so a later wave that
-- would handle the same person differently, making a second account, is refused unless
-- forced; every replaced choice is logged with the run that replaced it (who, when).

ALTER TABLE scopes ADD COLUMN choices_version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE scope_choices (
    scope_id   INTEGER NOT NULL REFERENCES scopes (id),
    source_key TEXT    NOT NULL,
    handling   TEXT    NOT NULL CHECK (handling IN ('keep', 'merge', 'tombstone', 'new_email', 'exclude')),
    -- The account merged into, or the new email; empty otherwise.
    target     TEXT    NOT NULL DEFAULT '',
    -- The run that made the choice in force.
    run_id     INTEGER NOT NULL REFERENCES scope_runs (id),
    PRIMARY KEY (scope_id, source_key)
);

CREATE TABLE scope_choice_switches (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_id     INTEGER NOT NULL REFERENCES scopes (id),
    source_key   TEXT    NOT NULL,
    old_handling TEXT    NOT NULL,
    old_target   TEXT    NOT NULL,
    new_handling TEXT    NOT NULL,
    new_target   TEXT    NOT NULL,
    -- 1 when the run was forced past the refusal of this switch.
    forced       INTEGER NOT NULL,
    run_id       INTEGER NOT NULL REFERENCES scope_runs (id)
);

CREATE INDEX scope_choice_switches_by_scope ON scope_choice_switches (scope_id, id);
