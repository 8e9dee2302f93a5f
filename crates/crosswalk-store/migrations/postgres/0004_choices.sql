-- Crosswalk scope store on PostgreSQL, schema 2 (issue 18): identity choices, as in
-- migrations/sqlite/0004_choices.sql. How a run handled each source identity it was given a
-- fix for, so a later wave that would handle the same person differently (a second account)
-- is refused unless forced; every replaced choice is logged with the run that replaced it.

ALTER TABLE scopes ADD COLUMN choices_version bigint NOT NULL DEFAULT 0;

CREATE TABLE scope_choices (
    scope_id   bigint NOT NULL REFERENCES scopes (id),
    source_key text COLLATE "C" NOT NULL,
    handling   text   NOT NULL CHECK (handling IN ('keep', 'merge', 'tombstone', 'new_email', 'exclude')),
    -- The account merged into, or the new email; empty otherwise.
    target     text   NOT NULL DEFAULT '',
    -- The run that made the choice in force.
    run_id     bigint NOT NULL REFERENCES scope_runs (id),
    PRIMARY KEY (scope_id, source_key)
);

CREATE TABLE scope_choice_switches (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope_id     bigint  NOT NULL REFERENCES scopes (id),
    source_key   text COLLATE "C" NOT NULL,
    old_handling text    NOT NULL,
    old_target   text    NOT NULL,
    new_handling text    NOT NULL,
    new_target   text    NOT NULL,
    -- True when the run was forced past the refusal of this switch.
    forced       boolean NOT NULL,
    run_id       bigint  NOT NULL REFERENCES scope_runs (id)
);

CREATE INDEX scope_choice_switches_by_scope ON scope_choice_switches (scope_id, id);
